"""Async Redis clients (rate limits, feeds, pub/sub), one per running event loop."""
from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

_url: str | None = None
_per_loop: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}


def connect(url: str) -> None:
    global _url
    _url = url


def client() -> aioredis.Redis:
    if _url is None:
        raise RuntimeError("redis not connected: call app.redis.connect() first")
    loop = asyncio.get_running_loop()
    found = _per_loop.get(loop)
    if found is None:
        found = _per_loop[loop] = aioredis.Redis.from_url(_url, decode_responses=True)
    return found


async def close() -> None:
    found = _per_loop.pop(asyncio.get_running_loop(), None)
    if found is not None:
        await found.aclose()
