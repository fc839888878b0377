"""Following through the Mastodon API: follow/unfollow, locked accounts and follow requests,
followers/following lists, relationships, familiar followers, counts under concurrency, limits."""
from __future__ import annotations

import asyncio
import dataclasses

import httpx
from mastodon import Mastodon
from sqlalchemy import func, select, update

from app import db
from app.config import configure
from app.main import create_app
from app.models import Account, Follow, FollowRequest
from tests.support.links import cursors
from tests.support.openapi import assert_matches_spec
from tests.support.world import bearer, block, follow, follow_counts, make_user, signed_in, token_for

REL = "/api/v1/accounts/{id}/follow"


async def graph_rows() -> tuple[int, int]:
    async with db.session() as session:
        follows_n = (await session.execute(select(func.count()).select_from(Follow))).scalar_one()
        requests_n = (await session.execute(select(func.count()).select_from(FollowRequest))).scalar_one()
        return follows_n, requests_n


async def test_following_an_unlocked_account_follows_at_once_and_counts_move(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")

    response = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice_h)
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "POST", "/api/v1/accounts/{id}/follow")
    rel = response.json()
    assert rel["id"] == str(bob.id)
    assert (rel["following"], rel["requested"], rel["showing_reblogs"], rel["notifying"]) == (True, False, True, False)
    assert (rel["followed_by"], rel["blocking"], rel["blocked_by"], rel["muting"]) == (False, False, False, False)
    assert (rel["domain_blocking"], rel["endorsed"], rel["note"]) == (False, False, "")
    assert await follow_counts(alice) == (0, 1)
    assert await follow_counts(bob) == (1, 0)

    profile = await client.get(f"/api/v1/accounts/{bob.id}")
    assert profile.json()["followers_count"] == 1

    seen_by_bob = await client.get("/api/v1/accounts/relationships", params={"id[]": str(alice.id)}, headers=bob_h)
    assert_matches_spec(seen_by_bob, "GET", "/api/v1/accounts/relationships")
    assert seen_by_bob.json()[0]["followed_by"] is True
    assert seen_by_bob.json()[0]["following"] is False


async def test_follow_options_are_kept_and_following_again_changes_them_without_counting_twice(client):
    alice, alice_h = await signed_in("alice")
    bob, _ = await signed_in("bob")
    first = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice_h,
                              json={"reblogs": False, "notify": True, "languages": ["en", "DE"]})
    assert first.status_code == 200
    assert (first.json()["showing_reblogs"], first.json()["notifying"], first.json()["languages"]) == \
        (False, True, ["en", "de"])

    again = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice_h, data={"reblogs": "true"})
    assert again.status_code == 200
    assert_matches_spec(again, "POST", "/api/v1/accounts/{id}/follow")
    # Only what was sent changes: notify and languages stay.
    assert (again.json()["showing_reblogs"], again.json()["notifying"], again.json()["languages"]) == \
        (True, True, ["en", "de"])
    assert await follow_counts(bob) == (1, 0)
    assert await follow_counts(alice) == (0, 1)
    assert await graph_rows() == (1, 0)


async def test_invalid_languages_are_refused_and_nothing_is_followed(client):
    alice, alice_h = await signed_in("alice")
    bob, _ = await signed_in("bob")
    response = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice_h,
                                 json={"languages": ["english!"]})
    assert response.status_code == 422
    assert "language" in response.json()["error"]
    assert await graph_rows() == (0, 0)
    assert await follow_counts(bob) == (0, 0)


