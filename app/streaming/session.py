"""One client's open stream, whatever carries it (a WebSocket or a server-sent-event response).

    session = StreamSession(owner)
    await session.open()
    await session.subscribe("hashtag", {"tag": "cats"})     # raises StreamError
    item = await session.next(timeout=15)                     # Event, Notice, or None on timeout
    ...
    await session.close()

Events reach the session from the process's Hub and wait in a bounded queue;
`next` applies the viewer's blocks and mutes on public and hashtag streams, and adds the
`filtered` results of their keyword and status filters to the statuses it lets through. A
client too slow to keep up (QUEUE_LIMIT events waiting) is dropped rather than
letting its queue grow without bound: `ended` is set with the reason.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import orjson

from app.api.entities.filter import filter_result_json
from app.models.base import utcnow
from app.services import filters, scopes, streaming
from app.services.streaming import Message, Stream, StreamError, ViewerFilter
from app.services.tokens import TokenOwner
from app.streaming.hub import Hub

log = logging.getLogger("starling.streaming")
# Per connection. Mastodon has no limit; a multi-column client puts every column (and every tag
# of a hashtag column) on one socket, so this only stops one socket from pinning thousands.
MAX_SUBSCRIPTIONS = 256
QUEUE_LIMIT = 1000  # events waiting to be written before a connection is considered too slow
# Seconds before a viewer's blocks, mutes and filters are read again; their changes are also
# announced on the account's system channel, which makes the next status read them at once.
FILTER_TTL = 30.0
TOKEN_RECHECK_SECONDS = 60.0  # a revoked token's open streams end within this long
TOO_MANY = f"Too many subscriptions on this connection (at most {MAX_SUBSCRIPTIONS})"


@dataclass(frozen=True)
class Event:
    """An event to write: `stream` names the subscription it came through."""

    stream: tuple[str, ...]
    event: str
    payload: str | None

    def frame(self) -> str:
        """The WebSocket text frame, as Mastodon sends it."""
        body: dict[str, Any] = {"stream": list(self.stream), "event": self.event}
        if self.payload is not None:
            body["payload"] = self.payload
        return json.dumps(body, separators=(",", ":"))

    def sse(self) -> str:
        # Mastodon writes the JavaScript `undefined` for payload-less events over HTTP.
        data = self.payload if self.payload is not None else "undefined"
        return f"event: {self.event}\ndata: {data}\n\n"


@dataclass(frozen=True)
class Notice:
    """An error frame for the client ({"error": ..., "status": ...}); the socket stays open."""

    error: StreamError

    def frame(self) -> str:
        return json.dumps(self.error.body(), separators=(",", ":"))


@dataclass(frozen=True)
class _Queued:
    stream: Stream
    message: Message


class StreamSession:
    def __init__(self, owner: TokenOwner):
        self.owner = owner
        self.hub = Hub.current()
        self.subscriptions: dict[tuple[str, ...], "_Subscription"] = {}
        self.ended = asyncio.Event()
        self.end_reason = ""
        self._queue: asyncio.Queue = asyncio.Queue(QUEUE_LIMIT)
        self._filter: ViewerFilter | None = None
        self._filter_at = 0.0
        self._filter_changes = 0  # notices of a change heard: a load they overlap is not kept
        self._system_channels = [streaming.token_channel(owner.token.id), streaming.system_channel(owner.account.id)]
        # `filtered` tells which of the viewer's filters a status trips: only for tokens that may
        # read filters (Mastodon adds it for any token; a write-only one would learn them here).
        self._shows_filters = scopes.covers(owner.scopes, "read:filters")
        self._closed = False

    async def open(self) -> None:
        for channel in self._system_channels:
            await self.hub.add(channel, self._on_system)

    async def subscribe(self, name: Any, params: dict[str, Any]) -> None:
        stream = await streaming.resolve(self.owner, name, params)
        if stream.key in self.subscriptions:
            return  # already subscribed: nothing to do (as Mastodon)
        if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
            raise StreamError(TOO_MANY, 400)
        subscription = _Subscription(self, stream)
        self.subscriptions[stream.key] = subscription
        try:
            for channel in stream.channels:
                await self.hub.add(channel, subscription.deliver)
        except BaseException:  # Redis trouble: leave nothing half subscribed
            del self.subscriptions[stream.key]
            for channel in stream.channels:
                await self.hub.remove(channel, subscription.deliver)
            raise

    async def unsubscribe(self, name: Any, params: dict[str, Any]) -> None:
        stream = await streaming.resolve(self.owner, name, params)
        subscription = self.subscriptions.pop(stream.key, None)
        if subscription is not None:
            for channel in subscription.stream.channels:  # where it listens (as resolved then)
                await self.hub.remove(channel, subscription.deliver)

    def notify(self, error: StreamError) -> None:
        """Queue an error frame for the client."""
        self._put(Notice(error))

    async def next(self, timeout: float | None = None) -> Event | Notice | None:
        """The next item to write, or None when `timeout` seconds pass without one."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0)
            try:
                item = await asyncio.wait_for(self._queue.get(), remaining)
            except asyncio.TimeoutError:
                return None
            if isinstance(item, Notice):
                return item
            payload = item.message.payload
            if item.stream.filtered and item.message.event in streaming.FILTERED_EVENTS:
                viewer = await self._viewer_filter()
                if not viewer.allows(item.message):
                    continue
                if self._shows_filters and payload is not None:
                    payload = with_filter_results(payload, viewer.filters)
            return Event(item.stream.label, item.message.event, payload)

    async def watch_token(self) -> None:
        """Runs beside the connection: ends it once its token is revoked or its user locked out."""
        while not self.ended.is_set():
            await asyncio.sleep(TOKEN_RECHECK_SECONDS)
            if not await streaming.still_valid(self.owner):
                self.end("Access token is no longer valid")

    def end(self, reason: str) -> None:
        if not self.ended.is_set():
            self.end_reason = reason
            self.ended.set()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.end("closed")
        for subscription in list(self.subscriptions.values()):
            for channel in subscription.stream.channels:
                await self.hub.remove(channel, subscription.deliver)
        self.subscriptions.clear()
        for channel in self._system_channels:
            await self.hub.remove(channel, self._on_system)

    # -- internals --------------------------------------------------------------------------------

    def _put(self, item: _Queued | Notice) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.end("Too slow: too many events waiting to be sent")

    def _on_system(self, message: Message) -> None:
        if message.event == "kill":
            self.end("Access token revoked")
        elif message.event in ("filters_changed", streaming.VIEWER_CHANGED):
            self._filter = None  # read again at the next status, not FILTER_TTL later
            self._filter_changes += 1

    async def _viewer_filter(self) -> ViewerFilter:
        now = time.monotonic()
        if self._filter is None or now - self._filter_at > FILTER_TTL:
            # A change announced while a load ran may be missing from it: read once more, and
            # keep only a load no notice overlapped (under a stream of changes, the next status
            # reads again).
            for _ in range(2):
                heard = self._filter_changes
                loaded = await streaming.load_filter(self.owner.account.id)
                if heard == self._filter_changes:
                    self._filter, self._filter_at = loaded, now
                    break
            return loaded
        return self._filter


