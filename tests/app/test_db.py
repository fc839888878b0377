"""The connection pool: connections the server dropped while idle are replaced, not used."""
from __future__ import annotations

import psycopg
from sqlalchemy import text

from app import db
from tests.support.world import bearer, make_user, token_for


async def test_a_request_after_the_database_dropped_idle_connections_still_succeeds(client, settings, monkeypatch):
    account, _ = await make_user("alice")
    headers = bearer(await token_for(account))
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=headers)).status_code == 200
    # What a restarted or failed-over PostgreSQL does to pooled connections: every idle one in
    # this event loop's pools (session()'s and reading()'s) dies (the in-process workers' pools,
    # on other loops, are spared).
    pids = []
    for engine in db.engines():
        held = [await engine.connect() for _ in range(max(1, engine.sync_engine.pool.checkedin()))]
        pids += [(await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one() for connection in held]
        for connection in held:
            await connection.close()
    async with await psycopg.AsyncConnection.connect(settings.database_url, autocommit=True) as outside:
        killed = (await (await outside.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM unnest(%s::int[]) AS pid", (pids,))).fetchone())[0]
    assert killed == len(pids)
    monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0)  # every pooled connection counts as idle
    try:
        for _ in range(3):
            for path in ("/api/v1/accounts/verify_credentials", "/api/v1/timelines/home"):  # both pools
                response = await client.get(path, headers=headers)
                assert response.status_code == 200, response.text
    finally:
        for engine in db.engines():
            await engine.dispose()  # dead connections these requests did not need: not for the next test
