"""Blocks and mutes through the Mastodon API: what they break, what they hide, their lists."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select, update

from app import db
from app.models import Account, Block, Follow, FollowRequest, Mute
from app.services import relationships
from tests.support.links import cursors
from tests.support.openapi import assert_matches_spec
from tests.support.world import bearer, block, follow, follow_counts, signed_in, token_for


async def rows(model) -> int:
    async with db.session() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def relationship(client, headers, other: Account) -> dict:
    response = await client.get("/api/v1/accounts/relationships", params={"id[]": str(other.id)}, headers=headers)
    return response.json()[0]


async def test_block_breaks_follows_and_requests_both_ways_and_fixes_counts(client):
    alice, alice_h = await signed_in("alice", locked=True)
    bob, bob_h = await signed_in("bob")
    carol, _ = await signed_in("carol", locked=True)
    await follow(alice, bob)
    await follow(bob, alice)  # alice is locked: a pending request
    await follow(bob, carol)  # request; untouched by alice's block
    async with db.session() as session:
        await session.execute(update(Account).where(Account.id == bob.id).values(locked=True))
    await follow(carol, bob)  # carol -> bob request
    assert await follow_counts(bob) == (1, 0)

    response = await client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice_h)
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "POST", "/api/v1/accounts/{id}/block")
    rel = response.json()
    assert (rel["blocking"], rel["following"], rel["followed_by"], rel["requested"], rel["requested_by"]) == \
        (True, False, False, False, False)
    assert await follow_counts(alice) == (0, 0)
    assert await follow_counts(bob) == (0, 0)
    async with db.session() as session:
        left = (await session.exec(select(Follow.account_id, Follow.target_account_id))).all()
        requests = (await session.exec(select(FollowRequest.account_id, FollowRequest.target_account_id))).all()
    assert left == []
    assert sorted(requests) == sorted([(bob.id, carol.id), (carol.id, bob.id)])

    theirs = await relationship(client, bob_h, alice)
    assert (theirs["blocked_by"], theirs["blocking"]) == (True, False)

    again = await client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice_h)
    assert again.status_code == 200 and again.json()["blocking"] is True
    assert await rows(Block) == 1


async def test_block_then_follow_is_refused_both_ways_until_unblocked(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    await client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice_h)

    assert (await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob_h)).status_code == 403
    assert (await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice_h)).status_code == 403
    assert await rows(Follow) == 0 and await rows(FollowRequest) == 0

    unblocked = await client.post(f"/api/v1/accounts/{bob.id}/unblock", headers=alice_h)
    assert unblocked.status_code == 200
    assert_matches_spec(unblocked, "POST", "/api/v1/accounts/{id}/unblock")
    assert unblocked.json()["blocking"] is False
    assert (await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob_h)).json()["following"] is True
    assert await follow_counts(alice) == (1, 0)
    twice = await client.post(f"/api/v1/accounts/{bob.id}/unblock", headers=alice_h)
    assert twice.status_code == 200


async def test_bad_blocks_are_refused_and_change_nothing(client):
    alice, alice_h = await signed_in("alice")
    bob, _ = await signed_in("bob")
    await follow(alice, bob)

    self_block = await client.post(f"/api/v1/accounts/{alice.id}/block", headers=alice_h)
    assert self_block.status_code == 422
    assert_matches_spec(self_block, "POST", "/api/v1/accounts/{id}/block")
    assert self_block.json() == {"error": "You cannot block yourself", "details": {}}
    for path in ("/api/v1/accounts/777777/block", "/api/v1/accounts/bob/block"):
        response = await client.post(path, headers=alice_h)
        assert response.status_code == 404
        assert response.json() == {"error": "Record not found"}
    assert (await client.post(f"/api/v1/accounts/{bob.id}/block")).status_code == 401
    no_scope = await client.post(f"/api/v1/accounts/{bob.id}/block",
                                 headers=bearer(await token_for(alice, "read write:follows")))
    assert no_scope.status_code == 403
    assert (await client.get("/api/v1/blocks")).status_code == 401
    assert await rows(Block) == 0
    assert await follow_counts(bob) == (1, 0)


async def test_blocks_list_is_paginated_by_block(client):
    me, me_h = await signed_in("me")
    others = [await signed_in(f"b{i}") for i in range(3)]
    for other, _ in others:
        await block(me, other)

    first = await client.get("/api/v1/blocks", params={"limit": 2}, headers=me_h)
    assert first.status_code == 200
    assert_matches_spec(first, "GET", "/api/v1/blocks")
    assert [a["acct"] for a in first.json()] == ["b2", "b1"]
    rest = await client.get(first.links["next"]["url"], headers=me_h)
    assert [a["acct"] for a in rest.json()] == ["b0"]
    # As Mastodon: next only on a full page, prev by since_id (the block's id).
    assert set(cursors(first)) == {"next", "prev"} and set(cursors(rest)) == {"prev"}
    async with db.session() as session:
        block_ids = (await session.execute(select(Block.id).order_by(Block.id.desc()))).scalars().all()
    assert cursors(first)["prev"] == ("since_id", str(block_ids[0]))
    other_view = await client.get("/api/v1/blocks", headers=others[0][1])
    assert other_view.json() == []


async def test_mutes_list_is_paginated_by_mute(client):
    me, me_h = await signed_in("me")
    others = [await signed_in(f"m{i}") for i in range(3)]
    for other, _ in others:
        assert (await client.post(f"/api/v1/accounts/{other.id}/mute", headers=me_h)).status_code == 200

    first = await client.get("/api/v1/mutes", params={"limit": 2}, headers=me_h)
    assert first.status_code == 200
    assert_matches_spec(first, "GET", "/api/v1/mutes")
    assert [a["acct"] for a in first.json()] == ["m2", "m1"]
    async with db.session() as session:
        mute_ids = (await session.execute(select(Mute.id).order_by(Mute.id.desc()))).scalars().all()
    assert cursors(first) == {"next": ("max_id", str(mute_ids[1])), "prev": ("since_id", str(mute_ids[0]))}
    rest = await client.get(first.links["next"]["url"], headers=me_h)
    assert [a["acct"] for a in rest.json()] == ["m0"]
    assert cursors(rest) == {"prev": ("since_id", str(mute_ids[2]))}  # a short page is the last


async def test_blocked_accounts_disappear_from_relationship_helpers(client):
    alice, _ = await signed_in("alice")
    bob, _ = await signed_in("bob")
    await follow(alice, bob)
    async with db.session() as session:
        assert await relationships.is_following(session, alice.id, bob.id)
        assert not await relationships.blocked_either_way(session, alice.id, bob.id)
    await block(bob, alice)
    async with db.session() as session:
        assert not await relationships.is_following(session, alice.id, bob.id)
        assert await relationships.blocked_either_way(session, alice.id, bob.id)
        assert await relationships.blocked_either_way(session, bob.id, alice.id)
        assert await relationships.excluded_ids(session, alice.id) == {bob.id}


async def test_mute_with_defaults_then_change_it_then_unmute(client):
    alice, alice_h = await signed_in("alice")
    bob, _ = await signed_in("bob")
    await follow(alice, bob)

    muted = await client.post(f"/api/v1/accounts/{bob.id}/mute", headers=alice_h)
    assert muted.status_code == 200
    assert_matches_spec(muted, "POST", "/api/v1/accounts/{id}/mute")
    assert (muted.json()["muting"], muted.json()["muting_notifications"], muted.json()["muting_expires_at"]) == \
        (True, True, None)
    assert muted.json()["following"] is True  # a mute does not touch follows
    assert await follow_counts(bob) == (1, 0)

    listed = await client.get("/api/v1/mutes", headers=alice_h)
    assert listed.status_code == 200
    assert_matches_spec(listed, "GET", "/api/v1/mutes")
    assert [(a["acct"], a["mute_expires_at"]) for a in listed.json()] == [("bob", None)]

    before = datetime.now(timezone.utc)
    changed = await client.post(f"/api/v1/accounts/{bob.id}/mute", headers=alice_h,
                                json={"notifications": False, "duration": 3600})
    assert changed.json()["muting_notifications"] is False
    expires = datetime.fromisoformat(changed.json()["muting_expires_at"].replace("Z", "+00:00"))
    assert before + timedelta(seconds=3590) < expires < before + timedelta(seconds=3700)
    listed = await client.get("/api/v1/mutes", headers=alice_h)
    assert listed.json()[0]["mute_expires_at"] == changed.json()["muting_expires_at"]
    assert await rows(Mute) == 1

    unmuted = await client.post(f"/api/v1/accounts/{bob.id}/unmute", headers=alice_h)
    assert unmuted.status_code == 200
    assert_matches_spec(unmuted, "POST", "/api/v1/accounts/{id}/unmute")
    assert unmuted.json()["muting"] is False
    assert (await client.get("/api/v1/mutes", headers=alice_h)).json() == []


async def test_an_expired_mute_no_longer_applies(client):
    alice, alice_h = await signed_in("alice")
    bob, _ = await signed_in("bob")
    await client.post(f"/api/v1/accounts/{bob.id}/mute", headers=alice_h, data={"duration": "60"})
    async with db.session() as session:
        await session.execute(update(Mute).values(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))

    rel = await relationship(client, alice_h, bob)
    assert (rel["muting"], rel["muting_notifications"], rel["muting_expires_at"]) == (False, False, None)
    assert (await client.get("/api/v1/mutes", headers=alice_h)).json() == []
    async with db.session() as session:
        assert not await relationships.is_muting(session, alice.id, bob.id)
        assert await relationships.excluded_ids(session, alice.id) == set()


async def test_bad_mutes_are_refused_and_change_nothing(client):
    alice, alice_h = await signed_in("alice")
    bob, _ = await signed_in("bob")
    cases = [
        (f"/api/v1/accounts/{bob.id}/mute", {"duration": -5}, 422),
        (f"/api/v1/accounts/{bob.id}/mute", {"duration": "soon"}, 422),
        (f"/api/v1/accounts/{bob.id}/mute", {"duration": 10**12}, 422),
        (f"/api/v1/accounts/{bob.id}/mute", {"notifications": "perhaps"}, 422),
        (f"/api/v1/accounts/{alice.id}/mute", {}, 422),
        ("/api/v1/accounts/888888/mute", {}, 404),
    ]
    for path, body, status in cases:
        response = await client.post(path, headers=alice_h, json=body)
        assert response.status_code == status, (path, body, response.text)
        assert "error" in response.json()
    assert (await client.post(f"/api/v1/accounts/{bob.id}/mute")).status_code == 401
    no_scope = await client.post(f"/api/v1/accounts/{bob.id}/mute", headers=bearer(await token_for(alice, "read")))
    assert no_scope.status_code == 403
    assert (await client.get("/api/v1/mutes", headers=bearer(await token_for(alice, "write")))).status_code == 403
    assert await rows(Mute) == 0


async def test_muted_accounts_are_left_out_of_the_muters_view_of_lists(client):
    star, _ = await signed_in("star")
    fan, _ = await signed_in("fan")
    me, me_h = await signed_in("me")
    await follow(fan, star)
    await client.post(f"/api/v1/accounts/{fan.id}/mute", headers=me_h)
    assert (await client.get(f"/api/v1/accounts/{star.id}/followers", headers=me_h)).json() == []
    await client.post(f"/api/v1/accounts/{fan.id}/unmute", headers=me_h)
    assert [a["acct"] for a in (await client.get(f"/api/v1/accounts/{star.id}/followers",
                                                  headers=me_h)).json()] == ["fan"]


async def test_a_block_hides_posts_both_ways_and_unblocking_shows_them_again(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    await follow(bob, alice)
    await follow(alice, bob)
    posted = {}
    for name, headers in (("alice", alice_h), ("bob", bob_h)):
        for visibility in ("public", "private"):
            response = await client.post("/api/v1/statuses", headers=headers,
                                         json={"status": f"{name} {visibility}", "visibility": visibility})
            assert response.status_code == 200, response.text
            posted[name, visibility] = response.json()["id"]
    assert (await client.get(f"/api/v1/statuses/{posted['alice', 'private']}", headers=bob_h)).status_code == 200

    await client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice_h)  # alice blocks bob
    for visibility in ("public", "private"):
        hidden_from_blocked = await client.get(f"/api/v1/statuses/{posted['alice', visibility]}", headers=bob_h)
        assert hidden_from_blocked.status_code == 404
        hidden_from_blocker = await client.get(f"/api/v1/statuses/{posted['bob', visibility]}", headers=alice_h)
        assert hidden_from_blocker.status_code == 404
    # still there for everyone else
    assert (await client.get(f"/api/v1/statuses/{posted['alice', 'public']}")).status_code == 200

    await client.post(f"/api/v1/accounts/{bob.id}/unblock", headers=alice_h)
    assert (await client.get(f"/api/v1/statuses/{posted['alice', 'public']}", headers=bob_h)).status_code == 200
    # the block ended the follow, so the private post stays out of reach until bob follows again
    assert (await client.get(f"/api/v1/statuses/{posted['alice', 'private']}", headers=bob_h)).status_code == 404
