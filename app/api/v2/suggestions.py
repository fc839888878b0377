"""GET /api/v2/suggestions: accounts to follow, with why (app.services.suggestions)."""
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


@authenticated("read")
async def index(request: Request) -> Response:
    params = await read_params(request)
    limit = params.int("limit", 40, minimum=1, maximum=80)
    async with db.session() as session:
        found = await suggestions.suggest(session, request.state.auth.account.id, limit=limit)
    return json_response([{"source": "global" if "most_followed" in sources else "past_interactions",
                           "sources": sources, "account": account_json(account)} for account, sources in found])


routes = [Route("/api/v2/suggestions", index, methods=["GET"])]
