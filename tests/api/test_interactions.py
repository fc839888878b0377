"""Favourites, boosts, bookmarks, pins and conversation mutes through the Mastodon API;
who favourited / boosted; /api/v1/favourites and /api/v1/bookmarks; counts under
concurrency; the favourite rate limit."""
from __future__ import annotations

import asyncio
import dataclasses
import re

import httpx
from sqlalchemy import update
from sqlmodel import select

from app import db
from app.config import configure
from app.main import create_app
from app.models import Account, Bookmark, ConversationMute, Favourite, Status, StatusPin, User
from app.services import interactions, rate_limits
from tests.support.links import cursors
from tests.support.openapi import assert_matches_spec
from tests.support.world import block, count, follow, post_status, signed_in

S = "/api/v1/statuses/{id}"


async def stored(status_id) -> Status:
    async with db.session() as session:
        return await session.get(Status, int(status_id), populate_existing=True)


async def statuses_count(account: Account) -> int:
    async with db.session() as session:
        return (await session.get(Account, account.id, populate_existing=True)).statuses_count


async def act(client, headers, status_id, action: str, **data) -> httpx.Response:
    return await client.post(f"/api/v1/statuses/{status_id}/{action}", headers=headers, json=data or None)


def link_ids(response: httpx.Response) -> dict[str, str]:
    """{"next": max_id, "prev": min_id} from the Link header."""
    return {rel: value for value, rel in re.findall(r'[?&](?:max_id|min_id)=(\d+)[^>]*>; rel="(\w+)"',
                                                    response.headers.get("link", ""))}


# -- favourites ---------------------------------------------------------------------------------

async def test_favourite_twice_counts_once_and_unfavourite_is_idempotent(client):
    alice, alice_h = await signed_in("alice")
    _, bob_h = await signed_in("bob")
    status_id = (await post_status(client, alice_h, status="like me")).json()["id"]

    liked = await act(client, bob_h, status_id, "favourite")
    assert liked.status_code == 200
    assert_matches_spec(liked, "POST", S + "/favourite")
    assert (liked.json()["id"], liked.json()["favourited"], liked.json()["favourites_count"]) == (status_id, True, 1)
    again = await act(client, bob_h, status_id, "favourite")
    assert (again.status_code, again.json()["favourites_count"]) == (200, 1)
    assert await count(Favourite) == 1

    # others see the count, not bob's flag
    seen = (await client.get(f"/api/v1/statuses/{status_id}", headers=alice_h)).json()
    assert (seen["favourites_count"], seen["favourited"]) == (1, False)

    undone = await act(client, bob_h, status_id, "unfavourite")
    assert undone.status_code == 200
    assert_matches_spec(undone, "POST", S + "/unfavourite")
    assert (undone.json()["favourited"], undone.json()["favourites_count"]) == (False, 0)
    never = await act(client, bob_h, status_id, "unfavourite")  # never favourited (any more): still 200
    assert (never.status_code, never.json()["favourites_count"]) == (200, 0)
    assert await count(Favourite) == 0
    assert (await stored(status_id)).favourites_count == 0


async def test_concurrent_favourites_are_counted_exactly(client):
    _, author_h = await signed_in("author")
    status_id = (await post_status(client, author_h, status="popular")).json()["id"]
    fans = [await signed_in(f"fan{i}") for i in range(20)]
    # each fan likes it, and half of them press the button three times at once
    requests = [act(client, h, status_id, "favourite") for n, (_, h) in enumerate(fans) for _ in range(3 if n % 2 else 1)]
    responses = await asyncio.gather(*requests)
    assert {r.status_code for r in responses} == {200}
    assert (await stored(status_id)).favourites_count == 20
    assert await count(Favourite) == 20

    undo = [act(client, h, status_id, "unfavourite") for _, h in fans[:10] for _ in range(2)]
    assert {r.status_code for r in await asyncio.gather(*undo)} == {200}
    assert (await stored(status_id)).favourites_count == 10
    assert await count(Favourite) == 10


