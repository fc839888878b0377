"""POST /api/v1/apps and GET /api/v1/apps/verify_credentials."""
from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.application import application, credential_application
from app.api.params import read_params
from app.api.responses import json_response
from app.errors import NotFound
from app.services import oauth


async def create(request: Request):
    params = await read_params(request)
    async with db.session() as session:
        app = await oauth.register_app(
            session,
            name=params.str("client_name"),
            redirect_uris=params.list("redirect_uris"),
            scopes=params.get("scopes"),
            website=params.str("website"),
        )
    return json_response(credential_application(app))


@authenticated(user=False)  # since Mastodon 4.3 any valid token will do, whatever its scopes
async def verify_credentials(request: Request):
    app = request.state.auth.application
    if app is None:
        raise NotFound()
    return json_response(application(app))


routes = [
    Route("/api/v1/apps", create, methods=["POST"]),
    Route("/api/v1/apps/verify_credentials", verify_credentials, methods=["GET"]),
]
