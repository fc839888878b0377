"""OAuth 2 as Mastodon does it: /oauth/authorize (consent, PKCE), /oauth/token, /oauth/revoke,
/oauth/userinfo and the RFC 8414 metadata, including every way a request can be wrong."""
from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from sqlalchemy import func, update
from sqlmodel import select
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.errors import ApiError
from app.models import AccessToken, Account, AuthorizationCode
from app.models.base import utcnow
from tests.support.openapi import assert_matches_spec
from tests.support.pages import csrf
from tests.support.world import PASSWORD, bearer, make_user, token_for

CALLBACK = "https://app.example/callback"
OOB = "urn:ietf:wg:oauth:2.0:oob"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


async def register(client, scopes="read write follow push", redirect_uris=f"{CALLBACK}\n{OOB}") -> dict:
    response = await client.post("/api/v1/apps", data={
        "client_name": "Test Client", "redirect_uris": redirect_uris, "scopes": scopes})
    assert response.status_code == 200, response.text
    return response.json()


async def sign_in(client, email="alice@example.com", password=PASSWORD) -> None:
    page = await client.get("/auth/sign_in")
    response = await client.post("/auth/sign_in", data={
        "authenticity_token": csrf(page.text), "email": email, "password": password})
    assert response.status_code == 302, response.text


def authorize_query(app: dict, **extra) -> str:
    params = {"response_type": "code", "client_id": app["client_id"], "redirect_uri": CALLBACK,
              "scope": "read write", **extra}
    return "/oauth/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


async def consent(client, app: dict, decision="authorize", **extra) -> httpx.Response:
    """GET the consent page, then submit its form as a person would."""
    page = await client.get(authorize_query(app, **extra))
    assert page.status_code == 200, page.text
    fields = {name: html.unescape(value)
              for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)}
    return await client.post("/oauth/authorize", data={**fields, "decision": decision})


async def get_code(client, app: dict, **extra) -> str:
    response = await consent(client, app, **extra)
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]


async def exchange(client, app: dict, code: str, **extra) -> httpx.Response:
    data = {"grant_type": "authorization_code", "client_id": app["client_id"], "client_secret": app["client_secret"],
            "redirect_uri": CALLBACK, "code": code, **extra}
    return await client.post("/oauth/token", data={k: v for k, v in data.items() if v is not None})


async def codes_in_db() -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(AuthorizationCode))).one()


async def tokens_in_db() -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(AccessToken))).one()


def assert_oauth_error(response: httpx.Response, status: int, error: str, mentions: str = "") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert mentions in body["error_description"]


# ---------------------------------------------------------------- the happy paths

async def test_metadata_document(client, settings):
    response = await client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    assert_matches_spec(response, "GET", "/.well-known/oauth-authorization-server")
    body = response.json()
    base = settings.base_url
    assert body["issuer"] == base + "/"
    assert body["authorization_endpoint"] == f"{base}/oauth/authorize"
    assert body["token_endpoint"] == f"{base}/oauth/token"
    assert body["revocation_endpoint"] == f"{base}/oauth/revoke"
    assert body["app_registration_endpoint"] == f"{base}/api/v1/apps"
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert "authorization_code" in body["grant_types_supported"]
    assert {"read", "write:statuses", "profile", "admin:read:accounts"} <= set(body["scopes_supported"])


async def test_authorization_code_flow_with_pkce(client):
    alice, _ = await make_user("alice")
    app = await register(client)
    await sign_in(client)
    verifier, challenge = pkce_pair()

    page = await client.get(authorize_query(app, state="xyz", code_challenge=challenge, code_challenge_method="S256"))
    assert page.status_code == 200
    assert "Test Client" in page.text and "@alice" in page.text
    assert "Read all your account" in page.text and "Modify all your account" in page.text
    assert page.headers["x-frame-options"] == "DENY"

    response = await consent(client, app, state="xyz", code_challenge=challenge, code_challenge_method="S256")
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"]
    code = query["code"][0]

    async with db.session() as session:  # stored hashed, never in the clear
        stored = (await session.exec(select(AuthorizationCode))).one()
    assert stored.code_hash != code and code not in stored.code_hash
    assert stored.scopes == "read write" and stored.code_challenge == challenge
    assert timedelta(minutes=9) < stored.expires_at - utcnow() <= timedelta(minutes=10)

    token = await exchange(client, app, code, code_verifier=verifier)
    assert token.status_code == 200, token.text
    assert_matches_spec(token, "POST", "/oauth/token")
    assert token.headers["cache-control"] == "no-store"
    body = token.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "read write"
    assert isinstance(body["created_at"], int) and abs(body["created_at"] - utcnow().timestamp()) < 60
    assert body["refresh_token"] and body["refresh_token"] != body["access_token"]

    info = await client.get("/oauth/userinfo", headers=bearer(body["access_token"]))
    assert info.status_code == 200
    assert info.json()["preferred_username"] == "alice"
    assert info.json()["sub"] == alice.uri


