"""The feed actors: idempotent, fast in bulk, Mastodon's reblog rules in the Redis script,
trimming with a moving floor, and `update` events on the receivers' user streams."""
from __future__ import annotations

import asyncio
import json
import time

from app import db
from app import redis as app_redis
from app.models import Status
from app.services import streaming
from app.services.feeds import fanout, store
from tests.api.test_timelines import tuned
from tests.support.crowd import followers_of, holding, make_live
from tests.support.polling import settled
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
    client = app_redis.client()
    return {a: (await client.zrange(store.feed_key(a), 0, -1, withscores=True),
                await client.zrange(store.reblogs_key(a), 0, -1, withscores=True),
                await client.get(store.floor_key(a))) for a in account_ids}


async def test_every_feed_actor_run_twice_changes_nothing_the_second_time(settings):
    star, _ = await make_user("star")
    fans = await followers_of(star, 50)
    await make_live(app_redis.client(), fans)
    status = await write_status(star.id)
    everyone = fans + [star.id]

    await run("feeds_distribute", status_id=status.id)
    first = await snapshot(everyone)
    assert await holding(app_redis.client(), fans, status.id) == 50
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
    await make_live(app_redis.client(), active + asleep)
    status = await write_status(star.id)
    started = time.perf_counter()
    received = await fanout.distribute(status.id)
    elapsed = time.perf_counter() - started
    print(f"fan-out to 5,000 followers: {elapsed * 1000:.0f} ms")
    assert received == 5000  # the author reads nothing: no live feed of their own
    assert await holding(app_redis.client(), active, status.id) == 5000
    assert await holding(app_redis.client(), asleep, status.id) == 0


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
    # Once the post has sunk below the newest 40 entries, a new boost brings it up again.
    for n in range(45):
        await store.fan_out([1], sid(100 + n), None)
    assert await store.fan_out([1], sid(200), sid(1)) == [1]
    # The owner's own posts always go in, even when a boost of them is in the feed.
    assert await store.fan_out([1], sid(300), sid(400)) == [1]
    assert await store.fan_out([1], sid(400), None) == []
    assert await store.fan_out([1], sid(400), None, own=True) == [1]
    assert await store.ids(1) == sorted(
        [sid(1), sid(10), *(sid(100 + n) for n in range(45)), sid(200), sid(300), sid(400)], reverse=True)


async def test_the_feed_is_trimmed_and_its_floor_follows(settings):
    await store.start_building(7)
    await store.finish_building(7, 0)
    with tuned(feed_max_items=10):
        for n in range(15):
            await store.fan_out([7], sid(1000 + n), None)
    feed = await store.ids(7)
    assert len(feed) == 10 and feed[-1] == sid(1005)
    assert await store.floor_of(7) == sid(1005)  # below it, PostgreSQL answers


async def test_receivers_get_an_update_event_on_their_user_stream(settings):
    author, _ = await make_user("author")
    fans = await followers_of(author, 3)
    await make_live(app_redis.client(), fans)
    status = await write_status(author.id, "live!")
    pubsub = app_redis.client().pubsub()
    await pubsub.subscribe(*[streaming.user_channel(a) for a in fans])
    for _ in fans:
        await pubsub.get_message(timeout=1)  # the subscribe confirmations
    await run("feeds_distribute", status_id=status.id)
    messages = []
    deadline = time.monotonic() + 5
    while len(messages) < 3 and time.monotonic() < deadline:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
        if message:
            messages.append(message)
    await pubsub.aclose()
    assert sorted(m["channel"] for m in messages) == sorted(streaming.user_channel(a) for a in fans)
    event = json.loads(messages[0]["data"])
    assert event["event"] == "update"
    payload = json.loads(event["payload"])
    assert payload["id"] == str(status.id) and payload["content"] == "<p>live!</p>"
    assert payload["favourited"] is False
    await settled()
