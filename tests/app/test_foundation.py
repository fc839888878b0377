"""The plumbing every endpoint stands on: errors, IDs, CORS, limits, jobs."""
from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text

from app import db, jobs
from app.config import Settings
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


def test_feed_access_settings_must_be_known_values(tmp_path):
    base = {"STARLING_SECRET_KEY": "x", "STARLING_VAR_DIR": str(tmp_path)}
    settings = Settings.from_env({**base, "STARLING_LIVE_FEEDS_REMOTE": "disabled",
                                  "STARLING_TOPIC_FEEDS_LOCAL": "authenticated"})
    assert (settings.live_feeds_remote, settings.topic_feeds_local, settings.live_feeds_local) == (
        "disabled", "authenticated", "public")
    for name, value in (("LIVE_FEEDS_LOCAL", "nobody"), ("TOPIC_FEEDS_LOCAL", "disabled"),
                        ("TOPIC_FEEDS_REMOTE", "Public")):
        with pytest.raises(ValueError, match=f"STARLING_{name}"):
            Settings.from_env({**base, f"STARLING_{name}": value})
