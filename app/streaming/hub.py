"""One Redis pub/sub connection per process, shared by every open stream in it.

    hub = Hub.current()
    await hub.add("timeline:public", listener)     # listener(message) is called for each event
    await hub.remove("timeline:public", listener)

A channel is subscribed in Redis while at least one listener wants it, so ten
thousand sockets watching `public` cost one Redis subscription and one JSON
decode per event, not ten thousand. Listeners are plain functions that must not
block: they only queue the message for their connection.

`add` returns once Redis has confirmed the subscription, so an event published
after it returns is delivered (for a public or hashtag channel, once the notice that someone
now listens has been published, which other processes hear a moment later: see
streaming.anyone_watching_statuses; it is published again after a reconnection).
A home (user) channel is also entered in the streaming.WATCHING registry before it is
subscribed, and renewed while it stays subscribed: fan-outs publish `update` events only
to accounts found there. If the Redis connection drops, the reader reconnects and redis-py
re-subscribes every channel; events published while it was down are lost (pub/sub keeps nothing), as
with Mastodon's streaming server. Channels are named as Mastodon names them here; on the wire
they carry the instance's prefix (app.redis.channel).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Callable

from redis.exceptions import RedisError

from app import redis as app_redis
from app.services import streaming
from app.services.streaming import Message

log = logging.getLogger("starling.streaming")
Listener = Callable[[Message], None]
CONFIRM_TIMEOUT = 5.0  # seconds to wait for Redis to confirm a new subscription


class Hub:
    _per_loop: dict[asyncio.AbstractEventLoop, "Hub"] = {}

    def __init__(self) -> None:
        self._listeners: dict[str, set[Listener]] = {}
        self._confirmed: dict[str, asyncio.Future] = {}
        self._lock = asyncio.Lock()  # serialises SUBSCRIBE/UNSUBSCRIBE and the reader's start/stop
        self._pubsub = None
        self._reader: asyncio.Task | None = None
        self._renewer: asyncio.Task | None = None
        # Per status channel: done once the notice that this process listens to it has gone
        # out (streaming.announce_status_listener); later subscribers wait for it too.
        self._announced: dict[str, asyncio.Future] = {}
        self._reannouncing: asyncio.Task | None = None

    @classmethod
    def current(cls) -> "Hub":
        """This event loop's hub (pub/sub connections belong to the loop that opened them)."""
        loop = asyncio.get_running_loop()
        hub = cls._per_loop.get(loop)
        if hub is None:
            hub = cls._per_loop[loop] = cls()
        return hub

    def channels(self) -> set[str]:
        return set(self._listeners)

    async def add(self, channel: str, listener: Listener) -> None:
        async with self._lock:
            listeners = self._listeners.setdefault(channel, set())
            listeners.add(listener)
            subscribing = len(listeners) == 1
            if subscribing and streaming.is_status_channel(channel):
                self._announced[channel] = asyncio.get_running_loop().create_future()
            announced = self._announced.get(channel)
            if subscribing:
                watched = streaming.watched_account(channel)
                if watched is not None:
                    try:  # before subscribing: from here on, fan-outs publish to it
                        await streaming.mark_watching([watched])
                    except BaseException:
                        self._forget(channel, listener)
                        raise
                if self._pubsub is None:
                    self._pubsub = app_redis.client().pubsub()
                self._confirmed[channel] = asyncio.get_running_loop().create_future()
                await self._pubsub.subscribe(app_redis.channel(channel))
                if self._reader is None or self._reader.done():
                    self._reader = asyncio.create_task(self._read(self._pubsub), name="streaming-hub")
                if self._renewer is None or self._renewer.done():
                    self._renewer = asyncio.create_task(self._renew_watching(), name="streaming-hub-watching")
            confirmed = self._confirmed.get(channel)
        if confirmed is not None:
            try:
                await asyncio.wait_for(asyncio.shield(confirmed), CONFIRM_TIMEOUT)
            except asyncio.TimeoutError:
                log.warning("Redis did not confirm the subscription to %s in time", channel)
        if announced is None:
            return
        if subscribing:
            # Processes that remembered nobody watches statuses must ask again from now on.
            try:
                await streaming.announce_status_listener()
            finally:
                if not announced.done():
                    announced.set_result(None)
        else:
            try:
                await asyncio.wait_for(asyncio.shield(announced), CONFIRM_TIMEOUT)
            except asyncio.TimeoutError:
                log.warning("the first subscriber of %s did not announce it in time", channel)

    async def remove(self, channel: str, listener: Listener) -> None:
        async with self._lock:
            listeners = self._listeners.get(channel)
            if not listeners or listener not in listeners:
                return
            listeners.discard(listener)
            if listeners:
                return
            del self._listeners[channel]
            self._confirmed.pop(channel, None)
            self._announced.pop(channel, None)
            if self._listeners:
                await self._pubsub.unsubscribe(app_redis.channel(channel))
                return
            # Nobody listens any more: stop reading and give the connection back.
            pubsub, reader, renewer = self._pubsub, self._reader, self._renewer
            self._pubsub = self._reader = self._renewer = None
        for task in (reader, renewer):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if pubsub is not None:
            await pubsub.aclose()

    def _forget(self, channel: str, listener: Listener) -> None:
        listeners = self._listeners.get(channel)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self._listeners[channel]

    async def _renew_watching(self) -> None:
        """Keep this process's open home streams in streaming.WATCHING while they stay open."""
        while True:
            await asyncio.sleep(streaming.WATCH_RENEW_SECONDS)
            watched = [a for a in map(streaming.watched_account, list(self._listeners)) if a is not None]
            try:
                await streaming.mark_watching(watched)
            except (RedisError, OSError) as error:  # the next round tries again, well within WATCH_SECONDS
                log.warning("could not renew the open home streams (%s)", error)

    async def _read(self, pubsub) -> None:
        while True:
            try:
                raw = await pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                log.warning("streaming pub/sub connection failed (%s); reconnecting", error)
                await asyncio.sleep(1.0)
                continue
            if raw is not None:
                self._dispatch(raw)

    def _reannounce(self) -> None:
        """After a reconnection redis-py subscribes again by itself; processes that asked in
        between remember that nobody listens, so the notice goes out again (once per burst)."""
        if self._reannouncing is not None and not self._reannouncing.done():
            return

        async def announce() -> None:
            try:
                await streaming.announce_status_listener()
            except (RedisError, OSError) as error:
                log.warning("could not announce the status streams listened to again (%s)", error)

        self._reannouncing = asyncio.get_running_loop().create_task(announce(), name="streaming-hub-announce")

    def _dispatch(self, raw: dict) -> None:
        kind, channel = raw.get("type"), raw.get("channel")
        if isinstance(channel, bytes):
            channel = channel.decode()
        prefix = app_redis.channel("")
        if not channel or not channel.startswith(prefix):
            return  # not this instance's (only if the Redis URL changed under a live hub)
        channel = channel[len(prefix):]
        if kind == "subscribe":
            confirmed = self._confirmed.pop(channel, None)
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(None)
            elif streaming.is_status_channel(channel):
                self._reannounce()  # re-subscribed after a reconnection: others may have asked meanwhile
            return
        if kind != "message":
            return
        message = Message.decode(raw.get("data") or "")
        if message is None:
            log.warning("ignored a malformed event on %s", channel)
            return
        for listener in list(self._listeners.get(channel, ())):
            try:
                listener(message)
            except Exception:  # one broken connection must not stop the others' events
                log.exception("streaming listener failed on %s", channel)
