"""The feed actors: idempotent, fast in bulk, Mastodon's reblog rules in the Redis script,
trimming with a moving floor, and `update` events on the receivers' user streams."""
from __future__ import annotations

import asyncio
import json
import time

from app import db
from app import redis as app_redis
from app.models import Status, StatusTag, Tag, TagFollow
from app.models.base import utcnow
from app.services import streaming
from app.services.feeds import audience, fanout, store
from app.streaming.hub import Hub
from tests.api.test_timelines import tuned
from tests.support.crowd import followers_of, holding, make_live
from tests.support.polling import eventually, settled
from tests.support.world import make_user


async def run(actor_name: str, **kwargs) -> None:
    # The real actor on the worker's event loop; imported once the worker pool has loaded it.
    from workers import feeds as actors

    actor = {"feeds_distribute": actors.distribute, "feeds_withdraw": actors.withdraw, "feeds_merge": actors.merge,
             "feeds_unmerge": actors.unmerge, "feeds_rebuild": actors.rebuild}[actor_name]
    await asyncio.to_thread(actor, **kwargs)


async def write_status(account_id: int, text: str = "hi", **fields) -> Status:
    """A committed status whose fan-out job was never enqueued: the test runs the actor itself."""
    async with db.session() as session:
        status = Status(uri=f"http://local.invalid/{time.monotonic_ns()}", account_id=account_id, text=text,
                        content=f"<p>{text}</p>", **fields)
        session.add(status)
        await session.flush()
        return status


async def snapshot(account_ids: list[int]) -> dict:
    client = app_redis.feeds()
    return {a: (await client.zrange(store.feed_key(a), 0, -1, withscores=True),
                await client.zrange(store.reblogs_key(a), 0, -1, withscores=True),
                await client.get(store.floor_key(a))) for a in account_ids}


async def test_every_feed_actor_run_twice_changes_nothing_the_second_time(settings):
    star, _ = await make_user("star")
    fans = await followers_of(star, 50)
    await make_live(app_redis.feeds(), fans)
    status = await write_status(star.id)
    everyone = fans + [star.id]

    await run("feeds_distribute", status_id=status.id)
    first = await snapshot(everyone)
    assert await holding(app_redis.feeds(), fans, status.id) == 50
    await run("feeds_distribute", status_id=status.id)
    assert await snapshot(everyone) == first

    await run("feeds_unmerge", account_id=fans[0], target_id=star.id)
    after_unmerge = await snapshot(everyone)
    assert after_unmerge[fans[0]][0] == []
    await run("feeds_unmerge", account_id=fans[0], target_id=star.id)
    assert await snapshot(everyone) == after_unmerge
    await run("feeds_merge", account_id=fans[0], target_id=star.id)
    await run("feeds_merge", account_id=fans[0], target_id=star.id)
    assert await snapshot(everyone) == first

    await run("feeds_rebuild", account_id=fans[1])
    rebuilt = await snapshot(everyone)
    await run("feeds_rebuild", account_id=fans[1])
    assert await snapshot(everyone) == rebuilt
    assert rebuilt[fans[1]][0] == first[fans[1]][0]

    async with db.session() as session:
        gone = await session.get(Status, status.id)
        gone.deleted_at = gone.created_at
        session.add(gone)
    await run("feeds_withdraw", status_id=status.id)
    withdrawn = await snapshot(everyone)
    assert all(feed == [] for feed, _, _ in withdrawn.values())
    await run("feeds_withdraw", status_id=status.id)
    await run("feeds_distribute", status_id=status.id)  # a late redelivery of a deleted post adds nothing
    assert await snapshot(everyone) == withdrawn


