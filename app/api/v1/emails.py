"""POST /api/v1/emails/confirmations: resend the confirmation mail (optionally to a new address).

Only an unconfirmed user can call it, so it cannot use @authenticated (which
refuses unconfirmed users); it checks the token and scope itself.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from app import db
from app.api.auth import bearer_token
from app.api.params import read_params
from app.api.responses import json_response
from app.errors import ApiError, Unauthorized
from app.services import registrations, scopes, tokens
from app.services.tokens import TokenOwner


async def _unconfirmed_caller(request: Request) -> TokenOwner:
    token = bearer_token(request)
    owner = None
    if token:
        async with db.session() as session:
            owner = await tokens.lookup(session, token)
    if owner is None:
        raise Unauthorized()
    if owner.user is not None and (owner.user.disabled or owner.account.suspended_at is not None):
        raise Unauthorized("Your login is currently disabled")
    if not scopes.covers(owner.scopes, "write:accounts"):
        raise ApiError("This action is outside the authorized scopes", 403)
    if owner.user is None:
        raise ApiError("This method requires an authenticated user", 422)
    return owner


async def resend_confirmation(request: Request):
    owner = await _unconfirmed_caller(request)
    params = await read_params(request)
    await registrations.resend_from_app(owner.user.id, owner.token.application_id, params.str("email"))
    return json_response({})


routes = [Route("/api/v1/emails/confirmations", resend_confirmation, methods=["POST"])]