async def test_oob_shows_the_code_on_a_page(client):
    await make_user("alice")
    app = await register(client, redirect_uris=OOB)
    await sign_in(client)
    response = await consent(client, app, redirect_uri=OOB)
    assert response.status_code == 200
    code = re.search(r'id="authorization-code">([^<]+)<', response.text).group(1)
    token = await exchange(client, app, code, redirect_uri=OOB)
    assert token.status_code == 200
    assert token.json()["scope"] == "read write"


async def test_token_accepts_json_bodies_and_http_basic(client):
    await make_user("alice")
    app = await register(client)
    await sign_in(client)
    code = await get_code(client, app)
    basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
    response = await client.post("/oauth/token", headers={"Authorization": f"Basic {basic}"}, json={
        "grant_type": "authorization_code", "redirect_uri": CALLBACK, "code": code})
    assert response.status_code == 200, response.text


async def test_scope_defaults_to_read_and_may_narrow_the_apps_scopes(client):
    await make_user("alice")
    app = await register(client)
    await sign_in(client)
    assert (await exchange(client, app, await get_code(client, app, scope=None))).json()["scope"] == "read"
    narrow = await get_code(client, app, scope="read:accounts write:statuses")
    assert (await exchange(client, app, narrow)).json()["scope"] == "read:accounts write:statuses"


async def test_visitor_who_is_not_signed_in_signs_in_and_comes_back(client):
    await make_user("alice")
    app = await register(client)
    target = authorize_query(app, state="s1")
    response = await client.get(target)
    assert response.status_code == 302
    login = response.headers["location"]
    assert login.startswith("/auth/sign_in?")
    assert parse_qs(urlsplit(login).query)["next"] == [target]

    page = await client.get(login)
    back = await client.post("/auth/sign_in", data={
        "authenticity_token": csrf(page.text), "email": "alice@example.com", "password": PASSWORD,
        "next": parse_qs(urlsplit(login).query)["next"][0]})
    assert back.status_code == 302
    assert back.headers["location"] == target
    assert "Authorize" in (await client.get(target)).text


async def test_force_login_asks_to_sign_in_again(client):
    await make_user("alice")
    app = await register(client)
    await sign_in(client)
    response = await client.get(authorize_query(app, force_login="true"))
    assert response.status_code == 302
    next_path = parse_qs(urlsplit(response.headers["location"]).query)["next"][0]
    assert "force_login" not in next_path  # or coming back would sign out again
    # the old session is over
    assert (await client.get(next_path)).headers["location"].startswith("/auth/sign_in")


async def test_deny_redirects_with_access_denied_and_issues_nothing(client):
    await make_user("alice")
    app = await register(client)
    await sign_in(client)
    response = await consent(client, app, decision="deny", state="st")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["st"]
    assert "code" not in query
    assert await codes_in_db() == 0


async def test_client_credentials_gives_an_app_token(client):
    app = await register(client, scopes="read write")
    response = await client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "scope": "read"})
    assert response.status_code == 200
    assert_matches_spec(response, "POST", "/oauth/token")
    body = response.json()
    assert body["scope"] == "read" and "refresh_token" not in body
    verified = await client.get("/api/v1/apps/verify_credentials", headers=bearer(body["access_token"]))
    assert verified.json()["name"] == "Test Client"
    # an app token has no user behind it
    info = await client.get("/oauth/userinfo", headers=bearer(body["access_token"]))
    assert info.status_code == 422
    assert info.json() == {"error": "This method requires an authenticated user", "details": {}}


