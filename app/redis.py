"""Async Redis clients, one per running event loop and server.

Two roles, which may be two servers:
- `client()`: everything requests wait on (token owners, rate limits, idempotency keys,
  pub/sub, the render cache; the job broker is connected separately, to the same URL);
- `feeds()`: the home feeds and the registry of open home streams, which the fan-out writes
  with long scripts. On a server of their own (STARLING_FEEDS_REDIS_URL), a 100,000-follower
  fan-out does not hold up every other request's Redis calls behind its scripts (Redis runs
  one command at a time). Without that setting both are the same server and client.
"""
from __future__ import annotations

import asyncio
import functools

import redis.asyncio as aioredis
from redis.asyncio.connection import parse_url

_url: str | None = None
_feeds_url: str | None = None
_per_loop: dict[tuple[asyncio.AbstractEventLoop, str], aioredis.Redis] = {}


def connect(url: str, feeds_url: str | None = None) -> None:
    global _url, _feeds_url
    _url, _feeds_url = url, feeds_url or url


def url() -> str:
    """The URL `client()` connects to (for connections of their own, like a pub/sub listener)."""
    if _url is None:
        raise RuntimeError("redis not connected: call app.redis.connect() first")
    return _url


def channel(name: str) -> str:
    """The pub/sub channel `name` of this instance. Pub/sub ignores database numbers, so
    instances (and test sessions) sharing a Redis server on different databases would hear
    each other's events: every channel carries the database number."""
    return _channel_prefix(url()) + name


@functools.lru_cache(maxsize=8)
def _channel_prefix(url: str) -> str:
    return f"starling:{parse_url(url).get('db', 0)}:"


def client() -> aioredis.Redis:
    return _client(_url)


def feeds() -> aioredis.Redis:
    return _client(_feeds_url)


def _client(url: str | None) -> aioredis.Redis:
    if url is None:
        raise RuntimeError("redis not connected: call app.redis.connect() first")
    key = (asyncio.get_running_loop(), url)
    found = _per_loop.get(key)
    if found is None:
        found = _per_loop[key] = aioredis.Redis.from_url(url, decode_responses=True)
    return found


async def close() -> None:
    loop = asyncio.get_running_loop()
    for key in [key for key in _per_loop if key[0] is loop]:
        await _per_loop.pop(key).aclose()
