"""Notices between processes (app/notices.py) and what is remembered on their strength:
token owners (app/services/token_owners.py) and whether anyone watches status streams."""
from __future__ import annotations

import asyncio

import psycopg

from app import notices
from app import redis as app_redis
from tests.support.world import make_user, token_for

KIND = "test echo"
heard: list = []
gaps: list = []
notices.on(KIND, heard.append)
notices.on_gap(lambda: gaps.append(notices.listening()))


async def until(condition, what: str, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{what} within {seconds} s")


async def listening_here() -> None:
    notices.start()
    await until(notices.listening, "the notices subscription was never confirmed")


async def cut_connection() -> None:
    """Close this process's notices connection from the Redis side, as a network fault would,
    and wait until the listener has seen it."""
    seen = len(gaps)
    redis = app_redis.client()
    names = [c for c in await redis.client_list(_type="pubsub") if c.get("name") == notices.client_name()]
    assert names, "no notices connection of this process in CLIENT LIST"
    for connection in names:
        await redis.client_kill_filter(_id=connection["id"])
    # (Each listening loop of this process has a connection: wait for this loop's own.)
    await until(lambda: len(gaps) > seen and not notices.listening(), "the cut was never noticed")


async def test_a_published_notice_is_heard(client):
    await listening_here()
    heard.clear()
    await app_redis.client().publish(*notices.message(KIND, {"n": 1}))
    # Once per listening event loop of this process (the in-process workers have their own).
    await until(lambda: heard and all(h == {"n": 1} for h in heard), "not heard")


async def test_a_cut_connection_is_a_gap_and_notices_sent_meanwhile_are_not_trusted_to_arrive(client):
    await listening_here()
    gaps.clear()
    heard.clear()
    await cut_connection()
    assert gaps[0] is False and not notices.listening()  # nothing remembered is trusted meanwhile
    await app_redis.client().publish(*notices.message(KIND, "lost"))
    await listening_here()  # it reconnects by itself
    assert gaps[-1] is False  # the handlers ran before it was trusted again
    await asyncio.sleep(0.1)
    assert heard == []  # pub/sub kept nothing: that is why the gap handlers exist


async def test_a_token_owner_remembered_before_a_gap_is_looked_up_again(client, settings):
    account, _ = await make_user("gapped")
    token = await token_for(account, "read")
    headers = {"Authorization": f"Bearer {token}"}
    await listening_here()
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=headers)).status_code == 200

    # Revoked behind the services' back (as SQL typed into psql would), so nothing is announced:
    # the owner remembered here is still used...
    with psycopg.connect(settings.database_url, autocommit=True) as connection:
        connection.execute("UPDATE oauth_access_tokens SET revoked_at = now()")
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=headers)).status_code == 200

    # ...until notices may have been missed: then it is looked up again.
    await cut_connection()
    await listening_here()
    response = await client.get("/api/v1/accounts/verify_credentials", headers=headers)
    assert response.status_code == 401


async def test_a_connection_gone_silent_is_not_trusted(client, monkeypatch):
    """A half-open connection fails nothing: without traffic for longer than a PING and its
    answer take, what notices guard is not trusted (here with both shortened)."""
    await listening_here()
    monkeypatch.setattr(notices, "SILENCE_SECONDS", 0.2)
    monkeypatch.setattr(notices, "ANSWER_SECONDS", 0.2)
    await until(lambda: not notices.listening(), "a silent connection was still trusted", seconds=3)
    monkeypatch.undo()
    await app_redis.client().publish(*notices.message(KIND, "traffic"))  # heard again
    await until(notices.listening, "traffic did not restore trust")
