"""(not built yet)"""
routes: list = []
