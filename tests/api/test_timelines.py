"""Timelines: home (Redis feed, PostgreSQL fallback, rebuild, hybrid pull, reblog and reply
rules, deletes, unfollows, blocks and mutes), public, hashtag; exact pagination."""
from __future__ import annotations

import asyncio
import dataclasses
import re
from contextlib import contextmanager

import redis.asyncio as aioredis
from sqlalchemy import update
from mastodon import Mastodon

from app import db
from app import redis as app_redis
from app.config import configure, get_settings
from sqlmodel import select

from app.models import Account, Follow, Status, StatusTag, Tag, User
from app.models.base import utcnow
from app.services import follows, streaming
from app.services.feeds import sources, store
from app.streaming.session import StreamSession
from tests.support.openapi import assert_matches_spec
from tests.support.polling import eventually, settled
from tests.support.services import separate_redis
from tests.support.world import block, follow, make_media, make_user, post_status, signed_in, token_for

HOME = "/api/v1/timelines/home"
PUBLIC = "/api/v1/timelines/public"


@contextmanager
def tuned(**changes):
    """Run with some settings changed (the in-process workers read the same settings)."""
    before = get_settings()
    configure(dataclasses.replace(before, **changes))
    try:
        yield
    finally:
        configure(before)


async def post(client, headers, text="hello", **data) -> dict:
    response = await post_status(client, headers, status=text, **data)
    assert response.status_code == 200, response.text
    return response.json()


