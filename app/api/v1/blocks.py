"""Blocks: block/unblock an account, and the list of accounts you block."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.account import account_json
from app.api.entities.relationship import relationship_json
from app.api.pagination import Page
from app.api.params import read_params
from app.api.responses import json_response
from app.services import blocks


@authenticated("write:blocks")
async def block(request: Request) -> Response:
    async with db.session() as session:
        rel = await blocks.block(session, request.state.auth.account.id, request.path_params["id"])
    return json_response(relationship_json(rel))


@authenticated("write:blocks")
async def unblock(request: Request) -> Response:
    async with db.session() as session:
        rel = await blocks.unblock(session, request.state.auth.account.id, request.path_params["id"])
    return json_response(relationship_json(rel))


@authenticated("read:blocks")
async def index(request: Request) -> Response:
    page = Page.from_params(await read_params(request), default=40, maximum=80)
    async with db.session() as session:
        rows = await blocks.blocked_accounts(session, request.state.auth.account.id, page)
    ids = [block_id for block_id, _ in rows]
    return json_response([account_json(account) for _, account in rows],
                         headers=page.link_header(request, ids, continues=page.full(rows), prev_key="since_id"))


routes = [
    Route("/api/v1/blocks", index, methods=["GET"]),
    Route("/api/v1/accounts/{id:int}/block", block, methods=["POST"]),
    Route("/api/v1/accounts/{id:int}/unblock", unblock, methods=["POST"]),
]