async def test_a_large_fan_out_reaches_every_active_follower_and_skips_the_rest(settings):
    star, _ = await make_user("star")
    active = await followers_of(star, 5000)
    asleep = await followers_of(star, 200, prefix="asleep", active=False)
    await make_live(app_redis.feeds(), active + asleep)
    status = await write_status(star.id)
    started = time.perf_counter()
    received = await fanout.distribute(status.id)
    elapsed = time.perf_counter() - started
    print(f"fan-out to 5,000 followers: {elapsed * 1000:.0f} ms")
    assert received == 5000  # the author reads nothing: no live feed of their own
    assert await holding(app_redis.feeds(), active, status.id) == 5000
    assert await holding(app_redis.feeds(), asleep, status.id) == 0


async def test_a_reply_to_a_post_unknown_here_reaches_no_followers_feed(settings):
    """Mastodon's filter_from_home: a reply without a known parent (`reply` and no parent, as a
    remote reply to a post this server never saw is stored) goes into no follower's home, while
    followers of its hashtags still get it; a top-level post reaches both."""
    star, _ = await make_user("star")
    fans = await followers_of(star, 20)
    tagger, tagger_user = await make_user("tagger")
    await make_live(app_redis.feeds(), fans + [tagger.id])
    async with db.session() as session:
        tagger_user.last_active_at = utcnow()  # an active user: feeds go to those only
        session.add(tagger_user)
        tag = Tag(name="fediverse")
        session.add(tag)
        await session.flush()
        session.add(TagFollow(account_id=tagger.id, tag_id=tag.id))
    statuses = {}
    for name, fields in (("orphan", {"reply": True}), ("plain", {})):
        status = await write_status(star.id, name, **fields)
        async with db.session() as session:
            session.add(StatusTag(status_id=status.id, tag_id=tag.id))
        statuses[name] = status
        await fanout.distribute(status.id)
    assert await holding(app_redis.feeds(), fans, statuses["orphan"].id) == 0
    assert await holding(app_redis.feeds(), fans, statuses["plain"].id) == len(fans)
    for status in statuses.values():
        assert await holding(app_redis.feeds(), [tagger.id], status.id) == 1


def sid(n: int) -> int:
    """Realistic ids: one millisecond apart (a double score tells those apart)."""
    return 117_657_833_832_513_537 + n * 65536


async def test_boost_rules_in_the_feed_script(settings):
    await store.start_building(1)
    await store.finish_building(1, 0)
    # An original, then a boost of it right away: not repeated.
    assert await store.fan_out([1], sid(1), None) == [1]
    assert await store.fan_out([1], sid(2), sid(1)) == []
    # A boost of something not in the feed goes in; a second boost of the same post does not.
    assert await store.fan_out([1], sid(10), sid(3)) == [1]
    assert await store.fan_out([1], sid(11), sid(3)) == []
    # ...and the original arriving late is not shown twice either.
    assert await store.fan_out([1], sid(3), None) == []
    # The same boost delivered again is still there (idempotent), not refused.
    assert await store.fan_out([1], sid(10), sid(3)) == [1]
    # Once the post has sunk below the newest 40 entries, a new boost brings it up again; and
    # once the boost standing for a post has sunk as far, so does another boost of it, or the
    # post itself arriving late (Mastodon stops tracking a boost there).
    await store.fan_out([1], sid(20), sid(5))
    await store.fan_out([1], sid(21), sid(6))
    for n in range(45):
        await store.fan_out([1], sid(100 + n), None)
    assert await store.fan_out([1], sid(200), sid(1)) == [1]
    assert await store.fan_out([1], sid(201), sid(5)) == [1]
    assert await store.fan_out([1], sid(202), sid(5)) == []  # the new one stands for it now
    assert await store.fan_out([1], sid(6), None) == [1]
    # The owner's own posts always go in, even when a boost of them is in the feed.
    assert await store.fan_out([1], sid(300), sid(400)) == [1]
    assert await store.fan_out([1], sid(400), None) == []
    assert await store.fan_out([1], sid(400), None, own=True) == [1]
    assert await store.ids(1) == sorted(
        [sid(1), sid(6), sid(10), sid(20), sid(21), *(sid(100 + n) for n in range(45)), sid(200), sid(201),
         sid(300), sid(400)], reverse=True)