async def test_locked_account_gets_a_request_which_it_can_authorize(client):
    alice, alice_h = await signed_in("alice")
    carol, carol_h = await signed_in("carol", locked=True)

    response = await client.post(f"/api/v1/accounts/{carol.id}/follow", headers=alice_h, json={"notify": True})
    assert response.status_code == 200
    assert_matches_spec(response, "POST", "/api/v1/accounts/{id}/follow")
    assert (response.json()["following"], response.json()["requested"], response.json()["notifying"]) == \
        (False, True, True)
    assert await follow_counts(carol) == (0, 0)

    pending = await client.get("/api/v1/follow_requests", headers=carol_h)
    assert pending.status_code == 200
    assert_matches_spec(pending, "GET", "/api/v1/follow_requests")
    assert [a["acct"] for a in pending.json()] == ["alice"]
    assert set(cursors(pending)) == {"prev"} and cursors(pending)["prev"][0] == "since_id"  # one of 40: the last
    me = await client.get("/api/v1/accounts/verify_credentials", headers=carol_h)
    assert me.json()["source"]["follow_requests_count"] == 1
    rel = await client.get("/api/v1/accounts/relationships", params={"id[]": str(alice.id)}, headers=carol_h)
    assert rel.json()[0]["requested_by"] is True

    authorized = await client.post(f"/api/v1/follow_requests/{alice.id}/authorize", headers=carol_h)
    assert authorized.status_code == 200
    assert_matches_spec(authorized, "POST", "/api/v1/follow_requests/{account_id}/authorize")
    assert (authorized.json()["followed_by"], authorized.json()["requested_by"]) == (True, False)

    mine = await client.get("/api/v1/accounts/relationships", params={"id[]": str(carol.id)}, headers=alice_h)
    assert (mine.json()[0]["following"], mine.json()[0]["requested"], mine.json()[0]["notifying"]) == \
        (True, False, True)
    assert await follow_counts(carol) == (1, 0)
    assert await follow_counts(alice) == (0, 1)
    assert (await client.get("/api/v1/follow_requests", headers=carol_h)).json() == []
    me = await client.get("/api/v1/accounts/verify_credentials", headers=carol_h)
    assert me.json()["source"]["follow_requests_count"] == 0


async def test_rejecting_a_request_removes_it_without_following(client):
    alice, alice_h = await signed_in("alice")
    carol, carol_h = await signed_in("carol", locked=True)
    await client.post(f"/api/v1/accounts/{carol.id}/follow", headers=alice_h)

    rejected = await client.post(f"/api/v1/follow_requests/{alice.id}/reject", headers=carol_h)
    assert rejected.status_code == 200
    assert_matches_spec(rejected, "POST", "/api/v1/follow_requests/{account_id}/reject")
    assert (rejected.json()["followed_by"], rejected.json()["requested_by"]) == (False, False)
    assert await graph_rows() == (0, 0)
    assert await follow_counts(carol) == (0, 0)

    again = await client.post(f"/api/v1/follow_requests/{alice.id}/reject", headers=carol_h)
    assert again.status_code == 404


async def test_authorizing_a_request_that_does_not_exist_is_404_and_changes_nothing(client):
    alice, alice_h = await signed_in("alice")
    carol, carol_h = await signed_in("carol", locked=True)
    for path in (f"/api/v1/follow_requests/{alice.id}/authorize", "/api/v1/follow_requests/12345/authorize",
                 "/api/v1/follow_requests/abc/authorize", f"/api/v1/follow_requests/{2**64}/authorize"):
        response = await client.post(path, headers=carol_h)
        assert response.status_code == 404, path
        assert response.json() == {"error": "Record not found"}
    # alice cannot authorize her own request to carol either
    await client.post(f"/api/v1/accounts/{carol.id}/follow", headers=alice_h)
    wrong_side = await client.post(f"/api/v1/follow_requests/{carol.id}/authorize", headers=alice_h)
    assert wrong_side.status_code == 404
    assert await graph_rows() == (0, 1)
    assert await follow_counts(carol) == (0, 0)


