"""The landing page."""
from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from app import db
from app.web import sessions
from app.web.pages import render


async def landing(request: Request):
    async with db.session() as session:
        signed_in = await sessions.current(session, request)
    return render(request, "home.html", account=signed_in[1] if signed_in else None)


routes = [Route("/", landing, methods=["GET"])]
