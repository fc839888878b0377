"""POST /api/v1/emails/confirmations: resend the confirmation mail (optionally to a new address).

Only an unconfirmed user has a reason to call it, so it lets unconfirmed users through.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from app.api.auth import authenticated
from app.api.params import read_params
from app.api.responses import json_response
from app.services import registrations


@authenticated("write:accounts", unconfirmed=True)
async def resend_confirmation(request: Request):
    owner = request.state.auth
    params = await read_params(request)
    await registrations.resend_from_app(owner.user.id, owner.token.application_id, params.str("email"))
    return json_response({})


routes = [Route("/api/v1/emails/confirmations", resend_confirmation, methods=["POST"])]
