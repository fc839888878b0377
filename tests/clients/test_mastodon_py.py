"""Mastodon.py, a real client library, against a real `starling serve` process:
app registration, the browser authorization (sign-in form, consent), the code
exchange with PKCE, and authenticated calls with the token it got.

Mastodon.py is synchronous, so each scenario runs in a worker thread while the
test's event loop stays free for the fixtures (make_user) that share it.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import re
import secrets
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import requests
from mastodon import Mastodon
from mastodon.errors import MastodonUnauthorizedError

from tests.support.world import PASSWORD, make_user

CALLBACK = "https://client.example/oauth/callback"
OOB = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = ["read", "write", "follow"]


class VerifierSession(requests.Session):
    """Mastodon.py 2.x's log_in() has no code_verifier argument; this adds the
    verifier to the token request it makes, and leaves every other request alone."""

    def __init__(self, verifier: str):
        super().__init__()
        self.verifier = verifier

    def request(self, method, url, *args, **kwargs):
        if method == "POST" and urlsplit(url).path == "/oauth/token":
            kwargs["data"] = {**(kwargs.get("data") or {}), "code_verifier": self.verifier}
        return super().request(method, url, *args, **kwargs)


def hidden_fields(page: httpx.Response) -> dict[str, str]:
    return {name: html.unescape(value)
            for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)}


def browser_authorizes(base: str, authorize_url: str, email: str, password: str) -> httpx.Response:
    """What a person does in the browser: open the URL, sign in, press Authorize."""
    with httpx.Client(base_url=base, timeout=10) as browser:
        login = browser.get(authorize_url)
        assert login.status_code == 302 and login.headers["location"].startswith("/auth/sign_in?")
        form = browser.get(login.headers["location"])
        signed_in = browser.post("/auth/sign_in", data={**hidden_fields(form), "email": email, "password": password})
        assert signed_in.status_code == 302, signed_in.text
        consent = browser.get(urljoin(base, signed_in.headers["location"]))
        assert consent.status_code == 200 and "Authorize" in consent.text, consent.text
        return browser.post("/oauth/authorize", data={**hidden_fields(consent), "decision": "authorize"})


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorization_code_flow_with_pkce(base: str) -> dict:
    client_id, client_secret = Mastodon.create_app(
        "Starling end-to-end", scopes=SCOPES, redirect_uris=[CALLBACK, OOB], api_base_url=base)
    verifier, challenge = pkce_pair()
    mastodon = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base,
                        session=VerifierSession(verifier))
    assert mastodon.oauth_authorization_server_info()["code_challenge_methods_supported"] == ["S256"]
    state = secrets.token_urlsafe(16)
    # Mastodon.py 2.x builds the URL without PKCE parameters; add them.
    url = mastodon.auth_request_url(redirect_uris=CALLBACK, scopes=SCOPES, state=state, allow_http=True)
    url += "&" + urlencode({"code_challenge": challenge, "code_challenge_method": "S256"})

    redirect = browser_authorizes(base, url, "alice@example.com", PASSWORD)
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith(CALLBACK + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [state]

    mastodon.log_in(code=query["code"][0], redirect_uri=CALLBACK, scopes=SCOPES, allow_http=True)
    me = mastodon.account_verify_credentials()
    mastodon.account_update_credentials(display_name="Alice Liddell", note="Down the rabbit hole")
    after = mastodon.account_verify_credentials()
    return {"me": me, "after": after, "app": mastodon.app_verify_credentials()}


def oob_flow_then_revoke(base: str) -> dict:
    client_id, client_secret = Mastodon.create_app("Starling oob", scopes=["read"], api_base_url=base)
    mastodon = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
    url = mastodon.auth_request_url(scopes=["read"], allow_http=True)  # oob is Mastodon.py's default
    page = browser_authorizes(base, url, "alice@example.com", PASSWORD)
    code = re.search(r'id="authorization-code">([^<]+)<', page.text).group(1)
    token = mastodon.log_in(code=code, scopes=["read"], allow_http=True)
    app = mastodon.app_verify_credentials()
    mastodon.revoke_access_token(allow_http=True)
    try:
        Mastodon(access_token=token, api_base_url=base).app_verify_credentials()
    except MastodonUnauthorizedError as error:
        return {"app": app, "after_revoke": str(error)}
    return {"app": app, "after_revoke": None}


async def test_mastodon_py_authorization_code_flow_with_pkce(live_server):
    account, _ = await make_user("alice")
    result = await asyncio.to_thread(authorization_code_flow_with_pkce, live_server)
    assert result["me"]["username"] == "alice"
    assert str(result["me"]["id"]) == str(account.id)
    assert result["after"]["display_name"] == "Alice Liddell"
    assert "Down the rabbit hole" in result["after"]["note"]
    assert result["app"]["name"] == "Starling end-to-end"


async def test_mastodon_py_oob_code_and_revocation(live_server):
    await make_user("alice")
    result = await asyncio.to_thread(oob_flow_then_revoke, live_server)
    assert result["app"]["name"] == "Starling oob"
    assert result["after_revoke"] is not None, "the revoked token still worked"

