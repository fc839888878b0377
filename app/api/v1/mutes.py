"""Mutes: mute/unmute an account (with notifications and duration), and the list of muted accounts."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.relationship import muted_account_json, relationship_json
from app.api.pagination import Page
from app.api.params import read_params
from app.api.responses import json_response
from app.services import blocks


@authenticated("write:mutes")
async def mute(request: Request) -> Response:
    params = await read_params(request)
    notifications = params.bool("notifications", True)
    duration = params.int("duration", 0, minimum=0)
    async with db.session() as session:
        rel = await blocks.mute(session, request.state.auth.account.id, request.path_params["id"],
                                notifications=notifications, duration=duration)
    return json_response(relationship_json(rel))


@authenticated("write:mutes")
async def unmute(request: Request) -> Response:
    async with db.session() as session:
        rel = await blocks.unmute(session, request.state.auth.account.id, request.path_params["id"])
    return json_response(relationship_json(rel))


@authenticated("read:mutes")
async def index(request: Request) -> Response:
    page = Page.from_params(await read_params(request), default=40, maximum=80)
    async with db.session() as session:
        rows = await blocks.muted_accounts(session, request.state.auth.account.id, page)
    return json_response([muted_account_json(account, m) for m, account in rows],
                         headers=page.link_header(request, [m.id for m, _ in rows],
                                                  continues=page.full(rows), prev_key="since_id"))


routes = [
    Route("/api/v1/mutes", index, methods=["GET"]),
    Route("/api/v1/accounts/{id:int}/mute", mute, methods=["POST"]),
    Route("/api/v1/accounts/{id:int}/unmute", unmute, methods=["POST"]),
]
