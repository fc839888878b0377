"""Waiting for work the in-process workers do after a request has answered.

    items = await eventually(lambda: fetch(), until=lambda items: len(items) == 2)
    await settled()        # every outbox job has run (so "nothing happened" can be asserted)
"""
from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable, TypeVar

from sqlalchemy import func, select

from app import db
from app.models import OutboxJob

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T]], until: Callable[[T], bool] = bool,
                     timeout: float = 10.0, every: float = 0.05) -> T:
    """Call `probe` until `until(result)` holds; its last result, or AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if until(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last result: {result!r}")
        await asyncio.sleep(every)


async def outbox_size() -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(OutboxJob))).scalar_one())


async def settled(timeout: float = 10.0) -> None:
    """Wait until the outbox is empty: every deferred side effect has been done by a worker."""
    await eventually(outbox_size, until=lambda n: n == 0, timeout=timeout)
