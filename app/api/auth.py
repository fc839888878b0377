"""Bearer-token authentication and scope checks for API handlers.

    @authenticated("read:accounts")            # a signed-in user with that scope
    @authenticated("read", user=False)         # an app token is enough
    @authenticated(optional=True)              # public endpoint, viewer if any
    @authenticated("write:accounts", unconfirmed=True)  # also users yet to confirm their e-mail

The decorated handler finds the caller in ``request.state.auth`` (a TokenOwner or None).
"""
from __future__ import annotations

import functools
from typing import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from app.errors import ApiError, Forbidden, Unauthorized
from app.services import scopes as scope_rules
from app.services import token_owners
from app.services.tokens import TokenOwner

Handler = Callable[[Request], Awaitable[Response]]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.query_params.get("access_token") or None


async def resolve(request: Request, *, unconfirmed: bool = False) -> TokenOwner | None:
    """The token owner, or raise 401/403 when a token is given but is not usable.

    `unconfirmed` lets through users who have not confirmed their address or are
    still waiting for approval (the resend-confirmation endpoint exists for them).
    """
    if hasattr(request.state, "auth"):
        return request.state.auth
    token = bearer_token(request)
    owner = None
    if token:
        owner = await token_owners.find(token)
        if owner is None:
            raise Unauthorized()
        if owner.account is not None and owner.account.suspended_at is not None:
            raise Unauthorized("Your login is currently disabled")
        if owner.user is not None:
            if owner.user.disabled:
                raise Unauthorized("Your login is currently disabled")
            if not unconfirmed and not owner.user.confirmed:
                raise Forbidden("Your login is missing a confirmed e-mail address")
            if not unconfirmed and not owner.user.approved:
                raise Forbidden("Your login is currently pending approval")
    request.state.auth = owner
    return owner


def authenticated(
    scope: str | None = None, *, user: bool = True, optional: bool = False, unconfirmed: bool = False
) -> Callable[[Handler], Handler]:
    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def wrapper(request: Request) -> Response:
            owner = await resolve(request, unconfirmed=unconfirmed)
            if owner is None:
                if optional:
                    return await handler(request)
                raise Unauthorized()
            if scope is not None and not scope_rules.covers(owner.scopes, scope):
                raise ApiError("This action is outside the authorized scopes", 403)
            if user and owner.account is None and not optional:
                raise ApiError("This method requires an authenticated user", 422)
            return await handler(request)

        return wrapper

    return decorate
