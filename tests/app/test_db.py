"""The connection pool: connections the server dropped while idle are replaced, not used."""
from __future__ import annotations

import psycopg
from sqlalchemy import bindparam, text
from sqlalchemy import select as sa_select

from app import db
from app.models import Account
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


# Statements built once and run straight on the driver (db.rows): compiled to PostgreSQL's own
# placeholders, so nothing in their text may be taken for one or lose its meaning on the way.
_WITH_PERCENT_AND_REPEATS = text(
    "SELECT username, '5%' AS percent FROM accounts WHERE username LIKE 'al%' AND (id = :who OR id = ANY(:others)) "
    "AND :who IS NOT NULL ORDER BY username")
_EXPANDING = (sa_select(Account.username).where(Account.username.in_(["alice", "bob"]), Account.id != bindparam("not_id"))
              .order_by(Account.username))


async def test_statements_run_on_the_driver_keep_percent_signs_repeats_and_fixed_lists(settings):
    alice, _ = await make_user("alice")
    alina, _ = await make_user("alina")
    bob, _ = await make_user("bob")
    async with db.reading() as session:
        # '%' in the SQL is a LIKE wildcard, :who is used twice, :others is an id array.
        rows = await db.rows(session, _WITH_PERCENT_AND_REPEATS, {"who": alice.id, "others": [alina.id, bob.id]})
        assert [(r.username, r.percent) for r in rows] == [("alice", "5%"), ("alina", "5%")]
        assert await db.rows(session, _WITH_PERCENT_AND_REPEATS, {"who": alice.id, "others": []}) == [
            (alice.username, "5%")]
        # An IN list written into the statement where it was built stays a fixed parameter.
        together = await db.rows_together(session, [(_EXPANDING, {"not_id": alice.id}),
                                                    (_EXPANDING, {"not_id": bob.id})])
        assert [[r.username for r in rows] for rows in together] == [["bob"], ["alice"]]


async def test_a_session_that_committed_reads_on_its_next_connection(settings):
    account, _ = await make_user("carol")
    engine = db.engine()
    async with db.session() as session:
        first = (await db.rows(session, _BACKEND, {}))[0].pid
        await db.commit_now(session)  # its connection goes back to the pool
        # Every idle connection taken, that one too: the session must open another.
        held = [await engine.connect() for _ in range(engine.sync_engine.pool.checkedin())]
        try:
            account.display_name = "Carol"
            session.add(account)
            await session.flush()
            # db.rows runs where the flush went (not on the connection it used before the commit,
            # where this transaction's write would not be seen).
            assert (await db.rows(session, _BACKEND, {}))[0].pid != first
            assert (await db.rows(session, _NAME, {"id": account.id}))[0].display_name == "Carol"
        finally:
            for connection in held:
                await connection.close()


_BACKEND = text("SELECT pg_backend_pid() AS pid")
_NAME = text("SELECT display_name FROM accounts WHERE id = :id")