async def test_a_boost_standing_for_its_post_hands_over_to_one_held_back(settings):
    """As Mastodon's remove_from_feed: when the boost shown for a post goes, the oldest boost of
    it held back meanwhile takes its place; a held-back boost that goes is forgotten."""
    await store.start_building(2)
    await store.finish_building(2, 0)
    post = sid(1)  # not in this feed: only boosts of it come
    assert await store.fan_out([2], sid(10), post) == [2]
    assert await store.fan_out([2], sid(11), post) == []  # held back
    assert await store.fan_out([2], sid(12), post) == []  # held back
    assert await store.fan_out([2], sid(13), post) == []  # held back, then undone
    await store.remove([2], [(sid(13), post)])
    await store.remove([2], [(sid(10), post)])  # the standing boost goes: the oldest held back comes
    assert await store.ids(2) == [sid(11)]
    assert await store.fan_out([2], sid(14), post) == []  # sid(11) stands for the post now
    await store.remove([2], [(sid(11), post)])
    assert await store.ids(2) == [sid(12)]  # sid(13) was undone: never shown again
    await store.remove([2], [(sid(12), post)])
    assert await store.ids(2) == [sid(14)]
    await store.remove([2], [(sid(14), post)])
    assert await store.ids(2) == []


async def test_the_feed_is_trimmed_and_its_floor_follows(settings):
    await store.start_building(7)
    await store.finish_building(7, 0)
    with tuned(feed_max_items=10):
        for n in range(15):
            await store.fan_out([7], sid(1000 + n), None)
    feed = await store.ids(7)
    assert len(feed) == 10 and feed[-1] == sid(1005)
    assert await store.floor_of(7) == sid(1005)  # below it, PostgreSQL answers


async def test_a_full_feed_is_cut_back_once_a_sixteenth_more_came_in(settings):
    """32 entries at most, cut back to 32 once past 34: after 40 posts, 34 entries, and the floor
    is still exactly the oldest one kept."""
    await store.start_building(8)
    await store.finish_building(8, 0)
    with tuned(feed_max_items=32):
        for n in range(40):
            await store.fan_out([8], sid(2000 + n), None)
    feed = await store.ids(8)
    assert feed == [sid(2000 + n) for n in range(39, 5, -1)]  # cut at 35 and 38, each back to 32
    assert await store.floor_of(8) == sid(2006)


async def open_home_streams(account_ids: list[int]) -> tuple[list, list]:
    """Listen on these accounts' home channels the way an open user stream does (through
    this process's Hub): (received (account, Message) pairs, the listeners to remove)."""
    received: list = []
    listeners = []
    for account_id in account_ids:
        listener = (lambda message, a=account_id: received.append((a, message)))
        await Hub.current().add(streaming.user_channel(account_id), listener)
        listeners.append((streaming.user_channel(account_id), listener))
    return received, listeners


async def close_streams(listeners: list) -> None:
    for channel, listener in listeners:
        await Hub.current().remove(channel, listener)


async def test_receivers_with_a_home_stream_open_get_an_update_event(settings):
    author, _ = await make_user("author")
    fans = await followers_of(author, 4)
    await make_live(app_redis.feeds(), fans)
    status = await write_status(author.id, "live!")
    received, listeners = await open_home_streams(fans[:3])  # the fourth has no app open
    try:
        await run("feeds_distribute", status_id=status.id)
        await eventually(lambda: asyncio.sleep(0, len(received)), until=lambda n: n == 3)
        assert sorted(a for a, _ in received) == sorted(fans[:3])
        message = received[0][1]
        assert message.event == "update"
        payload = json.loads(message.payload)
        assert payload["id"] == str(status.id) and payload["content"] == "<p>live!</p>"
        assert payload["favourited"] is False
        await run("feeds_distribute", status_id=status.id)  # a redelivery adds nothing, so tells no one
        await asyncio.sleep(0.3)
        assert len(received) == 3
    finally:
        await close_streams(listeners)
    await settled()


