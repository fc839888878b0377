"""The plumbing every endpoint stands on: errors, IDs, CORS, limits, jobs."""
from __future__ import annotations

import asyncio
import time

from sqlalchemy import text

from app import db, jobs
from tests.support.world import make_user


async def test_unknown_api_path_is_a_json_404(client):
    response = await client.get("/api/v1/nothing_here")
    assert response.status_code == 404
    assert response.json() == {"error": "Record not found"}


async def test_ids_are_time_sortable_snowflakes(client):
    first, _ = await make_user("first")
    second, _ = await make_user("second")
    assert second.id > first.id
    # the high bits are milliseconds since the epoch
    assert abs((first.id >> 16) - time.time() * 1000) < 60_000


async def test_deferred_mail_is_sent_by_the_worker_after_commit(client, mailbox):
    async with db.session() as session:
        jobs.defer(session, "send_email", to="someone@example.com", subject="Hello", text="Body text")
    message = await mailbox.wait_for("someone@example.com")
    assert message["Subject"] == "Hello"
    # the outbox row is gone once the work is done
    async with db.session() as session:
        for _ in range(50):
            remaining = (await session.execute(text("SELECT count(*) FROM outbox_jobs"))).scalar()
            if remaining == 0:
                break
            await asyncio.sleep(0.1)
    assert remaining == 0