def with_filter_results(payload: str, active: list[filters.ActiveFilter]) -> str:
    """A status rendered once for every listener, with `filtered` added for this viewer: the
    filters it trips, [] for none (Mastodon's streaming server does the same; apps hide or
    warn by it). A payload that is not a status goes as it came: this never ends a stream."""
    if not active:  # nothing to match: spliced in, not parsed and encoded again
        if not (payload.startswith("{") and payload.endswith("}")):
            return payload
        return payload[:-1] + ("," if payload[1:-1].strip() else "") + '"filtered":[]}'
    try:
        return _with_matches(payload, active)
    except Exception:  # noqa: BLE001 - a malformed payload is logged and sent as it is
        log.exception("streaming: could not match filters against a payload")
        return payload


def _with_matches(payload: str, active: list[filters.ActiveFilter]) -> str:
    status = orjson.loads(payload)
    if not isinstance(status, dict):
        return payload
    now = utcnow()
    unexpired = [f for f in active if f.expires_at is None or f.expires_at > now]
    text = None
    if filters.needs_text(unexpired):
        text = filters.searchable_text(
            status.get("content") or "", status.get("spoiler_text") or "",
            (m.get("description") for m in status.get("media_attachments") or ()),
            (o.get("title") or "" for o in ((status.get("poll") or {}).get("options") or ())))
    ids = [int(status["id"])] + ([int(status["reblog"]["id"])] if status.get("reblog") else [])
    status["filtered"] = [filter_result_json(m) for m in filters.matches(unexpired, ids, text)]
    return orjson.dumps(status).decode()


class _Subscription:
    def __init__(self, session: StreamSession, stream: Stream):
        self.session, self.stream = session, stream

    def deliver(self, message: Message) -> None:
        self.session._put(_Queued(self.stream, message))