async def home(client, headers, **params) -> list[str]:
    response = await client.get(HOME, params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", HOME)
    return [s["id"] for s in response.json()]


async def live_feed(account: Account) -> list[int]:
    """Wait for the account's Redis feed to be live (rebuilt); its ids, newest first."""
    await eventually(lambda: store.floor_of(account.id), until=lambda floor: floor is not None)
    await settled()
    return await store.ids(account.id)


async def reader(client, name: str) -> tuple[Account, dict]:
    """A user whose home feed is live in Redis (read once, then rebuilt in the background)."""
    account, headers = await signed_in(name)
    await home(client, headers)
    await live_feed(account)
    return account, headers


async def scrolled_down(client, headers, limit: int) -> list[str]:
    """Every page from the top, following max_id as an app scrolling down does."""
    seen, max_id = [], None
    while page := await home(client, headers, limit=limit, **({"max_id": max_id} if max_id else {})):
        seen += page
        max_id = page[-1]
    return seen


async def scrolled_up(client, headers, limit: int, min_id: str) -> list[str]:
    """Every page above `min_id`, following min_id as an app catching up does; newest first."""
    seen = []
    while page := await home(client, headers, limit=limit, min_id=min_id):
        seen = page + seen
        min_id = page[0]
    return seen


async def fillers(author: Account, above: int, count: int, *, into_feed_of: Account | None = None) -> list[str]:
    """`count` posts by `author` with the ids right above `above`, written straight in (and into
    a live feed): a test's worth of time for what would take that many posts. Newest first."""
    ids = [above + n for n in range(1, count + 1)]
    async with db.session() as session:
        session.add_all(Status(id=i, uri=f"https://example.test/filler/{i}", account_id=author.id,
                               text=f"filler {i}", content=f"<p>filler {i}</p>") for i in ids)
    if into_feed_of is not None:
        await store.fill(into_feed_of.id, [(i, None, author.id) for i in ids])
    return [str(i) for i in reversed(ids)]


async def star_world(client) -> tuple:
    """alice (a live feed) follows bob and star; star has one more follower, so with
    `tuned(fanout_pull_threshold=1)` star's posts are pulled at read time, bob's pushed.
    (alice, alice_h, star_h, bob, bob_h)."""
    alice, alice_h = await reader(client, "alice")
    star, star_h = await signed_in("star")
    bob, bob_h = await signed_in("bob")
    fan, _ = await make_user("fan")
    for follower in (alice, fan):
        await follow(follower, star)
    await follow(alice, bob)
    return alice, alice_h, star_h, bob, bob_h


# -- home -------------------------------------------------------------------------------

async def test_home_shows_own_and_followed_posts_newest_first(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    carol, carol_h = await signed_in("carol")
    await follow(alice, bob)
    mine = await post(client, alice_h, "mine")
    theirs = await post(client, bob_h, "from bob")
    await post(client, carol_h, "not followed")
    assert await home(client, alice_h) == [theirs["id"], mine["id"]]

    response = await client.get(HOME, headers=alice_h)
    link = response.headers["link"]
    assert f"max_id={mine['id']}>; rel=\"next\"" in link and f"min_id={theirs['id']}>; rel=\"prev\"" in link
    assert (await client.get(HOME)).status_code == 401


async def test_first_read_comes_from_postgres_then_the_feed_is_rebuilt_and_fanned_into(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    await follow(alice, bob)
    old = [await post(client, bob_h, f"old {n}") for n in range(3)]
    assert await store.floor_of(alice.id) is None
    assert await home(client, alice_h) == [s["id"] for s in reversed(old)]  # from PostgreSQL
    assert await live_feed(alice) == [int(s["id"]) for s in reversed(old)]  # rebuilt in the background

    new = await post(client, bob_h, "new")
    await settled()
    assert (await store.ids(alice.id))[0] == int(new["id"])  # fanned out on write
    assert await home(client, alice_h) == [new["id"]] + [s["id"] for s in reversed(old)]


async def test_fan_out_reaches_only_live_feeds_of_active_followers(client):
    alice, alice_h = await reader(client, "alice")
    bob, bob_h = await signed_in("bob")
    dormant, dormant_h = await signed_in("dormant")
    for follower in (alice, dormant):
        await follow(follower, bob)
    status = await post(client, bob_h, "hi")
    await settled()
    assert int(status["id"]) in await store.ids(alice.id)
    assert await store.ids(dormant.id) == []  # never read its home: no feed kept for it
    assert await home(client, dormant_h) == [status["id"]]  # yet it sees the post (PostgreSQL)


async def test_home_feeds_can_live_on_a_redis_server_of_their_own(client, settings):
    """STARLING_FEEDS_REDIS_URL: rebuilds, fan-outs, follows and reads all use the feeds' server,
    and the main one holds no feed (it keeps the tokens, the broker and pub/sub)."""
    url, claimed = separate_redis(settings.redis_url)
    feeds_only = aioredis.Redis.from_url(url, decode_responses=True)
    await feeds_only.flushdb()
    app_redis.connect(settings.redis_url, url)  # the in-process workers share this connection state
    try:
        alice, alice_h = await reader(client, "alice")
        bob, bob_h = await signed_in("bob")
        carol, carol_h = await signed_in("carol")
        before = await post(client, carol_h, "before alice follows")
        await follow(alice, bob)
        await client.post(f"/api/v1/accounts/{carol.id}/follow", headers=alice_h)
        status = await post(client, bob_h, "for alice's feed")
        await settled()
        assert await feeds_only.zscore(store.feed_key(alice.id), status["id"]) is not None
        assert await feeds_only.zscore(store.feed_key(alice.id), before["id"]) is not None  # merged on follow
        assert await home(client, alice_h) == [status["id"], before["id"]]
        assert await app_redis.client().keys("feed:*") == []
    finally:
        app_redis.connect(settings.redis_url)
        await feeds_only.flushdb()
        await feeds_only.aclose()
        if claimed:
            claimed.release()


async def test_when_the_boost_shown_for_a_post_goes_another_followees_boost_takes_its_place(client):
    alice, alice_h = await reader(client, "alice")
    bob, bob_h = await signed_in("bob")
    carol, carol_h = await signed_in("carol")
    erin, erin_h = await signed_in("erin")
    _, dave_h = await signed_in("dave")  # alice follows none of dave
    for followed in (bob, carol, erin):
        await follow(alice, followed)
    original = await post(client, dave_h, "worth sharing")
    boosts = []
    for headers in (bob_h, carol_h, erin_h):
        boosted = await client.post(f"/api/v1/statuses/{original['id']}/reblog", headers=headers)
        assert boosted.status_code == 200, boosted.text
        boosts.append(boosted.json()["id"])
        await settled()
    assert await home(client, alice_h) == [boosts[0]]  # once, by the first to boost it
    assert (await client.post(f"/api/v1/statuses/{original['id']}/unreblog", headers=bob_h)).status_code == 200
    await settled()
    assert await home(client, alice_h) == [boosts[1]]  # carol's takes its place, as in Mastodon
    unfollowed = await client.post(f"/api/v1/accounts/{carol.id}/unfollow", headers=alice_h)
    assert unfollowed.status_code == 200, unfollowed.text
    await settled()
    assert await home(client, alice_h) == [boosts[2]]  # and erin's once alice unfollows carol


async def boost(client, headers, status: dict) -> str:
    response = await client.post(f"/api/v1/statuses/{status['id']}/reblog", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["id"]


async def test_pages_from_postgres_hold_back_the_boosts_the_feed_would(client):
    """A returning user's first page, and pages past the Redis feed, come from PostgreSQL:
    they show a boosted post once, as the rebuilt feed does (Mastodon's reblog rule)."""
    bob, bob_h = await signed_in("bob")
    carol, carol_h = await signed_in("carol")
    dave, dave_h = await signed_in("dave")
    readers = [await signed_in(name) for name in ("alice", "erin")]
    for account, _ in readers:
        for followed in (bob, carol, dave):
            await follow(account, followed)
    _, outsider_h = await signed_in("outsider")
    shared = await post(client, outsider_h, "worth sharing")
    first_boost = await boost(client, bob_h, shared)
    await boost(client, carol_h, shared)  # the same post again, right above: held back
    own = await post(client, dave_h, "dave's own")
    await boost(client, bob_h, own)  # the post itself is right under it: held back
    old = await post(client, dave_h, "old news")
    # 40 entries later that post is no longer near the top: a boost of it shows again.
    between = await fillers(dave, int(old["id"]), 40)
    late_boost = await boost(client, carol_h, old)
    expected = [late_boost, *between, old["id"], own["id"], first_boost]
    # The boosts' fan-outs done first: one still running when the first read's rebuild fills
    # the feed puts the late boost in ahead of the post it boosts, which the rebuild then leaves
    # out, as Mastodon's add_to_feed does (a boost that got in first stands for the post).
    await settled()

    (alice, alice_h), (erin, erin_h) = readers
    assert await store.floor_of(alice.id) is None
    assert await scrolled_down(client, alice_h, 40) == expected  # from PostgreSQL: no live feed yet
    await live_feed(alice)
    assert await scrolled_down(client, alice_h, 40) == expected  # the rebuilt feed shows the same

    with tuned(feed_max_items=3):  # past a feed of three entries, both ways
        await home(client, erin_h)
        await live_feed(erin)
        assert await scrolled_down(client, erin_h, 4) == expected
        assert await scrolled_up(client, erin_h, 4, shared["id"]) == expected


async def test_held_back_boosts_do_not_depend_on_where_a_page_starts(client):
    """Pages from PostgreSQL that start at different places (the first page, under a max_id,
    above a since_id), or whose first rows are all hidden (a muted account), judge each boost
    alike: by the 40 rows under it."""
    bob, _ = await signed_in("bob")
    carol, _ = await signed_in("carol")
    dave, dave_h = await signed_in("dave")
    muted, _ = await signed_in("muted")
    readers = [await signed_in(name) for name in ("alice", "erin", "gina")]
    for account, headers in readers:
        for followed in (bob, carol, dave, muted):
            await follow(account, followed)
        assert (await client.post(f"/api/v1/accounts/{muted.id}/mute", headers=headers)).status_code == 200
    shared = await post(client, dave_h, "the post")
    rows, next_id = [], int(shared["id"])

    def add(author: Account, boosted: int | None = None) -> int:
        nonlocal next_id
        next_id += 1
        rows.append(Status(id=next_id, uri=f"https://example.test/s/{next_id}", account_id=author.id,
                           text="x", content="<p>x</p>", reblog_of_id=boosted))
        return next_id

    fillers = [add(dave) for _ in range(29)]
    held = add(carol, int(shared["id"]))  # the post is 30 rows under it: held back
    fillers += [add(dave) for _ in range(14)]
    # 45 rows down to the post, but 15 to the boost of it held back: held back too (every row
    # under counts, held back or not, so the verdict rests on the 40 rows under it alone).
    also_held = add(bob, int(shared["id"]))
    hidden = [add(muted) for _ in range(29)] + [add(muted, fillers[0])]  # the first rows: all muted
    async with db.session() as session:
        session.add_all(rows)
    (alice, alice_h), (erin, erin_h), (gina, gina_h) = readers
    first = await home(client, alice_h, limit=20)
    under = await home(client, erin_h, limit=20, max_id=str(hidden[0]))
    above = await home(client, gina_h, limit=40, since_id=str(fillers[28]))
    for page in (first, under, above):
        assert str(also_held) not in page and str(held) not in page
        assert not set(map(str, hidden)) & set(page)
    # What each page holds instead: the fillers, newest first, as far as its limit reaches.
    newest_first = [str(i) for i in reversed(fillers)]
    assert first == under == newest_first[:20]
    assert above == newest_first[:14]


async def test_a_muted_account_posting_on_and_on_does_not_end_the_scroll(client):
    """A page is never empty while something visible lies further down: clients stop
    scrolling at an empty page. Here a muted account posted 200 times in a row over the rest,
    from PostgreSQL (no live feed) and from the Redis feed."""
    bob, bob_h = await signed_in("bob")
    muted, _ = await signed_in("muted")
    readers = [await signed_in(name) for name in ("alice", "erin")]
    for account, headers in readers:
        for followed in (bob, muted):
            await follow(account, followed)
        assert (await client.post(f"/api/v1/accounts/{muted.id}/mute", headers=headers)).status_code == 200
    older = [await post(client, bob_h, f"older {n}") for n in range(2)]
    (alice, alice_h), (erin, erin_h) = readers
    await home(client, erin_h)
    await live_feed(erin)
    await fillers(muted, int(older[-1]["id"]), 200, into_feed_of=erin)
    newest = await post(client, bob_h, "newest")
    assert await store.claim_rebuild(alice.id)  # as if a rebuild were on its way: alice reads PostgreSQL
    expected = [newest["id"], older[1]["id"], older[0]["id"]]
    for headers in (alice_h, erin_h):
        for limit in (1, 2, 20):
            assert await scrolled_down(client, headers, limit) == expected, limit
        assert await home(client, headers, limit=1, min_id=older[1]["id"]) == [newest["id"]]
    assert await store.floor_of(alice.id) is None  # alice's pages came from PostgreSQL


async def test_a_held_back_boost_by_someone_since_unfollowed_does_not_take_the_place(client):
    alice, alice_h = await reader(client, "alice")
    boosters = [await signed_in(name) for name in ("bob", "carol", "erin")]
    _, dave_h = await signed_in("dave")  # alice follows none of dave
    for account, _ in boosters:
        await follow(alice, account)
    original = await post(client, dave_h, "worth sharing")
    boosts = []
    for _, headers in boosters:
        boosts.append(await boost(client, headers, original))
        await settled()
    assert await home(client, alice_h) == [boosts[0]]  # bob's stands; carol's and erin's are held back
    carol = boosters[1][0]
    assert (await client.post(f"/api/v1/accounts/{carol.id}/unfollow", headers=alice_h)).status_code == 200
    await settled()
    assert (await client.post(f"/api/v1/statuses/{original['id']}/unreblog", headers=boosters[0][1])).status_code == 200
    await settled()
    assert await home(client, alice_h) == [boosts[2]]  # erin's, not carol's (whom alice no longer follows)


async def test_followed_hashtags_bring_public_posts_of_strangers_into_home(client):
    alice, alice_h = await reader(client, "alice")
    bob, bob_h = await signed_in("bob")  # alice does not follow bob
    followed = await client.post("/api/v1/tags/Cats/follow", headers=alice_h)
    assert followed.status_code == 200, followed.text
    tagged = await post(client, bob_h, "look at these #cats")
    private = await post(client, bob_h, "my own #cats", visibility="private")
    unlisted = await post(client, bob_h, "quiet #cats", visibility="unlisted")
    untagged = await post(client, bob_h, "no tag here")
    await settled()
    assert int(tagged["id"]) in await store.ids(alice.id)
    shown = await home(client, alice_h)
    assert tagged["id"] in shown
    assert private["id"] not in shown and unlisted["id"] not in shown and untagged["id"] not in shown

    await block(alice, bob)
    assert tagged["id"] not in await home(client, alice_h)  # blocks still apply when reading


async def test_replies_reach_only_followers_of_both_sides(client):
    alice, alice_h = await reader(client, "alice")
    bob, bob_h = await signed_in("bob")
    carol, carol_h = await signed_in("carol")
    dave, dave_h = await signed_in("dave")
    await follow(alice, bob)
    await follow(alice, dave)
    to_carol = await post(client, bob_h, "@carol hey", in_reply_to_id=(await post(client, carol_h, "q"))["id"])
    to_dave = await post(client, bob_h, "@dave hey", in_reply_to_id=(await post(client, dave_h, "q2"))["id"])
    to_self = await post(client, bob_h, "thread 2/2", in_reply_to_id=(await post(client, bob_h, "1/2"))["id"])
    await settled()
    shown = await home(client, alice_h)
    assert to_dave["id"] in shown and to_self["id"] in shown
    assert to_carol["id"] not in shown
    assert int(to_carol["id"]) not in await store.ids(alice.id)


async def test_a_boost_of_what_is_already_in_the_feed_is_not_repeated(client):
    alice, alice_h = await reader(client, "alice")
    bob, bob_h = await signed_in("bob")
    carol, carol_h = await signed_in("carol")
    dave, dave_h = await signed_in("dave")
    quiet, quiet_h = await signed_in("quiet")
    for target in (bob, carol, dave):
        await follow(alice, target)
    async with db.session() as session:
        await follows.follow(session, alice.id, quiet.id, follows.FollowOptions(reblogs=False))

    outsider, outsider_h = await signed_in("outsider")
    post_one = await post(client, outsider_h, "worth boosting")
    first = (await client.post(f"/api/v1/statuses/{post_one['id']}/reblog", headers=bob_h)).json()
    await settled()  # the first boost is in the feed before the second is made
    second = (await client.post(f"/api/v1/statuses/{post_one['id']}/reblog", headers=carol_h)).json()
    muted_boost = (await client.post(f"/api/v1/statuses/{post_one['id']}/reblog", headers=quiet_h)).json()
    own = await post(client, dave_h, "dave's own")
    await settled()  # the post is in the feed before it is boosted (fan-outs run concurrently)
    boost_of_own = (await client.post(f"/api/v1/statuses/{own['id']}/reblog", headers=bob_h)).json()
    await settled()

    shown = await home(client, alice_h)
    assert first["id"] in shown
    assert second["id"] not in shown  # the same post boosted again: once is enough
    assert muted_boost["id"] not in shown  # boosts turned off for that follow
    assert own["id"] in shown and boost_of_own["id"] not in shown  # already in the feed, near the top
    assert set(await store.ids(alice.id)) == {int(first["id"]), int(own["id"])}


async def test_deleting_a_post_takes_it_and_its_boosts_out_of_feeds(client):
    alice, alice_h = await reader(client, "alice")
    bob, bob_h = await signed_in("bob")
    carol, carol_h = await signed_in("carol")
    await follow(alice, bob)
    await follow(alice, carol)
    doomed = await post(client, bob_h, "soon gone")
    boost = (await client.post(f"/api/v1/statuses/{doomed['id']}/reblog", headers=carol_h)).json()
    kept = await post(client, bob_h, "stays")
    await settled()
    assert int(doomed["id"]) in await store.ids(alice.id)
    assert (await client.delete(f"/api/v1/statuses/{doomed['id']}", headers=bob_h)).status_code == 200
    await settled()
    assert await store.ids(alice.id) == [int(kept["id"])]
    assert boost["id"] not in await home(client, alice_h)
    assert await home(client, alice_h) == [kept["id"]]


async def test_unfollow_takes_their_posts_out_and_follow_brings_them_in(client):
    alice, alice_h = await reader(client, "alice")
    bob, bob_h = await signed_in("bob")
    earlier = await post(client, bob_h, "before the follow")
    await follow(alice, bob)
    await settled()
    assert await store.ids(alice.id) == [int(earlier["id"])]  # merged in on follow
    assert (await client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=alice_h)).status_code == 200
    assert await home(client, alice_h) == []  # at once, even before the clean-up job ran
    await settled()
    assert await store.ids(alice.id) == []


async def test_blocks_and_mutes_filter_when_reading(client):
    alice, alice_h = await reader(client, "alice")
    bob, bob_h = await signed_in("bob")
    await follow(alice, bob)
    status = await post(client, bob_h, "hi")
    await settled()
    assert (await client.post(f"/api/v1/accounts/{bob.id}/mute", headers=alice_h)).status_code == 200
    assert await home(client, alice_h) == []
    assert (await client.post(f"/api/v1/accounts/{bob.id}/unmute", headers=alice_h)).status_code == 200
    assert await home(client, alice_h) == [status["id"]]  # nothing was rewritten: it is back
    await block(bob, alice)
    assert await home(client, alice_h) == []


async def test_posts_mentioning_someone_the_viewer_blocks_or_mutes_stay_out_of_home(client):
    alice, alice_h = await reader(client, "alice")
    bob, bob_h = await signed_in("bob")
    carol, _ = await signed_in("carol")
    dave, _ = await signed_in("dave")
    await follow(alice, bob)
    await block(alice, carol)
    assert (await client.post(f"/api/v1/accounts/{dave.id}/mute", headers=alice_h)).status_code == 200
    await post(client, bob_h, "hi @carol")
    await post(client, bob_h, "hi @dave")
    plain = await post(client, bob_h, "plain")
    await settled()
    assert await home(client, alice_h) == [plain["id"]]  # as Mastodon's home feed


async def test_a_post_in_a_language_reaches_followers_who_follow_in_all_languages(client):
    """A follow made without languages follows every language: it is stored as SQL NULL (a JSON
    null once read as "none", and a post that had a language reached no follower's feed)."""
    alice, alice_h = await reader(client, "alice")
    bob, bob_h = await signed_in("bob")
    carol, carol_h = await signed_in("carol")
    for target, options in ((bob, {}), (carol, {"languages": ["de"]})):
        followed = await client.post(f"/api/v1/accounts/{target.id}/follow", json=options, headers=alice_h)
        assert followed.status_code == 200, followed.text
    await settled()
    english = await post(client, bob_h, "hello", language="en")
    german = await post(client, carol_h, "hallo", language="de")
    await post(client, carol_h, "hello", language="en")  # carol is followed in German only
    await settled()
    assert await live_feed(alice) == [int(german["id"]), int(english["id"])]
    assert await home(client, alice_h) == [german["id"], english["id"]]
    # Asking for English too afterwards: the feed did not get it, but a rebuild or PostgreSQL would,
    # so the home rules decide when reading as well.
    async with db.session() as session:
        await session.execute(update(Follow).where(Follow.account_id == alice.id, Follow.target_account_id == carol.id)
                              .values(languages=["fr"]))
    assert await home(client, alice_h) == [english["id"]]


async def test_a_page_is_full_when_many_feed_entries_are_now_hidden(client):
    """Entries hidden after they reached the feed (a mute) are skipped over, however many,
    and the page is still full and in order, its Link leading on without a gap."""
    alice, alice_h = await reader(client, "alice")
    bob, bob_h = await signed_in("bob")
    carol, carol_h = await signed_in("carol")
    for followed in (bob, carol):
        await follow(alice, followed)
    shown = [await post(client, bob_h, f"bob {n}") for n in range(6)]
    hidden = [await post(client, carol_h, f"carol {n}") for n in range(30)]
    await settled()
    assert len(await store.ids(alice.id)) == 36
    assert (await client.post(f"/api/v1/accounts/{carol.id}/mute", headers=alice_h)).status_code == 200
    newest_bob = [s["id"] for s in reversed(shown)]
    assert await home(client, alice_h, limit=4) == newest_bob[:4]
    assert await home(client, alice_h, limit=4, max_id=newest_bob[3]) == newest_bob[4:]
    assert await home(client, alice_h, limit=4, min_id=shown[0]["id"]) == list(reversed(
        [s["id"] for s in shown[1:5]]))
    assert await home(client, alice_h, limit=3, since_id=hidden[0]["id"]) == []

async def test_private_posts_reach_followers_and_direct_posts_only_mentioned_followers(client):
    alice, alice_h = await reader(client, "alice")
    carol, carol_h = await reader(client, "carol")
    bob, bob_h = await signed_in("bob")
    await follow(alice, bob)
    await follow(carol, bob)
    private = await post(client, bob_h, "followers only", visibility="private")
    direct = await post(client, bob_h, "@alice psst", visibility="direct")
    await settled()
    assert await home(client, alice_h) == [direct["id"], private["id"]]
    assert await home(client, carol_h) == [private["id"]]
    assert int(direct["id"]) not in await store.ids(carol.id)


async def test_exclusive_lists_take_their_members_out_of_home(client):
    alice, alice_h = await reader(client, "alice")
    bob, bob_h = await signed_in("bob")
    await follow(alice, bob)
    status = await post(client, bob_h, "hi")
    await settled()
    made = (await client.post("/api/v1/lists", json={"title": "Bob", "exclusive": True}, headers=alice_h)).json()
    added = await client.post(f"/api/v1/lists/{made['id']}/accounts", json={"account_ids": [str(bob.id)]},
                              headers=alice_h)
    assert added.status_code == 200
    assert await home(client, alice_h) == []
    listed = await client.get(f"/api/v1/timelines/list/{made['id']}", headers=alice_h)
    assert [s["id"] for s in listed.json()] == [status["id"]]


async def test_very_followed_accounts_are_pulled_at_read_time_and_merged_in_order(client):
    alice, alice_h, star_h, bob, bob_h = await star_world(client)
    with tuned(fanout_pull_threshold=1):  # star has 2 followers: pulled, not pushed
        posted = []
        for n in range(6):
            posted.append(await post(client, star_h if n % 2 else bob_h, f"post {n}"))
        await settled()
        assert set(await store.ids(alice.id)) == {int(s["id"]) for s in posted[0::2]}  # bob's only
        expected = [s["id"] for s in reversed(posted)]
        assert await home(client, alice_h) == expected
        assert await scrolled_down(client, alice_h, 2) == expected
        assert await home(client, alice_h, min_id=posted[1]["id"], limit=2) == [posted[3]["id"], posted[2]["id"]]


async def test_a_pulled_post_and_a_boost_of_it_in_the_feed_show_once(client):
    """Mastodon's reblog rule across the feed and the posts pulled at read time: a boost by a
    followee of a pulled account's post, and a pulled account's boost of a post in the feed,
    are held back while what they repeat is among the 40 entries under them, on every page."""
    alice, alice_h, star_h, bob, bob_h = await star_world(client)
    with tuned(fanout_pull_threshold=1):
        old = await post(client, star_h, "old news")
        between = await fillers(bob, int(old["id"]), 40, into_feed_of=alice)  # a boost of it shows again
        late_boost = await boost(client, bob_h, old)
        news = await post(client, star_h, "news")
        await boost(client, bob_h, news)  # right above the pulled post: held back
        bobs = await post(client, bob_h, "bob's own")
        await boost(client, star_h, bobs)  # a pulled boost of a post in the feed: held back
        await settled()
        assert set(await store.ids(alice.id)) >= {int(late_boost)}
        expected = [bobs["id"], news["id"], late_boost, *between, old["id"]]
        assert await home(client, alice_h, limit=40) == expected[:40]
        for limit in (1, 3, 40):
            assert await scrolled_down(client, alice_h, limit) == expected, limit
        assert await scrolled_up(client, alice_h, 3, old["id"]) == expected[:-1]


async def test_entries_between_a_boost_and_a_pulled_post_count_once_and_under_the_floor_too(client):
    """What lies between a followee's boost and the pulled post it repeats counts each entry
    once (a pulled post with a followed hashtag is in the feed too) and counts the entries
    under the feed's floor, read from PostgreSQL: 25 entries between hold the boost back,
    60 do not, wherever the floor is."""
    alice, alice_h, star_h, bob, bob_h = await star_world(client)
    assert (await client.post("/api/v1/tags/cats/follow", headers=alice_h)).status_code == 200
    with tuned(fanout_pull_threshold=1):
        near = await post(client, star_h, "near")
        tagged = [await post(client, star_h, f"#cats {n}") for n in range(25)]
        await settled()
        assert int(tagged[-1]["id"]) in await store.ids(alice.id)  # in the feed and pulled
        held = await boost(client, bob_h, near)
        await settled()
        assert held not in await home(client, alice_h, limit=40)

        far = await post(client, star_h, "far")
        await fillers(bob, int(far["id"]), 60, into_feed_of=alice)
        shown = await boost(client, bob_h, far)
        await settled()
        assert (await home(client, alice_h, limit=40))[0] == shown
        # The feed cut back to the boost (its floor: every entry under it from PostgreSQL).
        feeds = app_redis.feeds()
        await feeds.set(store.floor_key(alice.id), shown, keepttl=True)
        await feeds.zremrangebyscore(store.feed_key(alice.id), "-inf", f"({shown}")
        assert (await home(client, alice_h, limit=40))[0] == shown


async def test_boosts_of_pulled_posts_far_apart_on_one_page_are_each_judged(client, monkeypatch):
    """The pulled entries under a page's boosts are read once for all, and again for a boost
    lower on the page that this read does not reach (here with a falloff of 2 entries)."""
    monkeypatch.setattr(store, "REBLOG_FALLOFF", 2)  # the read's rule only (the feed script keeps 40)
    alice, alice_h, star_h, bob, bob_h = await star_world(client)
    _, dave_h = await signed_in("dave")  # alice follows none of dave
    with tuned(fanout_pull_threshold=1):
        quoted = await post(client, star_h, "worth a boost")
        await boost(client, bob_h, quoted)  # right above it: held back
        later = [await post(client, star_h, f"later {n}") for n in range(4)]
        daves = await post(client, dave_h, "dave's")
        shown_boost = await boost(client, bob_h, daves)
        await settled()
        expected = [shown_boost, *(s["id"] for s in reversed(later)), quoted["id"]]
        assert await home(client, alice_h) == expected


async def test_followers_of_a_hashtag_get_a_pulled_accounts_post_with_it(client):
    """An account pulled at read time is not fanned out to its followers, but its public post
    still reaches the feeds of those who follow one of its hashtags (and only of those)."""
    alice, alice_h = await reader(client, "alice")
    erin, erin_h = await reader(client, "erin")
    star, star_h = await signed_in("star")
    fan, _ = await make_user("fan")
    for follower in (alice, fan):
        await follow(follower, star)
    followed = await client.post("/api/v1/tags/cats/follow", headers=erin_h)
    assert followed.status_code == 200, followed.text
    with tuned(fanout_pull_threshold=1):  # star has 2 followers: pulled, not pushed
        tagged = await post(client, star_h, "look #cats")
        plain = await post(client, star_h, "no tag")
        await settled()
        assert int(tagged["id"]) in await store.ids(erin.id)
        assert await home(client, erin_h) == [tagged["id"]]
        assert await store.ids(alice.id) == []  # a follower reads star's posts at read time
        assert await home(client, alice_h) == [plain["id"], tagged["id"]]


async def test_paging_past_the_redis_window_reads_postgres(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    await follow(alice, bob)
    with tuned(feed_max_items=5):
        await home(client, alice_h)
        await live_feed(alice)
        posted = [await post(client, bob_h, f"n{n}") for n in range(12)]
        await settled()
        assert len(await store.ids(alice.id)) == 5
        expected = [s["id"] for s in reversed(posted)]
        seen, max_id = [], None
        while True:
            page = await home(client, alice_h, limit=4, **({"max_id": max_id} if max_id else {}))
            if not page:
                break
            seen += page
            max_id = page[-1]
        assert seen == expected
        # and upwards from the bottom with min_id, across the floor
        up, min_id = [], posted[0]["id"]
        while True:
            page = await home(client, alice_h, limit=4, min_id=min_id)
            if not page:
                break
            up = page + up
            min_id = page[0]
        assert up == expected[:-1]


async def test_postgres_reads_widen_their_time_slice_until_the_page_is_full(client, monkeypatch):
    """Quiet follow lists: pages read from PostgreSQL look at short slices of time first and
    longer ones after; with slices far shorter than the gaps between posts, every page takes
    several rounds and still comes out exact, downwards and upwards."""
    monkeypatch.setattr(sources, "FIRST_SLICE_MS", 1)
    monkeypatch.setattr(sources, "GROWTH", 2)
    monkeypatch.setattr(sources, "SLICES", 3)
    monkeypatch.setattr(sources, "FEW_ACCOUNTS", 0)  # two follows would be read in one query
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    carol, carol_h = await signed_in("carol")
    await follow(alice, bob)
    await follow(alice, carol)
    posted = []
    for n in range(9):
        posted.append(await post(client, (bob_h, carol_h)[n % 2], f"n{n}"))
        await asyncio.sleep(0.02)  # far longer than every bounded slice
    expected = [s["id"] for s in reversed(posted)]
    with tuned(feed_max_items=2):
        await home(client, alice_h)
        await live_feed(alice)  # two in Redis, the rest below the floor
        assert await scrolled_down(client, alice_h, 3) == expected
        assert await scrolled_up(client, alice_h, 3, posted[0]["id"]) == expected[:-1]


async def test_pagination_parameters_are_exact(client):
    alice, alice_h = await reader(client, "alice")
    posted = [(await post(client, alice_h, f"n{n}"))["id"] for n in range(6)]
    await settled()
    newest_first = list(reversed(posted))
    assert await home(client, alice_h, limit=2) == newest_first[:2]
    assert await home(client, alice_h, max_id=posted[3], limit=2) == [posted[2], posted[1]]
    assert await home(client, alice_h, since_id=posted[1], limit=2) == [posted[5], posted[4]]  # newest ones
    assert await home(client, alice_h, min_id=posted[1], limit=2) == [posted[3], posted[2]]  # right after it
    assert await home(client, alice_h, since_id=posted[1], max_id=posted[4]) == [posted[3], posted[2]]
    for bad in ({"max_id": "abc"}, {"since_id": "-1"}, {"min_id": "1.5"}, {"limit": "x"}, {"limit": "0"},
                {"limit": "1_0"}, {"limit": "-5"}):
        response = await client.get(HOME, params=bad, headers=alice_h)
        assert response.status_code == 422, bad
        assert_matches_spec(response, "GET", "/api/v1/timelines/home")
        assert list(response.json()["details"]) == list(bad), "the details name the parameter"


async def test_ids_beyond_the_largest_bigint_mean_no_bound_not_a_crash(client):
    alice, alice_h = await signed_in("alice")
    posted = [(await post(client, alice_h, f"n{n}"))["id"] for n in range(2)]
    huge = "9999999999999999999"  # 19 digits, above 2**63 - 1
    for path in (HOME, PUBLIC, "/api/v1/timelines/tag/nothing", "/api/v1/notifications", "/api/v1/favourites",
                 f"/api/v1/accounts/{alice.id}/statuses"):
        above = await client.get(path, params={"max_id": huge}, headers=alice_h)
        assert above.status_code == 200, (path, above.text)
        for newer in ("since_id", "min_id"):
            nothing = await client.get(path, params={newer: huge}, headers=alice_h)
            assert nothing.status_code == 200 and nothing.json() == [], (path, newer, nothing.text)
    everything = await client.get(PUBLIC, params={"max_id": huge})
    assert [s["id"] for s in everything.json()] == list(reversed(posted))


async def test_limit_above_the_maximum_is_clamped_to_40(client):
    alice, alice_h = await signed_in("alice")
    async with db.session() as session:
        for n in range(45):
            session.add(Status(uri=f"http://x/{n}", account_id=alice.id, text="x", content="<p>x</p>"))
    assert len(await home(client, alice_h, limit=100)) == 40
    assert len(await home(client, alice_h)) == 20


# -- public and hashtag -----------------------------------------------------------------

async def remote_status(text: str = "from afar") -> Status:
    async with db.session() as session:
        remote = Account(username="far", domain="remote.example", uri="https://remote.example/users/far",
                         url="https://remote.example/@far")
        session.add(remote)
        await session.flush()
        status = Status(uri="https://remote.example/statuses/1", account_id=remote.id, local=False,
                        text=text, content=f"<p>{text}</p>")
        session.add(status)
        await session.flush()
        return status


async def test_public_timeline_local_remote_and_media(client):
    alice, alice_h = await signed_in("alice")
    plain = await post(client, alice_h, "public")
    media = await make_media(alice)
    with_media = await post(client, alice_h, "a picture", media_ids=[str(media.id)])
    await post(client, alice_h, "unlisted", visibility="unlisted")
    await post(client, alice_h, "private", visibility="private")
    question = await post(client, (await signed_in("bob"))[1], "a question")
    await post(client, alice_h, "@bob an answer", in_reply_to_id=question["id"])
    await client.post(f"/api/v1/statuses/{plain['id']}/reblog", headers=alice_h)
    far = await remote_status()

    def ids(response):
        assert response.status_code == 200, response.text
        assert_matches_spec(response, "GET", PUBLIC)
        return [s["id"] for s in response.json()]

    everything = ids(await client.get(PUBLIC))  # anonymous is fine
    # no reply to someone else, no boost, nothing unlisted or private
    assert everything == [str(far.id), question["id"], with_media["id"], plain["id"]]
    assert str(far.id) not in ids(await client.get(PUBLIC, params={"local": "true"}, headers=alice_h))
    assert ids(await client.get(PUBLIC, params={"remote": "true"})) == [str(far.id)]
    # both at once: everything, as Mastodon (not local only)
    assert ids(await client.get(PUBLIC, params={"local": "true", "remote": "true"})) == everything
    assert ids(await client.get(PUBLIC, params={"only_media": "true"})) == [with_media["id"]]
    assert (await client.get(PUBLIC, params={"max_id": "nope"})).status_code == 422


async def test_feed_access_settings_narrow_the_public_hashtag_and_stream_feeds(client):
    """Mastodon 4.5's feed access: a part that is `authenticated` turns visitors away (401;
    an app token without a user 422), a `disabled` part is left out for all but moderators and
    admins, and the instance says what is set."""
    alice, alice_h = await signed_in("alice")
    moderator, moderator_h = await signed_in("mona")
    async with db.session() as session:
        await session.execute(update(User).where(User.account_id == moderator.id).values(role="moderator"))
    local = (await post(client, alice_h, "here #cats"))["id"]
    far = await remote_status("there #cats")
    async with db.session() as session:
        cats = (await session.exec(select(Tag).where(Tag.key == "cats"))).one()
        session.add(StatusTag(status_id=far.id, tag_id=cats.id))
    remote = str(far.id)
    app_only = {"Authorization": f"Bearer {await token_for(None, scopes='read')}"}
    tag = "/api/v1/timelines/tag/cats"

    async def ids(path, headers=None, **params) -> list[str]:
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()]

    async def refused(path, headers=None, **params) -> int:
        response = await client.get(path, params=params, headers=headers)
        assert "error" in response.json(), response.text
        return response.status_code

    assert await ids(PUBLIC) == [remote, local] and await ids(tag) == [remote, local]  # all public by default
    with tuned(live_feeds_remote="authenticated"):
        assert await refused(PUBLIC) == 401 and await refused(PUBLIC, remote="true") == 401
        assert await refused(PUBLIC, app_only) == 422
        assert await ids(PUBLIC, local="true") == [local]  # the public part needs no one
        assert await ids(PUBLIC, local="true", remote="true") == [local]  # what a visitor may read
        assert await ids(PUBLIC, alice_h) == [remote, local]
        assert await ids(tag) == [remote, local]  # topic feeds have settings of their own
        access = (await client.get("/api/v2/instance")).json()["configuration"]["timelines_access"]
        assert access["live_feeds"] == {"local": "public", "remote": "authenticated"}
        assert_matches_spec(await client.get("/api/v2/instance"), "GET", "/api/v2/instance")
    with tuned(live_feeds_local="disabled"):
        assert await ids(PUBLIC, alice_h) == [remote]  # narrowed to what she may read
        assert await ids(PUBLIC, alice_h, local="true") == []
        assert await ids(PUBLIC, moderator_h) == [remote, local]
        assert await refused(PUBLIC) == 401 and await ids(PUBLIC, remote="true") == [remote]
    with tuned(topic_feeds_remote="disabled"):
        assert await refused(tag) == 401 and await ids(tag, local="true") == [local]
        assert await ids(tag, alice_h) == [local] and await ids(tag, moderator_h) == [remote, local]
        assert await ids(PUBLIC) == [remote, local]
        # Streams: a disabled part is not listened to (a user's stream narrows to the rest).
        owner = await streaming.authenticate(alice_h["Authorization"].removeprefix("Bearer "))
        hashtag = await streaming.resolve(owner, "hashtag", {"tag": "cats"})
        assert hashtag.channels == (streaming.hashtag_channel("cats", local=True),)
    with tuned(live_feeds_remote="disabled"):
        owner = await streaming.authenticate(alice_h["Authorization"].removeprefix("Bearer "))
        assert (await streaming.resolve(owner, "public", {})).channels == (streaming.PUBLIC_LOCAL,)
        assert (await streaming.resolve(owner, "public:remote:media", {})).channels == ()
        staff = await streaming.authenticate(moderator_h["Authorization"].removeprefix("Bearer "))
        assert (await streaming.resolve(staff, "public", {})).channels == (streaming.PUBLIC,)
        # Narrowed streams that now listen on the same channel are still two subscriptions.
        session = StreamSession(owner)
        await session.open()
        try:
            await session.subscribe("public", {})
            await session.subscribe("public:local", {})
            await session.subscribe("public:local", {})  # the same again: nothing more
            assert [s.stream.name for s in session.subscriptions.values()] == ["public", "public:local"]
            await session.unsubscribe("public:local", {})
            assert [s.stream.name for s in session.subscriptions.values()] == ["public"]
        finally:
            await session.close()


async def test_a_limited_accounts_earlier_public_posts_leave_public_and_hashtag_timelines(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    await follow(bob, alice)
    earlier = await post(client, alice_h, "before the limit #cats")
    other = await post(client, bob_h, "meanwhile #cats")
    async with db.session() as session:  # a moderator limits alice
        await session.execute(update(Account).where(Account.id == alice.id).values(silenced_at=utcnow()))
        await session.commit()

    for headers in ({}, bob_h, alice_h):  # anonymous, a follower, herself: as Mastodon's public feeds
        for path in (PUBLIC, "/api/v1/timelines/tag/cats"):
            response = await client.get(path, headers=headers)
            assert response.status_code == 200, response.text
            assert [s["id"] for s in response.json()] == [other["id"]], (path, headers)
    # Still there for her followers at home, and by link.
    await settled()
    assert earlier["id"] in await home(client, bob_h)
    assert (await client.get(f"/api/v1/statuses/{earlier['id']}", headers=bob_h)).status_code == 200


async def test_hashtag_timeline_with_any_all_and_none(client):
    alice, alice_h = await signed_in("alice")
    cats = await post(client, alice_h, "#Cats")
    both = await post(client, alice_h, "#cats and #dogs")
    dogs = await post(client, alice_h, "#dogs")
    birds = await post(client, alice_h, "#birds #cats")
    await post(client, alice_h, "#cats but quietly", visibility="unlisted")

    async def tag(name, **params):
        response = await client.get(f"/api/v1/timelines/tag/{name}", params=params)
        assert response.status_code == 200, response.text
        assert_matches_spec(response, "GET", "/api/v1/timelines/tag/{hashtag}")
        return [s["id"] for s in response.json()]

    assert await tag("cats") == [birds["id"], both["id"], cats["id"]]
    assert await tag("CATS", **{"any[]": "dogs"}) == [birds["id"], dogs["id"], both["id"], cats["id"]]
    assert await tag("cats", **{"all[]": "dogs"}) == [both["id"]]
    assert await tag("cats", **{"none[]": ["dogs", "birds"]}) == [cats["id"]]
    # As Mastodon's TagFeed, a tag nobody used asks for nothing in all[] (or none[])...
    assert await tag("cats", **{"all[]": "unheard"}) == [birds["id"], both["id"], cats["id"]]
    assert await tag("cats", **{"all[]": ["unheard", "dogs"]}) == [both["id"]]
    # ... and only the first four places count: all[] and none[] four each, the path's tag and
    # any[] four together (the path's tag first).
    assert await tag("cats", **{"none[]": ["a", "b", "c", "d", "dogs"]}) == [birds["id"], both["id"], cats["id"]]
    assert await tag("cats", **{"all[]": ["a", "b", "c", "d", "dogs"]}) == [birds["id"], both["id"], cats["id"]]
    assert await tag("cats", **{"any[]": ["a", "b", "c", "dogs"]}) == [birds["id"], both["id"], cats["id"]]
    assert await tag("cats", **{"any[]": ["a", "b", "dogs", "c"]}) == [birds["id"], dogs["id"], both["id"], cats["id"]]
    assert await tag("cats", **{"any[]": ["cats", "a", "b", "dogs"]}) == [birds["id"], dogs["id"], both["id"], cats["id"]]
    assert await tag("cats", **{"any[]": ["a", "a", "a", "a", "dogs"]}) == [birds["id"], dogs["id"], both["id"], cats["id"]]
    assert await tag("nosuchtag") == []
    assert await tag("nosuchtag", **{"any[]": "dogs"}) == []  # as Mastodon: the path's tag first
    assert await tag("cats", local="true", limit=1) == [birds["id"]]
    assert await tag("cats", remote="true") == []


async def test_a_hashtag_is_one_tag_however_it_is_spelt(client):
    """As Mastodon: compatibility forms (full-width letters), case and Latin diacritics do not
    make another tag, in the tag timeline, its any/all/none, the tag API and following."""
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await reader(client, "bob")
    accented = await post(client, alice_h, "#Café")
    plain = await post(client, alice_h, "#cafe")
    wide = await post(client, alice_h, "#ＣＡＦＥ and #Straße")
    german = await post(client, alice_h, "#strasse is another word")  # ß is not folded (Mastodon neither)

    async def tag(name, **params):
        response = await client.get(f"/api/v1/timelines/tag/{name}", params=params)
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()]

    everywhere = [wide["id"], plain["id"], accented["id"]]
    for spelling in ("cafe", "Café", "CAFÉ", "ｃａｆｅ"):
        assert await tag(spelling) == everywhere, spelling
    # Paging a tag spelt in any letters: the Link header is ASCII (it was a 500) and leads on.
    first = await client.get("/api/v1/timelines/tag/ｃａｆｅ", params={"limit": 1})
    assert first.status_code == 200 and first.headers["link"].isascii()
    older = re.search(r"<([^>]+)>; rel=\"next\"", first.headers["link"]).group(1)
    assert [s["id"] for s in (await client.get(older)).json()] == everywhere[1:2]
    assert await tag("straße") == [wide["id"]] and await tag("strasse") == [german["id"]]
    assert await tag("straße", **{"all[]": "CAFE"}) == [wide["id"]]
    assert await tag("café", **{"none[]": "Straße"}) == [plain["id"], accented["id"]]
    assert await tag("strasse", **{"any[]": "Cafe"}) == [german["id"], *everywhere]

    shown = [(await client.get(f"/api/v1/tags/{name}")).json() for name in ("Cafe", "CAFÉ")]
    assert shown[0]["id"] == shown[1]["id"] and shown[0]["name"] == "Café"  # as first written
    followed = await client.post("/api/v1/tags/CAFÉ/follow", headers=bob_h)
    assert followed.status_code == 200 and followed.json()["id"] == shown[0]["id"]
    assert followed.json()["following"] is True
    later = await post(client, alice_h, "#CAFE again")
    await settled()
    assert later["id"] in await home(client, bob_h)
    unfollowed = await client.post("/api/v1/tags/café/unfollow", headers=bob_h)
    assert unfollowed.json()["following"] is False
    assert (await client.get("/api/v1/followed_tags", headers=bob_h)).json() == []


# -- a real client scrolling while posts arrive -----------------------------------------

def scroll_with_mastodon_py(base: str, reader_token: str, poster_token: str) -> dict:
    """Read the home timeline page by page through the Link headers while new posts arrive,
    as an app does."""
    me = Mastodon(access_token=reader_token, api_base_url=base, version_check_mode="none")
    poster = Mastodon(access_token=poster_token, api_base_url=base, version_check_mode="none")
    page = me.timeline_home(limit=5)
    top = page[0].id
    seen = [int(s.id) for s in page]
    arrived = []
    while True:
        arrived.append(int(poster.status_post(f"arrived during the scroll {len(arrived)}").id))
        page = me.fetch_next(page)
        if not page:
            break
        seen += [int(s.id) for s in page]
    return {"seen": seen, "arrived": arrived, "top": top}


def catch_up_with_mastodon_py(base: str, reader_token: str, top) -> list[int]:
    """Scroll up from where the reading started, through `prev` links, oldest page first."""
    me = Mastodon(access_token=reader_token, api_base_url=base, version_check_mode="none")
    newer = []
    page = me.timeline_home(min_id=top, limit=3)
    while page:
        newer = [int(s.id) for s in page] + newer
        page = me.fetch_previous(page)
    return newer


async def test_mastodon_py_scrolls_home_without_skipping_or_repeating(live_server, client):
    alice, alice_h = await reader(client, "alice")
    bob, bob_h = await signed_in("bob")
    await follow(alice, bob)
    await settled()
    posted = [int((await post(client, bob_h, f"n{n}"))["id"]) for n in range(17)]
    await settled()
    token = alice_h["Authorization"][7:]
    result = await asyncio.to_thread(scroll_with_mastodon_py, live_server, token, bob_h["Authorization"][7:])
    assert result["seen"] == list(reversed(posted))  # every one, once, in order
    await settled()  # the posts that arrived meanwhile have been fanned out
    newer = await asyncio.to_thread(catch_up_with_mastodon_py, live_server, token, result["top"])
    assert newer == list(reversed(result["arrived"]))
