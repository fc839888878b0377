"""Each web process keeps the owners of the tokens it has seen (app.services.token_owners). A
change made through another process (here: the test process's app, the command line) must be
seen by the very next request to the live server, which has kept the owner from before."""
from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx

from app import db
from app.services import tokens
from tests.conftest import settings_env
from tests.support.services import ROOT
from tests.support.world import bearer, follow, make_app, make_user, token_for


async def _kept_by_live_server(live_server: str, token: str) -> None:
    """Three reads: the first remembers the token's account, the next ones keep its owner."""
    async with httpx.AsyncClient(base_url=live_server) as live:
        for _ in range(3):
            response = await live.get("/api/v1/accounts/verify_credentials", headers=bearer(token))
            assert response.status_code == 200, response.text


async def _live_get(live_server: str, path: str, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=live_server) as live:
        return await live.get(path, headers=bearer(token))


async def test_a_token_revoked_elsewhere_is_refused_at_once(live_server, client):
    alice, _ = await make_user("alice")
    application = await make_app()
    token = await token_for(alice, application=application)
    await _kept_by_live_server(live_server, token)

    revoked = await client.post("/oauth/revoke", data={
        "client_id": application.client_id, "client_secret": application.client_secret, "token": token})
    assert revoked.status_code == 200

    refused = await _live_get(live_server, "/api/v1/timelines/home", token)
    assert refused.status_code == 401
    assert refused.json() == {"error": "The access token is invalid"}


async def test_every_token_of_an_account_revoked_at_once_is_refused(live_server, client):
    # What a password reset does: one statement revokes them all.
    alice, _ = await make_user("alice")
    first, second = await token_for(alice), await token_for(alice)
    bob, _ = await make_user("bob")
    bobs = await token_for(bob)
    for token in (first, second, bobs):
        await _kept_by_live_server(live_server, token)

    async with db.session() as session:
        assert len(await tokens.revoke_for_account(session, alice.id)) == 2

    for token in (first, second):
        assert (await _live_get(live_server, "/api/v1/accounts/verify_credentials", token)).status_code == 401
    assert (await _live_get(live_server, "/api/v1/accounts/verify_credentials", bobs)).status_code == 200


async def test_a_new_default_visibility_applies_to_the_next_post_anywhere(live_server, client):
    alice, _ = await make_user("alice")
    token = await token_for(alice)
    await _kept_by_live_server(live_server, token)

    changed = await client.patch("/api/v1/accounts/update_credentials", headers=bearer(token),
                                 data={"source[privacy]": "private"})
    assert changed.status_code == 200, changed.text

    async with httpx.AsyncClient(base_url=live_server) as live:
        posted = await live.post("/api/v1/statuses", headers=bearer(token), data={"status": "for followers"})
    assert posted.status_code == 200, posted.text
    assert posted.json()["visibility"] == "private"


async def test_verify_credentials_shows_the_counts_of_now(live_server, client):
    alice, _ = await make_user("alice")
    bob, _ = await make_user("bob")
    token = await token_for(alice)
    await _kept_by_live_server(live_server, token)

    await follow(alice, bob)
    posted = await client.post("/api/v1/statuses", headers=bearer(token), data={"status": "hello"})
    assert posted.status_code == 200

    shown = (await _live_get(live_server, "/api/v1/accounts/verify_credentials", token)).json()
    assert (shown["following_count"], shown["statuses_count"]) == (1, 1)


async def test_a_role_given_on_the_command_line_counts_at_once(live_server, client, settings):
    carol, _ = await make_user("carol")
    hopeful, _ = await make_user("hopeful", approved=False)
    token = await token_for(carol, scopes="admin:write:accounts read")
    await _kept_by_live_server(live_server, token)

    async with httpx.AsyncClient(base_url=live_server) as live:
        path = f"/api/v1/admin/accounts/{hopeful.id}/approve"
        assert (await live.post(path, headers=bearer(token))).status_code == 403

        given = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "app.cli", "accounts", "role", "carol", "--role", "moderator"],
            cwd=ROOT, env=settings_env(settings), capture_output=True, text=True, timeout=60)
        assert given.returncode == 0, given.stderr

        approved = await live.post(path, headers=bearer(token))
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved"] is True


async def test_unknown_and_malformed_tokens_are_refused_every_time(live_server, client):
    alice, _ = await make_user("alice")
    await token_for(alice)
    async with httpx.AsyncClient(base_url=live_server) as live:
        for _ in range(2):  # nothing is kept of a token that finds no owner
            for token in ("no-such-token", "x" * 500):
                assert (await live.get("/api/v1/timelines/home", headers=bearer(token))).status_code == 401
            as_query = await live.get("/api/v1/timelines/home", params={"access_token": "Ω\u0000"})
            assert as_query.status_code == 401