async def test_refresh_rotates_the_tokens(client):
    await make_user("alice")
    app = await register(client)
    await sign_in(client)
    first = (await exchange(client, app, await get_code(client, app))).json()
    refresh = {"grant_type": "refresh_token", "client_id": app["client_id"], "client_secret": app["client_secret"],
               "refresh_token": first["refresh_token"]}
    response = await client.post("/oauth/token", data=refresh)
    assert response.status_code == 200
    second = response.json()
    assert second["scope"] == "read write"
    assert second["access_token"] != first["access_token"] and second["refresh_token"] != first["refresh_token"]
    assert (await client.get("/oauth/userinfo", headers=bearer(second["access_token"]))).status_code == 200
    assert (await client.get("/oauth/userinfo", headers=bearer(first["access_token"]))).status_code == 401
    # the old refresh token worked once
    assert_oauth_error(await client.post("/oauth/token", data=refresh), 400, "invalid_grant", "already used")


async def test_revoke(client):
    await make_user("alice")
    app = await register(client)
    await sign_in(client)
    token = (await exchange(client, app, await get_code(client, app))).json()["access_token"]
    assert (await client.get("/oauth/userinfo", headers=bearer(token))).status_code == 200
    response = await client.post("/oauth/revoke", data={
        "client_id": app["client_id"], "client_secret": app["client_secret"], "token": token})
    assert response.status_code == 200
    assert response.json() == {}
    assert_matches_spec(response, "POST", "/oauth/revoke")
    revoked = await client.get("/oauth/userinfo", headers=bearer(token))
    assert revoked.status_code == 401
    assert revoked.json() == {"error": "The access token is invalid"}
    # idempotent, and unknown tokens are fine too (RFC 7009)
    for value in (token, "never-issued"):
        again = await client.post("/oauth/revoke", data={
            "client_id": app["client_id"], "client_secret": app["client_secret"], "token": value})
        assert again.status_code == 200 and again.json() == {}


# ---------------------------------------------------------------- the authorization endpoint refuses

async def test_unknown_client_gets_an_error_page_and_no_redirect(client):
    await make_user("alice")
    await sign_in(client)
    response = await client.get(authorize_query({"client_id": "nope"}))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "This application is unknown to this server" in response.text
    assert await codes_in_db() == 0


async def test_a_client_id_with_a_nul_character_is_an_unknown_client(client):
    await make_user("alice")
    await sign_in(client)
    response = await client.get(authorize_query({"client_id": "no\x00pe"}))
    assert response.status_code == 400
    assert "This application is unknown to this server" in response.text


async def test_unregistered_redirect_uri_gets_an_error_page_and_no_redirect(client):
    await make_user("alice")
    app = await register(client)
    await sign_in(client)
    response = await client.get(authorize_query(app, redirect_uri="https://evil.example/steal"))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "not one of the URIs this application registered" in response.text
    # nor can the consent form be posted with it
    page = await client.get(authorize_query(app))
    posted = await client.post("/oauth/authorize", data={
        "authenticity_token": csrf(page.text), "response_type": "code", "client_id": app["client_id"],
        "redirect_uri": "https://evil.example/steal", "scope": "read", "decision": "authorize"})
    assert posted.status_code == 400 and "location" not in posted.headers
    assert await codes_in_db() == 0


async def test_scopes_beyond_the_apps_go_back_as_invalid_scope(client):
    await make_user("alice")
    app = await register(client, scopes="read")
    await sign_in(client)
    response = await client.get(authorize_query(app, scope="read write", state="s"))
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert response.headers["location"].startswith(CALLBACK)
    assert query["error"] == ["invalid_scope"] and query["state"] == ["s"]
    assert "This application registered: read" in query["error_description"][0]
    # tampering with the consent form does not help either
    page = await client.get(authorize_query(app, scope="read"))
    posted = await client.post("/oauth/authorize", data={
        "authenticity_token": csrf(page.text), "response_type": "code", "client_id": app["client_id"],
        "redirect_uri": CALLBACK, "scope": "read admin:write", "decision": "authorize"})
    assert parse_qs(urlsplit(posted.headers["location"]).query)["error"] == ["invalid_scope"]
    assert await codes_in_db() == 0