async def test_favourite_of_an_invisible_or_deleted_post_is_not_found(client):
    alice, alice_h = await signed_in("alice")
    _, bob_h = await signed_in("bob")
    private = (await post_status(client, alice_h, status="followers only", visibility="private")).json()["id"]
    direct = (await post_status(client, alice_h, status="just me", visibility="direct")).json()["id"]
    deleted = (await post_status(client, alice_h, status="gone soon")).json()["id"]
    assert (await client.delete(f"/api/v1/statuses/{deleted}", headers=alice_h)).status_code == 200

    for status_id in (private, direct, deleted, "31337", "not-a-number"):
        response = await act(client, bob_h, status_id, "favourite")
        assert response.status_code == 404, status_id
        assert response.json() == {"error": "Record not found"}
    assert_matches_spec(response, "POST", S + "/favourite")
    assert await count(Favourite) == 0
    assert {(await stored(i)).favourites_count for i in (private, direct, deleted)} == {0}


async def test_favourite_of_a_boost_favourites_the_boosted_post(client):
    _, alice_h = await signed_in("alice")
    _, bob_h = await signed_in("bob")
    _, carol_h = await signed_in("carol")
    original = (await post_status(client, alice_h, status="original")).json()["id"]
    boost = (await act(client, bob_h, original, "reblog")).json()["id"]
    liked = await act(client, carol_h, boost, "favourite")
    assert (liked.status_code, liked.json()["id"], liked.json()["favourited"]) == (200, original, True)
    assert (await stored(original)).favourites_count == 1
    assert (await stored(boost)).favourites_count == 0


async def test_favourites_need_the_favourites_scope(client):
    _, alice_h = await signed_in("alice")
    _, reader_h = await signed_in("reader", scopes="read write:statuses")
    status_id = (await post_status(client, alice_h, status="hi")).json()["id"]
    refused = await act(client, reader_h, status_id, "favourite")
    assert refused.status_code == 403
    assert await count(Favourite) == 0


async def test_favourite_rate_limit_refuses_with_429_and_changes_nothing(settings):
    _, alice_h = await signed_in("alice")
    _, bob_h = await signed_in("bob")
    limited = create_app(dataclasses.replace(settings, rate_limits=True, rate_limit_favourites=2,
                                             rate_limit_api=1000))
    try:
        transport = httpx.ASGITransport(app=limited, client=("127.0.0.1", 50002))
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as c:
            ids = [(await post_status(c, alice_h, status=f"post {n}")).json()["id"] for n in range(3)]
            assert (await act(c, bob_h, ids[0], "favourite")).status_code == 200
            assert (await act(c, bob_h, ids[0], "favourite")).status_code == 200  # already liked: free
            assert (await act(c, bob_h, ids[1], "favourite")).status_code == 200
            third = await act(c, bob_h, ids[2], "favourite")
            unlike = await act(c, bob_h, ids[0], "unfavourite")  # taking back is never limited
    finally:
        configure(settings)
    assert third.status_code == 429
    assert_matches_spec(third, "POST", S + "/favourite")
    assert third.json() == {"error": "Too many requests"}
    assert (third.headers["X-RateLimit-Limit"], third.headers["X-RateLimit-Remaining"]) == ("2", "0")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", third.headers["X-RateLimit-Reset"])
    assert unlike.status_code == 200
    assert (await stored(ids[2])).favourites_count == 0
    assert await count(Favourite, Favourite.status_id == int(ids[2])) == 0


async def test_a_favourite_that_writes_nothing_spends_no_budget(client, settings):
    """Favourites of the same post at once: one is stored and only that one is counted against
    the budget (the others found the row there and gave back what they had counted)."""
    _, alice_h = await signed_in("alice")
    bob, _ = await signed_in("bob")
    posts = [(await post_status(client, alice_h, status=f"post {n}")).json()["id"] for n in range(3)]
    configure(dataclasses.replace(settings, rate_limits=True, rate_limit_favourites=10))
    try:
        for status_id in posts:
            await asyncio.gather(*(interactions.favourite(bob, status_id) for _ in range(4)))
        budget = await rate_limits.current("favourites", bob.id)
    finally:
        configure(settings)
    assert await count(Favourite, Favourite.account_id == bob.id) == 3
    assert budget.used == 3


