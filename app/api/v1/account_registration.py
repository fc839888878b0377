"""POST /api/v1/accounts: Mastodon's registration API (app token + write:accounts).

Kept apart from app/api/v1/accounts.py (profiles and credentials) because it is
the one accounts endpoint called before the user exists.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from app.api.auth import authenticated
from app.api.params import read_params
from app.api.responses import json_response
from app.services import registrations


@authenticated("write:accounts", user=False)
async def register(request: Request):
    owner = request.state.auth
    params = await read_params(request)
    form = registrations.SignUp(
        username=params.str("username") or "",
        email=params.str("email") or "",
        password=params.str("password") or "",
        agreement=params.bool("agreement", False),
        locale=params.str("locale") or "en",
        reason=params.str("reason") or "",
        date_of_birth=params.str("date_of_birth"),
    )
    issued = await registrations.register_from_app(owner.token.application_id, owner.scopes, form)
    return json_response({
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "scope": issued.row.scopes,
        "created_at": int(issued.row.created_at.timestamp()),
    })


routes = [Route("/api/v1/accounts", register, methods=["POST"])]
