"""A value each process computes at most once per period, whoever asks for it meanwhile.

    pulled = Refreshed(15.0, compute_pulled)    # async compute(*key) -> value
    ids = await pulled.get(threshold)

Once the value is older than the period, the first caller starts one refresh in the
background and every caller gets the value it had until the refresh lands (a few
milliseconds more of an old value). The very first call waits, together with everyone who
asks before it is done, and so does a call that finds a value more than two periods old
(after a quiet spell nobody asked: an old value is then not served at all). Without this, every request in flight when the period ran out
ran the same query at once: 16 concurrent home reads each scanning all of `accounts` took
250-580 ms instead of 60 (measured 2026-12-06), the slowest home reads of the benchmark.

A refresh that fails keeps the old value (logged), and the next call tries again; with no
value yet, the failure reaches the waiting callers. Values are shared by the process's event
loops (the web server's, the in-process workers'), refreshes belong to the loop that started
them.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Awaitable, Callable, Hashable

log = logging.getLogger("starling.refreshed")
_every: list["Refreshed"] = []


def forget_all() -> None:
    """Every Refreshed value computes afresh at its next call (tests: a truncated database)."""
    for each in _every:
        each.forget()


class Refreshed:
    def __init__(self, seconds: float, compute: Callable[..., Awaitable[Any]]):
        self.seconds, self.compute = seconds, compute
        self._values: dict[Hashable, tuple[float, Any]] = {}  # key -> (valid until, value)
        self._running: dict[tuple[asyncio.AbstractEventLoop, Hashable], tuple[int, asyncio.Task]] = {}
        self._generation = 0  # forget() moves it on: a refresh started before stores nothing
        _every.append(self)

    async def get(self, *key: Hashable) -> Any:
        now = time.monotonic()
        kept = self._values.get(key)
        if kept is not None and kept[0] > now:
            return kept[1]
        loop = asyncio.get_running_loop()
        running = self._running.get((loop, key))
        if running is None or running[0] != self._generation:
            task = loop.create_task(self._refresh(loop, key, self._generation))
            # Its failure reaches whoever awaits it; with nobody waiting, it is not an error to report.
            task.add_done_callback(lambda done: done.cancelled() or done.exception())
            running = self._running[(loop, key)] = (self._generation, task)
        if kept is not None and kept[0] + self.seconds > now:
            return kept[1]
        return await asyncio.shield(running[1])  # one caller cancelled must not cancel the others' refresh

    def forget(self) -> None:
        """Drop every value: the next call computes afresh (tests, settings changed)."""
        self._generation += 1
        self._values.clear()

    async def _refresh(self, loop: asyncio.AbstractEventLoop, key: tuple, generation: int) -> Any:
        try:
            value = await self.compute(*key)
        except Exception:
            if generation == self._generation and key in self._values:
                log.exception("refreshing %s%s failed: the previous value stays", self.compute.__qualname__, key)
                return self._values[key][1]
            raise  # to the callers waiting for a first value
        finally:
            if self._running.get((loop, key), (None,))[0] == generation:
                del self._running[(loop, key)]  # done: the next expiry starts another
        if generation == self._generation:
            self._values[key] = (time.monotonic() + self.seconds, value)
        return value
