"""The OAuth endpoints machines call: token, revoke, userinfo, and the RFC 8414
metadata document. (The browser side, /oauth/authorize, is in app/web/oauth.py.)"""
from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.params import read_params
from app.api.responses import json_response
from app.config import get_settings
from app.services import oauth
from app.services import scopes as scope_rules
from app.services.tokens import IssuedToken

# RFC 6749 5.1: responses carrying tokens must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _token_json(issued: IssuedToken) -> dict:
    body = {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "scope": issued.row.scopes,
        "created_at": int(issued.row.created_at.timestamp()),
    }
    if issued.refresh_token:
        body["refresh_token"] = issued.refresh_token
    return body


def _client(request: Request, params) -> tuple[str | None, str | None]:
    """Client credentials from HTTP Basic if sent, else from the body."""
    return oauth.basic_credentials(request.headers.get("authorization")) or (
        params.str("client_id"), params.str("client_secret")
    )


async def token(request: Request):
    params = await read_params(request)
    client_id, client_secret = _client(request, params)
    token_request = oauth.TokenRequest(
        grant_type=params.str("grant_type"),
        client_id=client_id,
        client_secret=client_secret,
        code=params.str("code"),
        redirect_uri=params.str("redirect_uri"),
        code_verifier=params.str("code_verifier"),
        refresh_token=params.str("refresh_token"),
        scope=params.get("scope"),
    )
    async with db.session() as session:
        issued = await oauth.issue_token(session, token_request)
    return json_response(_token_json(issued), headers=NO_STORE)


async def revoke(request: Request):
    params = await read_params(request)
    client_id, client_secret = _client(request, params)
    async with db.session() as session:
        await oauth.revoke(session, client_id, client_secret, params.str("token"))
    return json_response({})


@authenticated("profile")
async def userinfo(request: Request):
    """OpenID Connect claims about the token's user (Mastodon 4.4)."""
    account = request.state.auth.account
    return json_response({
        "iss": get_settings().base_url + "/",
        "sub": account.uri,
        "name": account.display_name or account.username,
        "preferred_username": account.username,
        "profile": account.url,
    })


async def server_metadata(request: Request):
    base = get_settings().base_url
    return json_response({
        "issuer": base + "/",
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "userinfo_endpoint": f"{base}/oauth/userinfo",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "scopes_supported": sorted(scope_rules.ALL_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": oauth.PKCE_METHODS,
    })


routes = [
    Route("/oauth/token", token, methods=["POST"]),
    Route("/oauth/revoke", revoke, methods=["POST"]),
    Route("/oauth/userinfo", userinfo, methods=["GET", "POST"]),
    Route("/.well-known/oauth-authorization-server", server_metadata, methods=["GET"]),
]