async def test_a_stream_opened_during_a_fan_out_gets_the_posts_after_it(settings):
    """Who has a stream open is looked up for each batch of followers, not once per fan-out."""
    author, _ = await make_user("author")
    fans = await followers_of(author, 400)
    await make_live(app_redis.feeds(), fans)
    first = await write_status(author.id, "before")
    with tuned(fanout_batch_size=2):
        fan_out = asyncio.create_task(run("feeds_distribute", status_id=first.id))
        await eventually(lambda: holding(app_redis.feeds(), fans, first.id), until=lambda n: n > 0)
        received, listeners = await open_home_streams([fans[-1]])  # mid-way through the fan-out
        try:
            await fan_out
            second = await write_status(author.id, "after")
            await run("feeds_distribute", status_id=second.id)
            await eventually(lambda: asyncio.sleep(0, [json.loads(m.payload)["id"] for _, m in received]),
                             until=lambda ids: str(second.id) in ids)
        finally:
            await close_streams(listeners)
    await settled()


async def test_an_original_is_not_added_where_a_boost_of_it_landed_first(settings):
    """The boost mark: an original's fan-out skips per-feed boost checks only if no boost of it
    was ever fanned out, so a boost that beat the original to a feed still stands for it."""
    await store.start_building(5)
    await store.finish_building(5, 0)
    assert await store.fan_out([5, 6], sid(21), sid(20)) == [5]  # 6 has no live feed
    assert await store.fan_out([5], sid(20), None) == []
    assert await store.fan_out([5], sid(30), None) == [5]  # never boosted: the plain path
    assert await store.ids(5) == [sid(30), sid(21)]


async def test_a_big_audience_is_streamed_and_is_the_same_audience(settings):
    """Big authors' audiences come from a server-side cursor while feeds are written; the
    receivers are exactly those of the one-query path (hashtag followers once, inactive
    followers not at all)."""
    star, _ = await make_user("star")
    fans = await followers_of(star, 1200)
    await followers_of(star, 30, prefix="asleep", active=False)
    tagger, tagger_user = await make_user("tagger")  # follows the tag, not the author
    status = await write_status(star.id, "#news at eleven", visibility="public")
    async with db.session() as session:
        tagger_user.last_active_at = utcnow()
        session.add(tagger_user)
        tag = Tag(name="news")
        session.add(tag)
        await session.flush()
        session.add(StatusTag(status_id=status.id, tag_id=tag.id))
        session.add_all([TagFollow(account_id=a, tag_id=tag.id) for a in (tagger.id, fans[0])])

    async def audience_of(followers_count: int) -> list[str]:
        async with db.session() as session:
            return [a async for batch in audience.followers(session, status, 100, followers_count=followers_count)
                    for a in batch]

    one_query = await audience_of(10)
    streamed = await audience_of(audience.STREAMED_FROM)
    assert sorted(streamed) == sorted(one_query) == sorted(map(str, fans + [tagger.id]))


async def test_only_receivers_registered_as_watching_and_not_lapsed_are_told(settings):
    """Which receivers get an `update` comes from streaming.WATCHING, looked up either way
    round (the registry is smaller than the batch, or the batch is smaller)."""
    await make_live(app_redis.feeds(), [1, 2, 3])
    now = int(time.time())
    await app_redis.feeds().zadd(streaming.WATCHING, {"1": now + 60, "2": now - 1})  # 2 has lapsed
    added = await store.add_to_feeds([1, 2, 3], sid(1), None, with_receivers=True)
    assert added.receivers == [1, 2, 3] and added.watching == [1] and added.received == 3
    await app_redis.feeds().zadd(streaming.WATCHING, {str(9000 + n): now + 60 for n in range(5)})
    added = await store.add_to_feeds([1, 2, 3], sid(2), None)  # 6 open streams, 3 receivers
    assert added.watching == [1] and added.received == 3 and added.receivers is None
    assert (await store.add_to_feeds([1, 2, 3], sid(2), None)).watching == []  # already there: not again


