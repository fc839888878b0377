"""Who sees a status: every visibility level against every kind of viewer, through the API
(GET /api/v1/statuses/:id) and through the two entry points of app.services.visibility
(the per-status check and the SQL condition list queries use), which must agree."""
from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlmodel import select

from app import db
from app.models import Account, Status
from app.models.base import utcnow
from app.services import visibility
from tests.support.openapi import assert_matches_spec
from tests.support.world import bearer, block, follow, make_user, token_for

VIEWERS = ("anonymous", "author", "follower", "mentioned", "stranger", "blocked", "blocker")
EXPECTED = {
    "public": {"anonymous", "author", "follower", "mentioned", "stranger"},
    "unlisted": {"anonymous", "author", "follower", "mentioned", "stranger"},
    "private": {"author", "follower", "mentioned"},
    "direct": {"author", "mentioned"},
}


async def make_world():
    """alice (the author) and one account per kind of viewer, with tokens."""
    accounts = {}
    for kind in VIEWERS[1:]:
        accounts[kind], _ = await make_user(kind if kind != "author" else "alice")
    await follow(accounts["follower"], accounts["author"])
    # The blocked and the blocker follow alice and are mentioned: the block must still win.
    await follow(accounts["blocked"], accounts["author"])
    await follow(accounts["blocker"], accounts["author"])
    headers = {kind: bearer(await token_for(account)) for kind, account in accounts.items()}
    headers["anonymous"] = {}
    accounts["anonymous"] = None
    return accounts, headers


async def post_as_alice(client, headers, visibility: str, text: str = "@mentioned @blocked @blocker hello") -> str:
    response = await client.post("/api/v1/statuses", json={"status": text, "visibility": visibility},
                                 headers=headers["author"])
    assert response.status_code == 200, response.text
    return response.json()["id"]


async def seen_by(client, headers, status_id: str) -> set[str]:
    seen = set()
    for kind in VIEWERS:
        response = await client.get(f"/api/v1/statuses/{status_id}", headers=headers[kind])
        assert response.status_code in (200, 404), (kind, response.text)
        assert_matches_spec(response, "GET", "/api/v1/statuses/{id}")
        if response.status_code == 200:
            seen.add(kind)
        else:
            assert response.json() == {"error": "Record not found"}  # never 403: existence does not leak
    return seen


async def seen_by_service(accounts, status_id: str) -> tuple[set[str], set[str]]:
    by_check, by_query = set(), set()
    async with db.session() as session:
        status = await session.get(Status, int(status_id))
        for kind in VIEWERS:
            viewer = accounts[kind]
            if await visibility.can_see(session, viewer, status):
                by_check.add(kind)
            if await visibility.visible_ids(session, viewer, [status.id]):
                by_query.add(kind)
    return by_check, by_query


@pytest.mark.parametrize("level", ["public", "unlisted", "private", "direct"])
async def test_each_level_against_each_viewer(client, level):
    accounts, headers = await make_world()
    status_id = await post_as_alice(client, headers, level)
    await block(accounts["author"], accounts["blocked"])
    await block(accounts["blocker"], accounts["author"])
    assert await seen_by(client, headers, status_id) == EXPECTED[level]
    assert await seen_by_service(accounts, status_id) == (EXPECTED[level], EXPECTED[level])


async def test_mentioning_is_what_opens_a_direct_message(client):
    accounts, headers = await make_world()
    status_id = await post_as_alice(client, headers, "direct", text="just for @stranger")
    assert await seen_by(client, headers, status_id) == {"author", "stranger"}


async def test_a_reblog_is_seen_only_with_the_reblogged_status(client):
    accounts, headers = await make_world()
    private_id = await post_as_alice(client, headers, "private", text="followers only")
    public_id = await post_as_alice(client, headers, "public", text="everyone")
    await block(accounts["author"], accounts["blocked"])
    await block(accounts["blocker"], accounts["author"])
    follower = accounts["follower"]
    async with db.session() as session:
        for n, original in enumerate((private_id, public_id)):
            session.add(Status(uri=f"{follower.uri}/boosts/{n}", account_id=follower.id,
                               reblog_of_id=int(original), visibility="public"))
    async with db.session() as session:
        boosts = {s.reblog_of_id: s.id for s in (await session.exec(
            select(Status).where(Status.reblog_of_id.is_not(None)))).all()}
    # The boost itself is public, but only alice's followers may see what it boosts.
    assert await seen_by(client, headers, str(boosts[int(private_id)])) == {"author", "follower"}
    everyone = await seen_by(client, headers, str(boosts[int(public_id)]))
    assert everyone == set(VIEWERS) - {"blocked", "blocker"}
    shown = await client.get(f"/api/v1/statuses/{boosts[int(public_id)]}", headers=headers["stranger"])
    assert shown.json()["reblog"]["id"] == public_id


async def test_suspended_authors_and_deleted_statuses_are_seen_by_nobody(client):
    accounts, headers = await make_world()
    deleted_id = await post_as_alice(client, headers, "public", text="gone")
    await client.delete(f"/api/v1/statuses/{deleted_id}", headers=headers["author"])
    assert await seen_by(client, headers, deleted_id) == set()

    kept_id = await post_as_alice(client, headers, "public", text="still here")
    async with db.session() as session:
        await session.exec(update(Account).where(Account.id == accounts["author"].id).values(suspended_at=utcnow()))
    # The author's own token stops working when suspended; everyone else gets a 404.
    headers["author"] = {}
    assert await seen_by(client, headers, kept_id) == set()


async def test_the_sql_condition_filters_lists(client):
    accounts, headers = await make_world()
    ids = {level: await post_as_alice(client, headers, level) for level in EXPECTED}
    await block(accounts["author"], accounts["blocked"])
    await block(accounts["blocker"], accounts["author"])
    async with db.session() as session:
        for kind in VIEWERS:
            found = await visibility.visible_ids(session, accounts[kind], [int(i) for i in ids.values()])
            expected = {int(ids[level]) for level, kinds in EXPECTED.items() if kind in kinds}
            assert found == expected, kind