async def test_unfollow_removes_the_follow_or_the_pending_request(client):
    alice, alice_h = await signed_in("alice")
    bob, _ = await signed_in("bob")
    carol, carol_h = await signed_in("carol", locked=True)
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice_h)
    await client.post(f"/api/v1/accounts/{carol.id}/follow", headers=alice_h)

    response = await client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=alice_h)
    assert response.status_code == 200
    assert_matches_spec(response, "POST", "/api/v1/accounts/{id}/unfollow")
    assert response.json()["following"] is False
    assert await follow_counts(bob) == (0, 0)
    assert await follow_counts(alice) == (0, 0)

    withdrawn = await client.post(f"/api/v1/accounts/{carol.id}/unfollow", headers=alice_h)
    assert withdrawn.json()["requested"] is False
    assert (await client.get("/api/v1/follow_requests", headers=carol_h)).json() == []

    twice = await client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=alice_h)
    assert twice.status_code == 200
    assert await follow_counts(bob) == (0, 0)
    assert await graph_rows() == (0, 0)


async def test_remove_from_followers(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice_h)

    response = await client.post(f"/api/v1/accounts/{alice.id}/remove_from_followers", headers=bob_h)
    assert response.status_code == 200
    assert_matches_spec(response, "POST", "/api/v1/accounts/{id}/remove_from_followers")
    assert response.json()["followed_by"] is False
    assert await follow_counts(bob) == (0, 0)
    assert await follow_counts(alice) == (0, 0)
    assert await graph_rows() == (0, 0)


async def test_bad_follows_are_refused_with_a_clear_error_and_change_nothing(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    dave, _ = await signed_in("dave")
    await block(dave, alice)  # dave blocks alice
    await block(alice, bob)  # alice blocks bob

    self_follow = await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=alice_h)
    assert self_follow.status_code == 403
    assert_matches_spec(self_follow, "POST", "/api/v1/accounts/{id}/follow")
    assert self_follow.json() == {"error": "You cannot follow yourself"}

    of_blocker = await client.post(f"/api/v1/accounts/{dave.id}/follow", headers=alice_h)
    assert of_blocker.status_code == 403
    assert "blocked you" in of_blocker.json()["error"]

    of_blocked = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice_h)
    assert of_blocked.status_code == 403
    assert "unblock" in of_blocked.json()["error"]
    blocked_follows_back = await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob_h)
    assert blocked_follows_back.status_code == 403

    for path in ("/api/v1/accounts/999999/follow", "/api/v1/accounts/abc/follow",
                 f"/api/v1/accounts/{2**64}/follow", "/api/v1/accounts/-1/follow"):
        response = await client.post(path, headers=alice_h)
        assert response.status_code == 404, path
        assert response.json() == {"error": "Record not found"}

    assert await graph_rows() == (0, 0)
    for account in (alice, bob, dave):
        assert await follow_counts(account) == (0, 0)


async def test_unconfirmed_and_suspended_accounts_cannot_be_followed(client):
    alice, alice_h = await signed_in("alice")
    pending, _ = await make_user("pending", confirmed=False)
    gone, _ = await signed_in("gone")
    async with db.session() as session:
        await session.execute(update(Account).where(Account.id == gone.id).values(suspended_at=func.now()))
    for target in (pending, gone):
        response = await client.post(f"/api/v1/accounts/{target.id}/follow", headers=alice_h)
        assert response.status_code == 404
    assert await graph_rows() == (0, 0)


async def test_tokens_without_the_follow_scopes_or_user_are_refused(client):
    alice, _ = await signed_in("alice")
    bob, _ = await signed_in("bob")
    read_only = bearer(await token_for(alice, "read"))
    blocks_only = bearer(await token_for(alice, "write:blocks"))
    app_only = bearer(await token_for(None, "read write follow"))

    for headers in (read_only, blocks_only):
        response = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=headers)
        assert response.status_code == 403
        assert response.json() == {"error": "This action is outside the authorized scopes"}
    anonymous = await client.post(f"/api/v1/accounts/{bob.id}/follow")
    assert anonymous.status_code == 401
    assert_matches_spec(anonymous, "POST", "/api/v1/accounts/{id}/follow")
    no_user = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=app_only)
    assert no_user.status_code == 422
    assert (await client.get("/api/v1/accounts/relationships", params={"id[]": str(bob.id)})).status_code == 401
    assert (await client.get("/api/v1/follow_requests")).status_code == 401

    # the legacy `follow` scope and `write:follows` are both enough
    legacy = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=bearer(await token_for(alice, "follow")))
    assert legacy.status_code == 200
    narrow = await client.post(f"/api/v1/accounts/{bob.id}/follow",
                               headers=bearer(await token_for(alice, "write:follows")))
    assert narrow.status_code == 200
    assert await follow_counts(bob) == (1, 0)


