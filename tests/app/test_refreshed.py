"""app.refreshed: one computation at a time per process, whoever asks meanwhile."""
from __future__ import annotations

import asyncio

import pytest

from app.refreshed import Refreshed


class Source:
    """Counts computations; each takes a moment, and can be told to fail."""

    def __init__(self):
        self.calls, self.value, self.fail = 0, "first", False

    async def compute(self, key: str) -> str:
        self.calls += 1
        await asyncio.sleep(0.02)
        if self.fail:
            raise RuntimeError("database gone")
        return f"{self.value} for {key}"


async def test_callers_arriving_together_share_one_computation():
    source = Source()
    kept = Refreshed(60, source.compute)
    answers = await asyncio.gather(*(kept.get("a") for _ in range(16)))
    assert answers == ["first for a"] * 16
    assert source.calls == 1
    assert await kept.get("b") == "first for b" and source.calls == 2  # another key, its own value


async def test_an_expired_value_is_served_while_one_refresh_runs():
    source = Source()
    kept = Refreshed(0.05, source.compute)
    assert await kept.get("a") == "first for a"
    await asyncio.sleep(0.06)
    source.value = "second"
    # Every caller of the moment gets the old value at once; one refresh starts.
    assert await asyncio.gather(*(kept.get("a") for _ in range(8))) == ["first for a"] * 8
    assert source.calls == 2
    await asyncio.sleep(0.03)
    assert await kept.get("a") == "second for a" and source.calls == 2


async def test_a_failed_refresh_keeps_the_old_value_and_a_first_failure_reaches_the_callers():
    source = Source()
    kept = Refreshed(0.01, source.compute)
    assert await kept.get("a") == "first for a"
    source.fail = True
    await asyncio.sleep(0.02)
    assert await kept.get("a") == "first for a"  # stale, refreshing
    await asyncio.sleep(0.03)
    assert await kept.get("a") == "first for a"  # that refresh failed: still the old value, trying again
    with pytest.raises(RuntimeError, match="database gone"):
        await kept.get("never computed")
    source.fail = False
    await asyncio.sleep(0.03)
    assert await kept.get("never computed") == "first for never computed"


async def test_a_value_older_than_two_periods_is_not_served_and_forget_drops_a_refresh_under_way():
    source = Source()
    kept = Refreshed(0.02, source.compute)
    assert await kept.get("a") == "first for a"
    source.value = "second"
    await asyncio.sleep(0.05)  # a quiet spell: more than two periods
    assert await kept.get("a") == "second for a"  # waited for the refresh

    await asyncio.sleep(0.03)
    source.value = "third"
    assert await kept.get("a") == "second for a"  # stale, a refresh under way...
    kept.forget()  # ...when the data it reads is replaced (a test's truncation)
    source.value = "fourth"
    assert await kept.get("a") == "fourth for a"  # not what the refresh from before would store
    await asyncio.sleep(0.05)
    assert source.calls == 4 and await kept.get("a") == "fourth for a"