async def test_plain_pkce_and_bad_response_type_are_refused(client):
    await make_user("alice")
    app = await register(client)
    await sign_in(client)
    verifier, _ = pkce_pair()
    for extra, error, text in [
        ({"code_challenge": verifier, "code_challenge_method": "plain"}, "invalid_request", "must be S256"),
        ({"code_challenge": verifier}, "invalid_request", "must be S256"),  # plain is the RFC's default
        ({"code_challenge_method": "S256"}, "invalid_request", "code_challenge"),
        ({"response_type": "token"}, "unsupported_response_type", "response_type=code"),
    ]:
        response = await client.get(authorize_query(app, **extra))
        assert response.status_code == 302, extra
        query = parse_qs(urlsplit(response.headers["location"]).query)
        assert query["error"] == [error], extra
        assert text in query["error_description"][0], extra
    assert await codes_in_db() == 0


async def test_consent_form_without_csrf_token_is_refused(client):
    await make_user("alice")
    app = await register(client)
    await sign_in(client)
    response = await client.post("/oauth/authorize", data={
        "response_type": "code", "client_id": app["client_id"], "redirect_uri": CALLBACK, "scope": "read",
        "decision": "authorize"})
    assert response.status_code == 403
    assert "authenticity token" in response.json()["error"]
    assert await codes_in_db() == 0


# ---------------------------------------------------------------- the token endpoint refuses

async def test_pkce_verifier_mismatch_is_invalid_grant_and_the_code_survives(client):
    await make_user("alice")
    app = await register(client)
    await sign_in(client)
    verifier, challenge = pkce_pair()
    code = await get_code(client, app, code_challenge=challenge, code_challenge_method="S256")
    wrong, _ = pkce_pair()
    response = await exchange(client, app, code, code_verifier=wrong)
    assert_oauth_error(response, 400, "invalid_grant", "code_verifier does not match")
    assert_matches_spec(response, "POST", "/oauth/token")
    assert await tokens_in_db() == 0
    assert (await exchange(client, app, code, code_verifier=verifier)).status_code == 200


async def test_missing_verifier_is_refused_when_the_code_has_a_challenge(client):
    await make_user("alice")
    app = await register(client)
    await sign_in(client)
    verifier, challenge = pkce_pair()
    code = await get_code(client, app, code_challenge=challenge, code_challenge_method="S256")
    assert_oauth_error(await exchange(client, app, code), 400, "invalid_request", "code_verifier")
    assert await tokens_in_db() == 0
    assert (await exchange(client, app, code, code_verifier=verifier)).status_code == 200


async def test_reused_code_is_refused_and_revokes_what_it_gave(client):
    await make_user("alice")
    app = await register(client)
    await sign_in(client)
    code = await get_code(client, app)
    first = (await exchange(client, app, code)).json()
    for _ in range(3):  # used again and again: this process keeps its owner (token_owners)
        assert (await client.get("/oauth/userinfo", headers=bearer(first["access_token"]))).status_code == 200
    again = await exchange(client, app, code)
    assert_oauth_error(again, 400, "invalid_grant", "already used")
    assert (await client.get("/oauth/userinfo", headers=bearer(first["access_token"]))).status_code == 401
    # tokens refreshed from it go too
    refreshed = await client.post("/oauth/token", data={
        "grant_type": "refresh_token", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "refresh_token": first["refresh_token"]})
    assert_oauth_error(refreshed, 400, "invalid_grant")
    assert await tokens_in_db() == 1


