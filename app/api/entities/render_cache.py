"""The part of a Status's JSON that only an edit changes, kept in Redis.

    found = await render_cache.get_many(statuses)      # {status_id: value} for the hits
    await render_cache.put_many([(status, value), ...])

A timeline page would otherwise ask PostgreSQL for every status's media, mentions and
tags on every read. The key carries the status's `updated_at`, which every edit (and
every re-fetch of a remote status) moves forward, so a changed status is simply a new
key: nothing has to be invalidated, and old versions expire on their own. What changes
without an edit (counts, the author's profile, the viewer's flags, poll tallies, the
preview card) is never cached here.
"""
from __future__ import annotations

import time
from typing import Any, Iterable

import orjson

from app import after_response
from app import redis as app_redis
from app.models import Status

TTL_SECONDS = 3600  # long enough for a feed's working set, short enough to bound memory
# Its number moves on when what is cached changes shape or meaning, so that values written by
# the code before an upgrade are never read (2: a post's tags named by their keys, 2026-12-07).
PREFIX = "status:render:2:"
# Each process also keeps the values it has seen, in front of Redis: a version never changes
# (an edit is a new key), so a kept value is as good as Redis's, and a home read of statuses already
# shown costs no MGET. Kept encoded (about 1.5 kB a status): decoding is a few microseconds,
# while 20,000 decoded values would be some 400,000 objects for every full garbage collection
# to walk (a pause of a hundred milliseconds or more in the middle of some request).
# Kept no longer than Redis keeps them, so what the few changes that do not move `updated_at`
# leave behind (a remote account's new profile URL in a mention) lasts as long as before.
LOCAL_MAX = 20_000
_local: dict[str, tuple[float, bytes | str]] = {}  # key -> (kept until, encoded value)


def _key(status: Status) -> str:
    version = status.updated_at.timestamp() if status.updated_at else 0
    return f"{PREFIX}{status.id}:{version:.6f}"


def forget_local() -> None:
    """Drop this process's kept values (tests: a truncated database reuses nothing, but a
    test may build statuses with fixed ids and versions)."""
    _local.clear()


def _keep(key: str, value: bytes | str) -> None:
    if len(_local) >= LOCAL_MAX:
        # The oldest quarter (dicts keep insertion order). pop: the web loop's thread and an
        # in-process worker's may both be trimming.
        for old in list(_local)[:LOCAL_MAX // 4]:
            _local.pop(old, None)
    _local[key] = (time.monotonic() + TTL_SECONDS, value)


async def get_many(statuses: Iterable[Status]) -> dict[int, Any]:
    found: dict[int, Any] = {}
    asked: list[tuple[int, str]] = []
    for status in statuses:
        key = _key(status)
        kept = _local.get(key)
        if kept is not None and kept[0] > time.monotonic():
            found[status.id] = orjson.loads(kept[1])
        else:
            asked.append((status.id, key))
    if asked:
        values = await app_redis.client().mget([key for _, key in asked])
        for (status_id, key), raw in zip(asked, values):
            if raw is not None:
                found[status_id] = orjson.loads(raw)
                _keep(key, raw)
    return found


async def put_many(values: list[tuple[Status, Any]]) -> None:
    """Keep the values here at once and write them to Redis once the answer is out (nothing in
    it waits for the write; a lost one is only a miss for the next reader)."""
    if not values:
        return
    entries = []
    for status, value in values:
        key, encoded = _key(status), orjson.dumps(value)
        _keep(key, encoded)
        entries.append((key, encoded))

    async def write() -> None:
        async with app_redis.client().pipeline(transaction=False) as pipe:
            for key, encoded in entries:
                pipe.set(key, encoded, ex=TTL_SECONDS)
            await pipe.execute()

    await after_response.soon(write)