async def test_many_accounts_following_one_at_once_keep_the_count_exact(app, client, settings):
    target, _ = await signed_in("target")
    followers = [await signed_in(f"fan{i}") for i in range(15)]

    async def follow_over_http(headers):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as own:
            return await own.post(f"/api/v1/accounts/{target.id}/follow", headers=headers)

    # everyone at once, and every follow sent twice
    responses = await asyncio.gather(*[follow_over_http(h) for _, h in followers for _ in range(2)])
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses if r.status_code != 200]
    assert await follow_counts(target) == (15, 0)
    assert await graph_rows() == (15, 0)
    for account, _ in followers:
        assert await follow_counts(account) == (0, 1)

    # and all unfollow at once, twice each
    async def unfollow(headers):
        return await client.post(f"/api/v1/accounts/{target.id}/unfollow", headers=headers)

    await asyncio.gather(*[unfollow(h) for _, h in followers for _ in range(2)])
    assert await follow_counts(target) == (0, 0)


async def test_accounts_following_each_other_at_the_same_moment(client):
    pairs = [(await signed_in(f"a{i}"), await signed_in(f"b{i}")) for i in range(5)]
    calls = []
    for (a, a_h), (b, b_h) in pairs:
        calls.append(client.post(f"/api/v1/accounts/{b.id}/follow", headers=a_h))
        calls.append(client.post(f"/api/v1/accounts/{a.id}/follow", headers=b_h))
    responses = await asyncio.gather(*calls)
    assert {r.status_code for r in responses} == {200}
    for (a, _), (b, _) in pairs:
        assert await follow_counts(a) == (1, 1)
        assert await follow_counts(b) == (1, 1)


async def test_followers_and_following_are_paginated_with_link_headers(client):
    star, star_h = await signed_in("star")
    fans = [await signed_in(f"fan{i}") for i in range(5)]
    for fan, _ in fans:
        await follow(fan, star)
    await follow(star, fans[0][0])

    first = await client.get(f"/api/v1/accounts/{star.id}/followers", params={"limit": 2})
    assert first.status_code == 200
    assert_matches_spec(first, "GET", "/api/v1/accounts/{id}/followers")
    assert [a["acct"] for a in first.json()] == ["fan4", "fan3"]  # newest follow first
    next_url = first.links["next"]["url"]
    second = await client.get(next_url)
    assert [a["acct"] for a in second.json()] == ["fan2", "fan1"]
    third = await client.get(second.links["next"]["url"])
    assert [a["acct"] for a in third.json()] == ["fan0"]
    # As Mastodon's account lists: a short page is the last (no next), and prev is by since_id.
    assert set(cursors(third)) == {"prev"} and cursors(second)["prev"][0] == "since_id"
    back = await client.get(second.links["prev"]["url"])
    assert [a["acct"] for a in back.json()] == ["fan4", "fan3"]

    following = await client.get(f"/api/v1/accounts/{star.id}/following", headers=star_h)
    assert_matches_spec(following, "GET", "/api/v1/accounts/{id}/following")
    assert [a["acct"] for a in following.json()] == ["fan0"]
    assert set(cursors(following)) == {"prev"} and cursors(following)["prev"][0] == "since_id"
    assert following.json()[0]["followers_count"] == 1

    unknown = await client.get("/api/v1/accounts/424242/followers")
    assert unknown.status_code == 404
    assert_matches_spec(unknown, "GET", "/api/v1/accounts/{id}/followers")
    bad_limit = await client.get(f"/api/v1/accounts/{star.id}/followers", params={"limit": "many"})
    assert bad_limit.status_code == 422