async def test_expired_code_is_invalid_grant(client):
    await make_user("alice")
    app = await register(client)
    await sign_in(client)
    code = await get_code(client, app)
    async with db.session() as session:
        await session.execute(update(AuthorizationCode).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert_oauth_error(await exchange(client, app, code), 400, "invalid_grant", "expired")
    assert await tokens_in_db() == 0


async def test_code_with_a_different_redirect_uri_or_from_another_app_is_invalid_grant(client):
    await make_user("alice")
    app = await register(client)
    other = await register(client)
    await sign_in(client)
    code = await get_code(client, app)
    assert_oauth_error(await exchange(client, app, code, redirect_uri=OOB), 400, "invalid_grant", "redirect_uri")
    assert_oauth_error(await exchange(client, other, code), 400, "invalid_grant", "unknown")
    assert_oauth_error(await exchange(client, app, "made-up"), 400, "invalid_grant", "unknown")
    assert await tokens_in_db() == 0
    assert (await exchange(client, app, code)).status_code == 200


async def test_code_of_an_account_suspended_meanwhile_is_invalid_grant(client):
    alice, _ = await make_user("alice")
    app = await register(client)
    await sign_in(client)
    code = await get_code(client, app)
    async with db.session() as session:
        await session.execute(update(Account).where(Account.id == alice.id).values(suspended_at=utcnow()))
    assert_oauth_error(await exchange(client, app, code), 400, "invalid_grant", "can no longer sign in")
    assert await tokens_in_db() == 0


async def test_wrong_client_secret_is_invalid_client(client):
    await make_user("alice")
    app = await register(client)
    await sign_in(client)
    code = await get_code(client, app)
    for secret in ("wrong", None):
        response = await exchange(client, app, code, client_secret=secret)
        assert_oauth_error(response, 401, "invalid_client", "Client authentication failed")
        assert_matches_spec(response, "POST", "/oauth/token")
    bad_basic = base64.b64encode(f"{app['client_id']}:wrong".encode()).decode()
    response = await client.post("/oauth/token", headers={"Authorization": f"Basic {bad_basic}"}, data={
        "grant_type": "client_credentials"})
    assert_oauth_error(response, 401, "invalid_client")
    assert await tokens_in_db() == 0
    assert (await exchange(client, app, code)).status_code == 200


async def test_client_credentials_beyond_the_apps_scopes_is_invalid_scope(client):
    app = await register(client, scopes="read")
    response = await client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "scope": "read write"})
    assert_oauth_error(response, 400, "invalid_scope", "This application registered: read")
    assert await tokens_in_db() == 0


async def test_unsupported_or_missing_grant_type(client):
    app = await register(client)
    creds = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    assert_oauth_error(await client.post("/oauth/token", data={**creds, "grant_type": "password"}), 400,
                       "unsupported_grant_type")
    assert_oauth_error(await client.post("/oauth/token", data=creds), 400, "invalid_request", "grant_type")


async def test_revoke_refuses_other_apps_tokens_and_bad_credentials(client):
    alice, _ = await make_user("alice")
    app = await register(client)
    token = await token_for(alice, scopes="read")  # issued to another app
    response = await client.post("/oauth/revoke", data={
        "client_id": app["client_id"], "client_secret": app["client_secret"], "token": token})
    assert_oauth_error(response, 403, "unauthorized_client", "not authorized to revoke")
    assert_matches_spec(response, "POST", "/oauth/revoke")
    response = await client.post("/oauth/revoke", data={
        "client_id": app["client_id"], "client_secret": "wrong", "token": token})
    assert_oauth_error(response, 401, "invalid_client")
    assert (await client.get("/api/v1/apps/verify_credentials", headers=bearer(token))).status_code == 200


# ---------------------------------------------------------------- scopes on the API

async def test_token_lacking_the_scope_gets_403(client):
    alice, _ = await make_user("alice")
    for scopes in ("write", "read:statuses", "push"):
        token = await token_for(alice, scopes=scopes)
        response = await client.get("/oauth/userinfo", headers=bearer(token))
        assert response.status_code == 403, scopes
        assert response.json() == {"error": "This action is outside the authorized scopes"}
    for scopes in ("profile", "read", "read:accounts"):
        token = await token_for(alice, scopes=scopes)
        assert (await client.get("/oauth/userinfo", headers=bearer(token))).status_code == 200, scopes


async def test_authenticated_decorator_enforces_the_scope(client):
    """A tiny app with one protected route, so the decorator is tested on its own."""

    @authenticated("write:statuses")
    async def post_status(request):
        return JSONResponse({"account": request.state.auth.account.username})

    async def api_error(request, exc):
        return JSONResponse(exc.body(), status_code=exc.status_code)

    tiny = Starlette(routes=[Route("/post", post_status, methods=["POST"])], exception_handlers={ApiError: api_error})
    alice, _ = await make_user("alice")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=tiny), base_url="http://tiny") as tiny_client:
        read_only = await tiny_client.post("/post", headers=bearer(await token_for(alice, scopes="read")))
        assert read_only.status_code == 403
        assert read_only.json() == {"error": "This action is outside the authorized scopes"}
        allowed = await tiny_client.post("/post", headers=bearer(await token_for(alice, scopes="write")))
        assert allowed.status_code == 200 and allowed.json() == {"account": "alice"}
        anonymous = await tiny_client.post("/post")
        assert anonymous.status_code == 401
