"""Notices between the instance's processes, on one Redis pub/sub channel.

    notices.on("auth", forget)           # forget(payload) for each notice of that kind
    notices.on_gap(drop_everything)      # notices may have been missed: drop what they guard
    notices.listening()                  # True while this loop is sure to hear every notice
    notices.start()                      # begin listening on the running loop (idempotent)
    pipe.publish(*notices.message("auth", payload))   # in a pipeline, or awaited on a client

A process may keep something in memory and use it without asking Redis first, if every
change to it publishes a notice and the process hears every notice. Pub/sub keeps nothing:
a notice sent while the connection is down is lost. So `listening()` is true only from
Redis confirming the subscription until the connection fails or goes silent (a PING after
SILENCE_SECONDS of quiet must be answered within ANSWER_SECONDS, so a half-open connection
counts as failed), and each possible gap (a confirmation, including the one after a
reconnection, and a failure) calls the gap handlers first. Users of this keep a slower way (asking Redis) for when it is false.

A notice reaches other processes when Redis delivers it, usually well under a millisecond
after the PUBLISH; the publishing process applies its own change at once (see the users).

Each event loop listens on its own connection (a process running web requests and in-process
workers has two), so a handler runs once per listening loop, in that loop's thread: handlers
must be idempotent and touch only what is safe to change from another thread (the users only
drop entries from dicts).
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from typing import Any, Callable

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from app import redis as app_redis

log = logging.getLogger("starling.notices")

SILENCE_SECONDS = 15.0  # a PING after this long without traffic, so a dead connection shows
ANSWER_SECONDS = 5.0  # how long that PING may wait for an answer before the connection counts as dead
RECONNECT_SECONDS = 1.0

_handlers: dict[str, list[Callable[[Any], None]]] = {}
_gap_handlers: list[Callable[[], None]] = []
_confirmed: dict[asyncio.AbstractEventLoop, bool] = {}
_heard_at: dict[asyncio.AbstractEventLoop, float] = {}  # monotonic time of the last traffic
_tasks: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}


def on(kind: str, handler: Callable[[Any], None]) -> None:
    """Call `handler(payload)` for every notice of `kind` (it must not block)."""
    _handlers.setdefault(kind, []).append(handler)


def on_gap(handler: Callable[[], None]) -> None:
    """Call `handler()` whenever notices may have been missed."""
    _gap_handlers.append(handler)


def channel() -> str:
    """This instance's notice channel (app.redis.channel: one per Redis database)."""
    return app_redis.channel("notices")


def message(kind: str, payload: Any) -> tuple[str, str]:
    """(channel, data) for PUBLISH: `pipe.publish(*notices.message("auth", keys))`."""
    return channel(), json.dumps([kind, payload])


def listening() -> bool:
    """Every notice published from now on will be heard by this loop's listener."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return False
    # A connection that went silent (half-open: no error, no bytes) is not trusted either.
    recent = time.monotonic() - _heard_at.get(loop, 0.0) < SILENCE_SECONDS + ANSWER_SECONDS
    return _confirmed.get(loop, False) and recent


def start() -> None:
    """Listen on the running loop, unless it already does; `listening()` turns true once
    Redis confirms the subscription."""
    loop = asyncio.get_running_loop()
    task = _tasks.get(loop)
    if task is None or task.done():
        _tasks[loop] = loop.create_task(_listen(loop), name="starling-notices")


async def stop() -> None:
    """Stop this loop's listener (before its Redis clients close)."""
    task = _tasks.pop(asyncio.get_running_loop(), None)
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def client_name() -> str:
    """How this process's listener shows in Redis's CLIENT LIST."""
    return f"starling-notices-{os.getpid()}"


def _gap(loop: asyncio.AbstractEventLoop, confirmed: bool) -> None:
    _confirmed[loop] = False  # no user trusts memory while the handlers run
    for handler in _gap_handlers:
        try:
            handler()
        except Exception:
            log.exception("a notices gap handler failed")
    _confirmed[loop] = confirmed


def _dispatch(data: str) -> None:
    try:
        kind, payload = json.loads(data)
    except (ValueError, TypeError):
        log.warning("ignored a malformed notice %r", data[:200])
        return
    for handler in _handlers.get(kind, ()):
        try:
            handler(payload)
        except Exception:
            log.exception("a notice handler for %s failed", kind)


async def _listen(loop: asyncio.AbstractEventLoop) -> None:
    # A connection of its own, without redis-py's silent retries: a reconnection it made
    # unseen would hide the notices lost meanwhile.
    url = app_redis.url()
    tcp = {} if url.startswith("unix:") else {"socket_keepalive": True}  # a unix socket has no keepalive
    client = aioredis.Redis(connection_pool=aioredis.ConnectionPool.from_url(
        url, decode_responses=True, retry=Retry(NoBackoff(), 0), client_name=client_name(), **tcp))
    pubsub = client.pubsub()
    try:
        while True:
            try:
                await pubsub.subscribe(channel())
                while True:
                    raw = await pubsub.get_message(timeout=SILENCE_SECONDS)
                    if raw is None:  # quiet: make sure the connection still carries anything
                        await pubsub.ping()
                        raw = await pubsub.get_message(timeout=ANSWER_SECONDS)
                        if raw is None:
                            raise TimeoutError(f"no answer to PING in {ANSWER_SECONDS} s")
                    _heard_at[loop] = time.monotonic()
                    if raw["type"] == "subscribe":
                        _gap(loop, confirmed=True)  # (re)confirmed: anything before may be missed
                    elif raw["type"] == "message":
                        _dispatch(raw["data"])
            except (RedisError, OSError) as error:
                _gap(loop, confirmed=False)
                log.warning("notices connection failed (%s); reconnecting", error)
                await pubsub.reset()
                await asyncio.sleep(RECONNECT_SECONDS)
    finally:
        _gap(loop, confirmed=False)
        _confirmed.pop(loop, None)
        _heard_at.pop(loop, None)
        await pubsub.aclose()
        await client.aclose()
