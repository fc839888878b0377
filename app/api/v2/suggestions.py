"""GET /api/v2/suggestions: accounts to follow, with why (app.services.suggestions); the older
GET /api/v1/suggestions (the accounts alone) and DELETE /api/v1/suggestions/:account_id."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.account import account_json
from app.api.params import read_params
from app.api.responses import json_response
from app.services import suggestions


async def _found(request: Request):
    params = await read_params(request)
    limit = params.int("limit", 40, minimum=1, maximum=80)
    async with db.reading() as session:
        return await suggestions.suggest(session, request.state.auth.account.id, limit=limit)


@authenticated("read")
async def index(request: Request) -> Response:
    return json_response([{"source": "global" if "most_followed" in sources else "past_interactions",
                           "sources": sources, "account": account_json(account)}
                          for account, sources in await _found(request)])


@authenticated("read")
async def index_v1(request: Request) -> Response:
    """Deprecated since Mastodon 3.4, still called by older apps: the same accounts, bare."""
    return json_response([account_json(account) for account, _ in await _found(request)])


@authenticated("read")
async def remove(request: Request) -> Response:
    async with db.session() as session:
        await suggestions.dismiss(session, request.state.auth.account.id, request.path_params["account_id"])
    return json_response({})


routes = [
    Route("/api/v2/suggestions", index, methods=["GET"]),
    Route("/api/v1/suggestions", index_v1, methods=["GET"]),
    Route("/api/v1/suggestions/{account_id}", remove, methods=["DELETE"]),
]