async def test_a_failed_batch_closes_the_audience_and_leaves_no_call_running():
    """A fan-out whose feed write fails is retried as a whole; before that it must close the
    audience (its server-side cursor lives in the fan-out's transaction) and wait for the calls
    still in flight, so nothing runs on once the transaction is gone."""
    closed, finished = [], []

    async def audience_batches():
        try:
            for n in range(10):
                yield n
        finally:
            closed.append(True)

    async def write(batch):
        if batch == 2:
            raise ConnectionError("Redis went away")
        await asyncio.sleep(0.05)
        finished.append(batch)

    try:
        await fanout._overlapped(audience_batches(), write)
    except ConnectionError:
        pass
    else:
        raise AssertionError("the failure was swallowed")
    assert closed == [True]
    running = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and "write" in repr(t.get_coro())]
    assert running == []


async def test_a_feed_trimmed_while_it_was_rebuilt_is_trusted_only_from_its_oldest_entry(settings):
    reader, _ = await make_user("reader")
    ids = [144_000_000_000_000_000 + n for n in range(5)]  # snowflake-sized: beyond double precision
    with tuned(feed_max_items=3):
        await store.start_building(reader.id)
        for status_id in ids:  # fan-outs during the rebuild fill the feed past its limit
            await store.fan_out([reader.id], status_id, None)
        await store.finish_building(reader.id, 0)  # the rebuild found everything since the start...
        # ...but the two oldest were trimmed: the floor must say the feed holds only from ids[2].
        assert await store.floor_of(reader.id) == ids[2]
        assert await store.ids(reader.id) == ids[:1:-1]


async def test_a_feed_cut_while_rebuilt_is_trusted_from_the_cut_whatever_came_after(settings):
    """Cut back during the rebuild, then a post deleted and a late remote one (dated before the
    cut) arriving: the floor is where the cut was, not the oldest entry left, so the posts cut
    away are read from PostgreSQL instead of missing from the feed."""
    reader, _ = await make_user("reader")
    base = 144_000_000_000_000_000
    with tuned(feed_max_items=32):  # may reach 34 before it is cut back
        await store.start_building(reader.id)
        for n in range(35):  # the 35th insert cuts the feed back to the newest 32
            await store.fan_out([reader.id], base + 100 + n, None)
        await store.remove([reader.id], [(base + 134, None)])  # a deletion: 31 entries left
        await store.fan_out([reader.id], base + 50, None)  # a late remote post, dated before the cut
        await store.finish_building(reader.id, 0)
        assert await store.floor_of(reader.id) == base + 103  # the oldest entry the cut kept


async def test_a_feed_key_recreated_by_a_write_still_expires(settings):
    """Removing a feed's last entry deletes the key; the next fan-out creates it again, and it
    must expire with the feed (a key without expiry would outlive its floor forever)."""
    reader, _ = await make_user("reader")
    await store.start_building(reader.id)
    await store.finish_building(reader.id, 0)
    first, boost, boosted = 144_000_000_000_000_001, 144_000_000_000_000_002, 143_000_000_000_000_000
    await store.fan_out([reader.id], first, None)
    await store.remove([reader.id], [(first, None)])
    redis = app_redis.feeds()
    assert not await redis.exists(store.feed_key(reader.id))
    await store.fan_out([reader.id], boost, boosted)  # a boost: the feed and its reblog tracking anew
    assert await store.ids(reader.id) == [boost]
    for key in (store.feed_key(reader.id), store.reblogs_key(reader.id)):
        assert 0 < await redis.ttl(key) <= store.ttl_seconds(), key
