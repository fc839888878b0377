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

from typing import Any, Iterable

import orjson

from app import redis as app_redis
from app.models import Status

TTL_SECONDS = 3600  # long enough for a feed's working set, short enough to bound memory
PREFIX = "status:render:"


def _key(status: Status) -> str:
    version = status.updated_at.timestamp() if status.updated_at else 0
    return f"{PREFIX}{status.id}:{version:.6f}"


async def get_many(statuses: Iterable[Status]) -> dict[int, Any]:
    statuses = list(statuses)
    if not statuses:
        return {}
    values = await app_redis.client().mget([_key(s) for s in statuses])
    return {s.id: orjson.loads(v) for s, v in zip(statuses, values) if v is not None}


async def put_many(values: list[tuple[Status, Any]]) -> None:
    if not values:
        return
    async with app_redis.client().pipeline(transaction=False) as pipe:
        for status, value in values:
            pipe.set(_key(status), orjson.dumps(value), ex=TTL_SECONDS)
        await pipe.execute()