async def test_hidden_collections_are_empty_for_others_but_not_for_the_owner(client):
    shy, shy_h = await signed_in("shy")
    fan, fan_h = await signed_in("fan")
    await follow(fan, shy)
    await follow(shy, fan)
    async with db.session() as session:
        await session.execute(update(Account).where(Account.id == shy.id).values(hide_collections=True))

    for path in (f"/api/v1/accounts/{shy.id}/followers", f"/api/v1/accounts/{shy.id}/following"):
        assert (await client.get(path)).json() == []
        assert (await client.get(path, headers=fan_h)).json() == []
        assert [a["acct"] for a in (await client.get(path, headers=shy_h)).json()] == ["fan"]


async def test_lists_leave_out_accounts_blocked_either_way_and_blockers_hide_their_network(client):
    star, _ = await signed_in("star")
    fan, _ = await signed_in("fan")
    viewer, viewer_h = await signed_in("viewer")
    await follow(fan, star)
    await block(viewer, fan)
    listed = await client.get(f"/api/v1/accounts/{star.id}/followers", headers=viewer_h)
    assert listed.json() == []
    assert [a["acct"] for a in (await client.get(f"/api/v1/accounts/{star.id}/followers")).json()] == ["fan"]

    # an account that blocks the viewer shows the viewer nothing of its network
    blocked_viewer, blocked_h = await signed_in("outsider")
    await block(star, blocked_viewer)
    assert (await client.get(f"/api/v1/accounts/{star.id}/followers", headers=blocked_h)).json() == []


async def test_relationships_for_several_ids_skip_unknown_ones(client):
    alice, alice_h = await signed_in("alice")
    bob, _ = await signed_in("bob")
    carol, _ = await signed_in("carol", locked=True)
    await follow(alice, bob)
    await follow(alice, carol)
    await follow(bob, alice)

    response = await client.get(
        f"/api/v1/accounts/relationships?id[]={carol.id}&id[]=999999&id[]=abc&id[]={bob.id}&id[]={carol.id}",
        headers=alice_h)
    assert response.status_code == 200
    assert_matches_spec(response, "GET", "/api/v1/accounts/relationships")
    body = response.json()
    assert [r["id"] for r in body] == [str(carol.id), str(bob.id)]
    assert (body[0]["following"], body[0]["requested"]) == (False, True)
    assert (body[1]["following"], body[1]["followed_by"]) == (True, True)

    single = await client.get("/api/v1/accounts/relationships", params={"id": str(bob.id)}, headers=alice_h)
    assert [r["id"] for r in single.json()] == [str(bob.id)]
    assert (await client.get("/api/v1/accounts/relationships", headers=alice_h)).json() == []


async def test_relationships_answer_in_a_fixed_number_of_queries(client):
    from sqlalchemy import event

    from app.services import relationships

    viewer, _ = await signed_in("viewer")
    others = [await signed_in(f"o{i}") for i in range(8)]
    for other, _ in others:
        await follow(viewer, other)

    async def count_queries(ids):
        seen = []
        async with db.session() as session:
            engine = db.engine().sync_engine

            def before(*args):
                seen.append(1)

            event.listen(engine, "before_cursor_execute", before)
            try:
                found = await relationships.list_for(session, viewer.id, ids)
            finally:
                event.remove(engine, "before_cursor_execute", before)
        return len(seen), found

    few, found_few = await count_queries([others[0][0].id])
    many, found_many = await count_queries([o.id for o, _ in others])
    assert few == many
    assert len(found_many) == 8 and all(r.following for r in found_many)


