"""Streaming with Mastodon.py against a running `starling serve`, both ways it streams: the
server-sent-event endpoint (`stream_user`) and one multiplexed WebSocket (`stream_open_websocket`
with a `user` and a `hashtag` subscription). Its parser turns each event into entities, so a
payload encoded differently from Mastodon's shows up here as a parse failure or a wrong type.

Mastodon.py streams in threads of its own; the listeners put what they get on queues that the
test reads from its event loop.
"""
from __future__ import annotations

import asyncio
import queue

from mastodon import StreamListener

from app import db
from app.services import streaming
from app.services.tokens import lookup
from tests.api.test_timelines import live_feed
from tests.support.polling import settled
from tests.support.world import follow, make_user, mastodon_for, post_status, token_for

WAIT = 10.0  # seconds an event may take


class Collector(StreamListener):
    """Every event as (name, payload as Mastodon.py parsed it, the stream it came through)."""

    def __init__(self):
        super().__init__()
        self.events: queue.Queue = queue.Queue()
        self.errors: list = []

    def on_any_event(self, name, data=None, for_stream=None):
        self.events.put((name, data, for_stream))

    def on_abort(self, err):
        self.errors.append(err)

    def on_websocket_error(self, error, for_stream=None):
        self.errors.append(error)

    def next(self, wanted: str) -> tuple:
        """The next event called `wanted`, others (the probes) skipped."""
        while True:
            name, data, stream = self.events.get(timeout=WAIT)
            if name == wanted:
                return data, stream


async def listening(collectors: list[Collector], account_id: int) -> None:
    """Until each collector heard a probe on the account's home channel: then it listens."""
    heard: set[int] = set()
    for _ in range(100):
        await streaming.publish_to_user(account_id, "filters_changed")
        await asyncio.sleep(0.1)
        for n, collector in enumerate(collectors):
            while not collector.events.empty():
                if collector.events.get_nowait()[0] == "filters_changed":
                    heard.add(n)
        if len(heard) == len(collectors):
            return
    raise AssertionError("the streams never started listening")


async def test_mastodon_py_streams_updates_notifications_edits_and_deletes(client, live_server):
    alice, _ = await make_user("alice")
    bob, _ = await make_user("bob")
    alice_token, bob_token = await token_for(alice, "read write"), await token_for(bob, "read write")
    await follow(alice, bob)
    headers = {"Authorization": f"Bearer {alice_token}"}
    await client.get("/api/v1/timelines/home", headers=headers)
    await live_feed(alice)
    mine = (await post_status(client, headers, status="something to like")).json()

    api = mastodon_for(live_server, alice_token)
    events, websocket_events = Collector(), Collector()
    sse = await asyncio.to_thread(api.stream_user, events, run_async=True)
    socket = await asyncio.to_thread(api.stream_open_websocket, websocket_events)
    try:
        await asyncio.to_thread(socket.subscribe, "user")
        await asyncio.to_thread(socket.subscribe, "hashtag", tag="Cats")
        await listening([events, websocket_events], alice.id)

        bobs = mastodon_for(live_server, bob_token)
        posted = await asyncio.to_thread(bobs.status_post, "hello #cats")
        # Once over server-sent events; twice on the WebSocket, for each subscription, named as subscribed.
        for collector, expected in ((events, [None]), (websocket_events, [["hashtag", "Cats"], ["user"]])):
            streams = []
            for _ in expected:
                status, stream = await asyncio.to_thread(collector.next, "update")
                assert status.id == posted.id and status.account.acct == "bob" and "hello" in status.content
                assert status.created_at == posted.created_at  # parsed to a datetime by the client
                streams.append(stream)
            assert sorted(streams, key=str) == expected

        await asyncio.to_thread(bobs.status_favourite, mine["id"])
        for collector in (events, websocket_events):
            notification, _ = await asyncio.to_thread(collector.next, "notification")
            assert notification.type == "favourite" and notification.account.acct == "bob"
            assert str(notification.status.id) == mine["id"]

        await asyncio.to_thread(bobs.status_update, posted.id, "hello again #cats")
        for collector in (events, websocket_events):
            edited, _ = await asyncio.to_thread(collector.next, "status.update")
            assert edited.id == posted.id and "again" in edited.content and edited.edited_at is not None

        await settled()
        await asyncio.to_thread(bobs.status_delete, posted.id)
        for collector in (events, websocket_events):
            deleted, _ = await asyncio.to_thread(collector.next, "delete")
            assert str(deleted) == str(posted.id)
        assert events.errors == [] and websocket_events.errors == []
    finally:
        await asyncio.to_thread(socket.close)
        # Closing the event stream returns only once its reading thread wakes up (the next
        # heartbeat, up to 15 s away): the server ends it first, as for a revoked token.
        async with db.session() as session:
            await streaming.disconnect_token((await lookup(session, alice_token)).token.id)
        await asyncio.to_thread(sse.close)