# -- boosts -------------------------------------------------------------------------------------

async def test_reblog_makes_a_boost_once_and_unreblog_removes_it(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    original = (await post_status(client, alice_h, status="boost me")).json()["id"]

    boosted = await act(client, bob_h, original, "reblog", visibility="unlisted")
    assert boosted.status_code == 200
    assert_matches_spec(boosted, "POST", S + "/reblog")
    body = boosted.json()
    assert body["id"] != original and body["reblog"]["id"] == original
    assert (body["visibility"], body["reblogged"], body["account"]["acct"]) == ("unlisted", True, "bob")
    assert (body["reblog"]["reblogs_count"], body["reblog"]["reblogged"]) == (1, True)
    again = await act(client, bob_h, original, "reblog")
    assert again.json()["id"] == body["id"]
    assert await count(Status, Status.reblog_of_id == int(original)) == 1
    assert await statuses_count(bob) == 1

    # what the author and others see
    seen = (await client.get(f"/api/v1/statuses/{body['id']}")).json()
    assert seen["reblog"]["id"] == original

    undone = await act(client, bob_h, original, "unreblog")
    assert undone.status_code == 200
    assert_matches_spec(undone, "POST", S + "/unreblog")
    assert (undone.json()["id"], undone.json()["reblogged"], undone.json()["reblogs_count"]) == (original, False, 0)
    assert (await stored(body["id"])).deleted_at is not None
    assert (await client.get(f"/api/v1/statuses/{body['id']}")).status_code == 404
    assert await statuses_count(bob) == 0
    never = await act(client, bob_h, original, "unreblog")
    assert (never.status_code, never.json()["reblogs_count"]) == (200, 0)
    # boosting again after undoing works (the unique index only covers live boosts)
    assert (await act(client, bob_h, original, "reblog")).json()["reblog"]["reblogs_count"] == 1


async def test_concurrent_reblogs_make_one_boost_per_account(client):
    _, alice_h = await signed_in("alice")
    original = (await post_status(client, alice_h, status="everyone boost")).json()["id"]
    boosters = [await signed_in(f"b{i}") for i in range(8)]
    responses = await asyncio.gather(*[act(client, h, original, "reblog") for _, h in boosters for _ in range(2)])
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["id"] for r in responses}) == 8
    assert (await stored(original)).reblogs_count == 8
    assert await count(Status, Status.reblog_of_id == int(original), Status.deleted_at.is_(None)) == 8


