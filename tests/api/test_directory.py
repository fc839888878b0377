"""GET /api/v1/directory: who is listed, in which order, and bad parameters."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from app import db
from app.models import Account
from app.models.base import utcnow
from tests.support.openapi import assert_matches_spec
from tests.support.world import bearer, block, make_user, token_for


async def names(client, headers=None, **params) -> list[str]:
    response = await client.get("/api/v1/directory", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", "/api/v1/directory")
    return [a["username"] for a in response.json()]


async def test_the_directory_lists_discoverable_accounts_by_activity_or_age(client):
    people = {n: (await make_user(n))[0] for n in ("old", "busy", "quiet", "shy", "silenced", "gone")}
    now = utcnow()
    async with db.session() as session:
        for name, changes in {
            "old": dict(created_at=now - timedelta(days=300), last_status_at=now - timedelta(days=2)),
            "busy": dict(created_at=now - timedelta(days=100), last_status_at=now - timedelta(hours=1)),
            "quiet": dict(created_at=now - timedelta(days=1), last_status_at=None),
            "shy": dict(discoverable=False, last_status_at=now),
            "silenced": dict(silenced_at=now, last_status_at=now),
            "gone": dict(suspended_at=now, last_status_at=now),
        }.items():
            await session.execute(update(Account).where(Account.id == people[name].id).values(**changes))

    assert await names(client) == ["busy", "old", "quiet"]  # most recent posters first, never-posted last
    assert await names(client, order="new") == ["quiet", "busy", "old"]
    assert await names(client, local="true", limit=1) == ["busy"]
    assert await names(client, offset=1, limit=1) == ["old"]
    assert await names(client, limit=500) == ["busy", "old", "quiet"]  # clamped to 80, not refused

    viewer, _ = await make_user("viewer")
    headers = bearer(await token_for(viewer))
    assert await names(client, headers) == ["busy", "old", "viewer", "quiet"]  # (new: never posted)
    await block(people["old"], viewer)  # blocks count both ways for a signed-in viewer
    assert await names(client, headers) == ["busy", "viewer", "quiet"]


async def test_bad_directory_parameters(client):
    for params in ({"order": "random"}, {"offset": "-1"}, {"limit": "0"}, {"limit": "many"}, {"local": "maybe"}):
        response = await client.get("/api/v1/directory", params=params)
        assert response.status_code == 422, params
        assert "error" in response.json()
