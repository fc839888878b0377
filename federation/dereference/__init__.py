"""Fetching remote objects and storing them (accounts, statuses), with the checks that
make a fetched document trustworthy (objects.py)."""