async def test_boosting_private_and_direct_posts(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    _, stranger_h = await signed_in("stranger")
    await follow(bob, alice)
    private = (await post_status(client, alice_h, status="for followers", visibility="private")).json()["id"]
    direct = (await post_status(client, alice_h, status="@bob psst", visibility="direct")).json()["id"]

    # bob can see both, but may boost neither: Mastodon answers 403 (not in the OpenAPI description)
    for status_id in (private, direct):
        assert (await client.get(f"/api/v1/statuses/{status_id}", headers=bob_h)).status_code == 200
        refused = await act(client, bob_h, status_id, "reblog")
        assert refused.status_code == 403, status_id
        assert refused.json() == {"error": "This action is not allowed"}
    # a stranger cannot even see the private one
    hidden = await act(client, stranger_h, private, "reblog")
    assert hidden.status_code == 404
    assert_matches_spec(hidden, "POST", S + "/reblog")
    assert await count(Status, Status.reblog_of_id.is_not(None)) == 0
    assert (await stored(private)).reblogs_count == 0
    assert await statuses_count(bob) == 0

    # the author may boost her own private post (it stays private), never her direct one
    own = await act(client, alice_h, private, "reblog", visibility="public")
    assert own.status_code == 200
    assert (own.json()["visibility"], own.json()["reblog"]["id"]) == ("private", private)
    assert (await act(client, alice_h, direct, "reblog")).status_code == 403


async def test_reblog_with_a_bad_visibility_is_refused(client):
    _, alice_h = await signed_in("alice")
    _, bob_h = await signed_in("bob")
    original = (await post_status(client, alice_h, status="hi")).json()["id"]
    for visibility in ("direct", "everyone"):
        refused = await act(client, bob_h, original, "reblog", visibility=visibility)
        assert refused.status_code == 422
        assert_matches_spec(refused, "POST", S + "/reblog")
    assert await count(Status, Status.reblog_of_id.is_not(None)) == 0


async def test_boost_of_a_boost_boosts_the_original_and_defaults_to_the_users_privacy(client):
    alice, alice_h = await signed_in("alice")
    _, bob_h = await signed_in("bob")
    carol, carol_h = await signed_in("carol")
    async with db.session() as session:
        await session.execute(update(User).where(User.account_id == carol.id).values(default_privacy="unlisted"))
    original = (await post_status(client, alice_h, status="hi")).json()["id"]
    boost = (await act(client, bob_h, original, "reblog")).json()["id"]
    again = await act(client, carol_h, boost, "reblog")
    assert (again.json()["reblog"]["id"], again.json()["visibility"]) == (original, "unlisted")
    assert (await stored(original)).reblogs_count == 2


async def test_deleting_a_boosted_post_through_the_api_fixes_the_booster(client):
    _, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    original = (await post_status(client, alice_h, status="short-lived")).json()["id"]
    boost = (await act(client, bob_h, original, "reblog")).json()["id"]
    assert (await client.delete(f"/api/v1/statuses/{original}", headers=alice_h)).status_code == 200
    assert (await stored(boost)).deleted_at is not None
    assert await statuses_count(bob) == 0
    assert (await act(client, bob_h, original, "reblog")).status_code == 404


async def test_boost_spends_the_posting_budget(settings):
    _, alice_h = await signed_in("alice")
    _, bob_h = await signed_in("bob")
    limited = create_app(dataclasses.replace(settings, rate_limits=True, rate_limit_statuses=1, rate_limit_api=1000))
    try:
        transport = httpx.ASGITransport(app=limited, client=("127.0.0.1", 50003))
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as c:
            original = (await post_status(c, alice_h, status="hi")).json()["id"]
            first = await act(c, bob_h, original, "reblog")
            bobs_post = await post_status(c, bob_h, status="my own")
    finally:
        configure(settings)
    assert first.status_code == 200
    assert bobs_post.status_code == 429


# -- bookmarks and the two lists ------------------------------------------------------------------

async def test_bookmarks_list_in_bookmark_order_with_bookmark_ids_in_the_link_header(client):
    alice, alice_h = await signed_in("alice")
    _, bob_h = await signed_in("bob")
    ids = [(await post_status(client, alice_h, status=f"post {n}")).json()["id"] for n in range(3)]
    # bookmarked oldest post last: the list follows the bookmark, not the post
    for status_id in (ids[1], ids[2], ids[0]):
        marked = await act(client, bob_h, status_id, "bookmark")
        assert (marked.status_code, marked.json()["bookmarked"]) == (200, True)
    assert_matches_spec(marked, "POST", S + "/bookmark")
    assert (await act(client, bob_h, ids[0], "bookmark")).status_code == 200  # again: nothing new
    assert await count(Bookmark) == 3

    first = await client.get("/api/v1/bookmarks", params={"limit": 2}, headers=bob_h)
    assert first.status_code == 200
    assert_matches_spec(first, "GET", "/api/v1/bookmarks")
    assert [s["id"] for s in first.json()] == [ids[0], ids[2]]
    async with db.session() as session:
        bookmark_ids = {s: b for b, s in (await session.exec(select(Bookmark.id, Bookmark.status_id))).all()}
    cursor = link_ids(first)
    assert cursor == {"next": str(bookmark_ids[int(ids[2])]), "prev": str(bookmark_ids[int(ids[0])])}
    rest = await client.get("/api/v1/bookmarks", params={"limit": 2, "max_id": cursor["next"]}, headers=bob_h)
    assert [s["id"] for s in rest.json()] == [ids[1]]
    # As Mastodon: a short page is the last (no next); prev by min_id, as on every status list.
    assert cursors(rest) == {"prev": ("min_id", str(bookmark_ids[int(ids[1])]))}

    removed = await act(client, bob_h, ids[0], "unbookmark")
    assert (removed.status_code, removed.json()["bookmarked"]) == (200, False)
    assert_matches_spec(removed, "POST", S + "/unbookmark")
    assert (await act(client, bob_h, ids[0], "unbookmark")).status_code == 200
    assert [s["id"] for s in (await client.get("/api/v1/bookmarks", headers=bob_h)).json()] == [ids[2], ids[1]]
    # bookmarks are private
    assert (await client.get("/api/v1/bookmarks", headers=alice_h)).json() == []


async def test_bookmarking_needs_the_bookmarks_scope(client):
    _, alice_h = await signed_in("alice")
    _, limited_h = await signed_in("bob", scopes="read:statuses write:statuses write:favourites")
    status_id = (await post_status(client, alice_h, status="keep me")).json()["id"]
    refused = await act(client, limited_h, status_id, "bookmark")
    assert refused.status_code == 403
    assert refused.json() == {"error": "This action is outside the authorized scopes"}
    assert await count(Bookmark) == 0
    assert (await client.get("/api/v1/bookmarks", headers=limited_h)).status_code == 403
    assert (await act(client, limited_h, "31337", "bookmark")).status_code == 403


async def test_favourites_list_hides_posts_no_longer_visible(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    _, carol_h = await signed_in("carol")
    from_alice = (await post_status(client, alice_h, status="alice")).json()["id"]
    from_carol = (await post_status(client, carol_h, status="carol")).json()["id"]
    deleted = (await post_status(client, carol_h, status="deleted")).json()["id"]
    for status_id in (from_alice, from_carol, deleted):
        assert (await act(client, bob_h, status_id, "favourite")).status_code == 200
    await client.delete(f"/api/v1/statuses/{deleted}", headers=carol_h)
    await block(alice, bob)

    response = await client.get("/api/v1/favourites", headers=bob_h)
    assert response.status_code == 200
    assert_matches_spec(response, "GET", "/api/v1/favourites")
    assert [s["id"] for s in response.json()] == [from_carol]
    assert response.json()[0]["favourited"] is True
    # One favourite of the 20 asked for: prev (by min_id) but no next, as Mastodon.
    assert set(cursors(response)) == {"prev"} and cursors(response)["prev"][0] == "min_id"
    full = await client.get("/api/v1/favourites", params={"limit": 1}, headers=bob_h)
    assert set(cursors(full)) == {"next", "prev"}
    assert (await client.get("/api/v1/favourites")).status_code == 401


# -- pins ---------------------------------------------------------------------------------------

async def test_pin_rules_and_the_limit_of_five(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    mine = [(await post_status(client, alice_h, status=f"mine {n}", visibility="public" if n % 2 else "private")).json()["id"]
            for n in range(6)]
    direct = (await post_status(client, alice_h, status="@bob direct", visibility="direct")).json()["id"]
    bobs = (await post_status(client, bob_h, status="bob's")).json()["id"]
    boost = (await act(client, alice_h, bobs, "reblog")).json()["id"]

    for status_id in mine[:5]:
        pinned = await act(client, alice_h, status_id, "pin")
        assert (pinned.status_code, pinned.json()["pinned"]) == (200, True), pinned.text
    assert_matches_spec(pinned, "POST", S + "/pin")
    assert (await act(client, alice_h, mine[0], "pin")).status_code == 200  # already pinned: fine

    refusals = {
        mine[5]: "Validation failed: You have already pinned the maximum number of posts",
        bobs: "Validation failed: Someone else's post cannot be pinned",
        direct: "Validation failed: Posts that are only visible to mentioned users cannot be pinned",
        boost: "Validation failed: A boost cannot be pinned",
    }
    for status_id, message in refusals.items():
        refused = await act(client, alice_h, status_id, "pin")
        assert (refused.status_code, refused.json()) == (422, {"error": message, "details": {}}), status_id
    assert_matches_spec(refused, "POST", S + "/pin")
    assert await count(StatusPin) == 5

    unpinned = await act(client, alice_h, mine[0], "unpin")
    assert (unpinned.status_code, unpinned.json()["pinned"]) == (200, False)
    assert_matches_spec(unpinned, "POST", S + "/unpin")
    assert (await act(client, alice_h, mine[5], "pin")).status_code == 200
    assert (await act(client, alice_h, mine[0], "unpin")).status_code == 200  # not pinned: fine
    # a private post someone cannot see cannot be pinned or unpinned by them either
    assert (await act(client, bob_h, mine[0], "pin")).status_code == 404
    assert await count(StatusPin) == 5


async def test_concurrent_pins_never_pass_the_limit(client):
    _, alice_h = await signed_in("alice")
    ids = [(await post_status(client, alice_h, status=f"p{n}")).json()["id"] for n in range(9)]
    responses = await asyncio.gather(*[act(client, alice_h, i, "pin") for i in ids])
    assert sorted(r.status_code for r in responses) == [200] * 5 + [422] * 4
    assert await count(StatusPin) == 5


# -- conversation mutes ---------------------------------------------------------------------------

async def test_muting_a_conversation_marks_the_whole_thread(client):
    _, alice_h = await signed_in("alice")
    _, bob_h = await signed_in("bob")
    root = (await post_status(client, alice_h, status="thread")).json()["id"]
    reply = (await post_status(client, bob_h, status="@alice reply", in_reply_to_id=root)).json()["id"]
    other = (await post_status(client, alice_h, status="another")).json()["id"]

    muted = await act(client, alice_h, reply, "mute")
    assert (muted.status_code, muted.json()["muted"]) == (200, True)
    assert_matches_spec(muted, "POST", S + "/mute")
    assert (await act(client, alice_h, root, "mute")).status_code == 200  # same thread: one row
    assert await count(ConversationMute) == 1
    flags = {s["id"]: s["muted"] for s in (await client.get(
        "/api/v1/statuses", params=[("id[]", root), ("id[]", reply), ("id[]", other)], headers=alice_h)).json()}
    assert flags == {root: True, reply: True, other: False}

    unmuted = await act(client, alice_h, root, "unmute")
    assert (unmuted.status_code, unmuted.json()["muted"]) == (200, False)
    assert_matches_spec(unmuted, "POST", S + "/unmute")
    assert await count(ConversationMute) == 0
    assert (await act(client, alice_h, "31337", "mute")).status_code == 404


async def test_a_boost_shows_the_viewers_relation_to_the_boosted_post(client):
    """The boosted post is read with the rest of the render: its author, whether the viewer
    muted its conversation, favourited or bookmarked it, and (to its author) its app."""
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    mine = (await post_status(client, alice_h, status="mine")).json()["id"]
    for action in ("mute", "favourite", "bookmark"):
        assert (await act(client, alice_h, mine, action)).status_code == 200
    boost = (await act(client, bob_h, mine, "reblog")).json()["id"]
    other = (await post_status(client, bob_h, status="not boosted")).json()["id"]

    seen = {s["id"]: s for s in (await client.get(
        "/api/v1/statuses", params=[("id[]", boost), ("id[]", other)], headers=alice_h)).json()}
    shown = seen[boost]
    assert shown["account"]["id"] == str(bob.id) and shown["reblog"]["id"] == mine
    assert shown["reblog"]["account"]["id"] == str(alice.id)
    assert (shown["muted"], shown["favourited"], shown["bookmarked"]) == (True, True, True)
    assert (shown["reblog"]["muted"], shown["reblog"]["favourited"]) == (True, True)
    assert shown["reblog"]["application"] == {"name": "Test app", "website": None}
    assert (seen[other]["muted"], seen[other]["favourited"]) == (False, False)
    assert_matches_spec(await client.get(f"/api/v1/statuses/{boost}", headers=alice_h), "GET", S)

    to_bob = (await client.get(f"/api/v1/statuses/{boost}", headers=bob_h)).json()
    assert (to_bob["muted"], to_bob["favourited"], to_bob["reblogged"]) == (False, False, True)
    assert to_bob["reblog"]["application"] is None  # only its author sees the app


# -- who favourited, who boosted ----------------------------------------------------------------

async def test_favourited_by_and_reblogged_by_are_paginated_and_respect_visibility(client):
    alice, alice_h = await signed_in("alice")
    fans = [await signed_in(f"fan{i}") for i in range(3)]
    blocked, blocked_h = await signed_in("blocked")
    status_id = (await post_status(client, alice_h, status="who likes this")).json()["id"]
    for _, headers in fans + [(blocked, blocked_h)]:
        await act(client, headers, status_id, "favourite")
        await act(client, headers, status_id, "reblog")
    await block(alice, blocked)  # her block hides the blocked account's boost and its name in her lists

    for path in ("favourited_by", "reblogged_by"):
        first = await client.get(f"/api/v1/statuses/{status_id}/{path}", params={"limit": 2}, headers=alice_h)
        assert first.status_code == 200
        assert_matches_spec(first, "GET", S + "/" + path)
        assert [a["acct"] for a in first.json()] == ["fan2", "fan1"], path
        rest = await client.get(f"/api/v1/statuses/{status_id}/{path}",
                                params={"limit": 2, "max_id": link_ids(first)["next"]}, headers=alice_h)
        assert [a["acct"] for a in rest.json()] == ["fan0"], path
        # As Mastodon's account lists: prev by since_id, and no next after a short page.
        assert cursors(first)["prev"][0] == "since_id" and set(cursors(rest)) == {"prev"}, path
        anonymous = await client.get(f"/api/v1/statuses/{status_id}/{path}")
        # nobody blocks an anonymous visitor
        assert [a["acct"] for a in anonymous.json()] == ["blocked", "fan2", "fan1", "fan0"], path


async def test_favourited_by_of_a_post_one_cannot_see_is_not_found(client):
    alice, alice_h = await signed_in("alice")
    follower, follower_h = await signed_in("follower")
    await follow(follower, alice)
    private = (await post_status(client, alice_h, status="followers", visibility="private")).json()["id"]
    await act(client, follower_h, private, "favourite")
    for path in ("favourited_by", "reblogged_by"):
        hidden = await client.get(f"/api/v1/statuses/{private}/{path}")
        assert hidden.status_code == 404
        assert_matches_spec(hidden, "GET", S + "/" + path)
    allowed = await client.get(f"/api/v1/statuses/{private}/favourited_by", headers=follower_h)
    assert [a["acct"] for a in allowed.json()] == ["follower"]


async def test_private_boosts_are_listed_only_for_those_who_may_see_them(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    watcher, watcher_h = await signed_in("watcher")
    status_id = (await post_status(client, alice_h, status="public post")).json()["id"]
    await act(client, bob_h, status_id, "reblog", visibility="private")
    assert (await client.get(f"/api/v1/statuses/{status_id}/reblogged_by", headers=watcher_h)).json() == []
    await follow(watcher, bob)
    listed = await client.get(f"/api/v1/statuses/{status_id}/reblogged_by", headers=watcher_h)
    assert [a["acct"] for a in listed.json()] == ["bob"]