async def test_familiar_followers(client):
    me, me_h = await signed_in("me")
    friend, _ = await signed_in("friend")
    stranger, _ = await signed_in("stranger")
    star, _ = await signed_in("star")
    await follow(me, friend)
    await follow(friend, star)
    await follow(stranger, star)

    response = await client.get("/api/v1/accounts/familiar_followers",
                                params=[("id[]", str(star.id)), ("id[]", str(stranger.id)), ("id[]", "31337")],
                                headers=me_h)
    assert response.status_code == 200
    assert_matches_spec(response, "GET", "/api/v1/accounts/familiar_followers")
    body = response.json()
    assert [entry["id"] for entry in body] == [str(star.id), str(stranger.id)]
    assert [a["acct"] for a in body[0]["accounts"]] == ["friend"]
    assert body[1]["accounts"] == []


async def test_endorsements_are_an_honest_empty_list(client):
    _, headers = await signed_in("alice")
    response = await client.get("/api/v1/endorsements", headers=headers)
    assert response.status_code == 200
    assert_matches_spec(response, "GET", "/api/v1/endorsements")
    assert response.json() == []


async def test_follow_rate_limit_per_account(settings):
    limited = dataclasses.replace(settings, rate_limits=True, rate_limit_follows=2, rate_limit_api=1000)
    app = create_app(limited)
    try:
        alice, alice_h = await signed_in("alice")
        targets = [await signed_in(f"t{i}") for i in range(3)]
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as c:
            first = await c.post(f"/api/v1/accounts/{targets[0][0].id}/follow", headers=alice_h)
            assert first.status_code == 200
            assert (first.headers["x-ratelimit-limit"], first.headers["x-ratelimit-remaining"]) == ("2", "1")
            second = await c.post(f"/api/v1/accounts/{targets[1][0].id}/follow", headers=alice_h)
            assert second.status_code == 200
            # changing the options of an existing follow spends nothing
            update_options = await c.post(f"/api/v1/accounts/{targets[0][0].id}/follow", headers=alice_h,
                                          json={"reblogs": False})
            assert update_options.status_code == 200
            third = await c.post(f"/api/v1/accounts/{targets[2][0].id}/follow", headers=alice_h)
            assert third.status_code == 429
            assert_matches_spec(third, "POST", "/api/v1/accounts/{id}/follow")
            assert third.json() == {"error": "Too many requests"}
            assert third.headers["x-ratelimit-limit"] == "2"
            assert third.headers["x-ratelimit-remaining"] == "0"
            assert third.headers["x-ratelimit-reset"].endswith("Z")
            assert "," not in third.headers["x-ratelimit-limit"]  # one budget reported, not two
        assert await follow_counts(targets[2][0]) == (0, 0)
        assert await follow_counts(alice) == (0, 2)
    finally:
        configure(settings)


async def test_mastodon_py_follows_a_locked_account_gets_approved_then_blocks(client, live_server):
    fan, _ = await make_user("fan")
    idol, _ = await signed_in("idol", locked=True)
    fan_token, idol_token = await token_for(fan), await token_for(idol)

    def use_clients():
        fan_api = Mastodon(access_token=fan_token, api_base_url=live_server, version_check_mode="none")
        idol_api = Mastodon(access_token=idol_token, api_base_url=live_server, version_check_mode="none")
        asked = fan_api.account_follow(idol.id, reblogs=False)
        waiting = idol_api.follow_requests()
        idol_api.follow_request_authorize(fan.id)
        after = fan_api.account_relationships(idol.id)[0]
        followers = fan_api.account_followers(idol.id)
        blocked = idol_api.account_block(fan.id)
        return asked, waiting, after, followers, blocked, idol_api.blocks(), fan_api.account_relationships(idol.id)[0]

    asked, waiting, after, followers, blocked, blocks_list, finally_ = await asyncio.to_thread(use_clients)
    assert (asked.requested, asked.following) == (True, False)
    assert [a.acct for a in waiting] == ["fan"]
    assert (after.following, after.showing_reblogs) == (True, False)
    assert [a.acct for a in followers] == ["fan"]
    assert (blocked.blocking, blocked.followed_by) == (True, False)
    assert [a.acct for a in blocks_list] == ["fan"]
    assert (finally_.blocked_by, finally_.following) == (True, False)
    assert await follow_counts(idol) == (0, 0)
