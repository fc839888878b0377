"""Rate limits: one fixed-window counter in Redis, used by everything that limits.

    budget = await hit("api:token:abc", limit=300, window=300)     # count one request
    budget = await peek("api:token:abc", limit=300, window=300)    # look without counting
    headers(budget)    # Mastodon's X-RateLimit-Limit / -Remaining / -Reset

Per-account budgets ("families", as Mastodon calls them) read their numbers from
the settings and only apply when `settings.rate_limits` is on:

    await check("statuses", account.id)    # 429 if nothing is left (counts nothing)
    await spend("favourites", account.id)  # count one; 429 if that went past the limit
    await spend("statuses", account.id, refuse=False)   # count work that already happened
    await refund("favourites", account.id, budget)       # give back what spend() counted for nothing

| family     | settings                                             | default          |
|------------|------------------------------------------------------|------------------|
| statuses   | rate_limit_statuses / _window (posts and boosts)     | 300 per 3 hours  |
| follows    | rate_limit_follows / _window (follows and requests)  | 400 per day      |
| favourites | rate_limit_favourites / _window                      | 300 per 3 hours  |

A window is aligned to the epoch (it starts at a multiple of its length), so its
Redis key names its start and the key expires just after the window ends.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from app import after_response
from app import redis as app_redis
from app.config import get_settings
from app.errors import ApiError

# family -> (settings field with the limit, settings field with the window in seconds)
FAMILIES = {
    "statuses": ("rate_limit_statuses", "rate_limit_statuses_window"),
    "follows": ("rate_limit_follows", "rate_limit_follows_window"),
    "favourites": ("rate_limit_favourites", "rate_limit_favourites_window"),
}


class _Later:
    """A count taken once the answer is out, which a refund may still call off."""

    cancelled = False
    started = False


@dataclass(frozen=True)
class Budget:
    limit: int
    used: int  # requests counted in this window, this one included
    reset: int  # epoch seconds when the window ends
    later: _Later | None = field(default=None, compare=False)  # counted after the answer (see below)

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit


class RateLimited(ApiError):
    """429 "Too many requests", carrying the exhausted budget's X-RateLimit-* headers."""

    status_code = 429

    def __init__(self, budget: Budget):
        super().__init__("Too many requests")
        self.budget = budget
        self.headers = headers(budget)


def _window(bucket: str, window: int) -> tuple[str, int]:
    now = int(time.time())
    start = now - now % window
    return f"ratelimit:{bucket}:{start}", start + window


async def _incr(key: str, window: int) -> int:
    async with app_redis.client().pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, window + 1)
        used, _ = await pipe.execute()
    return int(used)


async def hit(bucket: str, limit: int, window: int) -> Budget:
    """Count one request against `bucket`; the budget afterwards (`exceeded` once past `limit`)."""
    key, reset = _window(bucket, window)
    state = _state(key, reset)
    state.reported = max(state.reported, await _incr(key, window))
    return Budget(limit, state.used, reset)  # with what this process let through uncounted


async def peek(bucket: str, limit: int, window: int) -> Budget:
    """The budget of `bucket` without counting anything."""
    key, reset = _window(bucket, window)
    state = _state(key, reset)
    state.reported = max(state.reported, int(await app_redis.client().get(key) or 0))
    return Budget(limit, state.used, reset)


# -- counting after the answer -------------------------------------------------------------
# Counting took a Redis round trip before every answer (three for a post: the API budget, the
# posting budget's check and its spend), and while a big fan-out runs on the same Redis each of
# them waits behind its scripts (figures in docs/decisions.md). Far from a limit the count
# changes no answer, so it is taken once the answer is out (app.after_response), and the answer
# uses the count Redis last reported to this process plus the requests this process let through
# that Redis has not counted yet. Those are at most UNCOUNTED_MAX per window at a time, and from
# NEAR of a limit on checking and counting go to Redis first, as before: what can slip past a
# limit is at most UNCOUNTED_MAX requests per process.
NEAR = 0.8
UNCOUNTED_MAX = 4


class _Window:
    __slots__ = ("reported", "uncounted", "end")

    def __init__(self, end: int) -> None:
        self.reported = 0  # the count Redis last reported to this process (it only grows in a window)
        self.uncounted = 0  # requests this process let through that Redis has not counted yet
        self.end = end

    @property
    def used(self) -> int:
        return self.reported + self.uncounted


_windows: dict[str, _Window] = {}
_WINDOWS_MAX = 50_000  # past this, windows that ended are dropped, at most once every PRUNE_SECONDS
PRUNE_SECONDS = 10.0
_next_prune = 0.0


def forget_local() -> None:
    """Drop the counts this process has heard (tests, after emptying Redis)."""
    _windows.clear()


def _state(key: str, end: int) -> _Window:
    global _next_prune
    state = _windows.get(key)
    if state is None:
        if len(_windows) > _WINDOWS_MAX and time.monotonic() >= _next_prune:
            _next_prune = time.monotonic() + PRUNE_SECONDS
            now = time.time()
            for old in [k for k, w in list(_windows.items()) if w.end <= now]:  # (list: one C call)
                _windows.pop(old, None)
        state = _windows[key] = _Window(end)
    return state


def _far(state: _Window, limit: int) -> bool:
    return state.uncounted < UNCOUNTED_MAX and state.used + 1 < limit * NEAR


async def _count_later(key: str, state: _Window, limit: int, window: int) -> Budget:
    """Let one through now, counted in Redis once the answer is out."""
    state.uncounted += 1
    later = _Later()

    async def count() -> None:
        if later.cancelled:
            return
        later.started = True
        try:
            state.reported = max(state.reported, await _incr(key, window))
        finally:
            state.uncounted -= 1

    await after_response.soon(count)
    return Budget(limit, state.used, state.end, later)


async def hit_soon(bucket: str, limit: int, window: int) -> Budget:
    """`hit`, counted in Redis after the answer while far from the limit (see above)."""
    key, reset = _window(bucket, window)
    state = _state(key, reset)
    if _far(state, limit):
        return await _count_later(key, state, limit, window)
    return await hit(bucket, limit, window)


def headers(budget: Budget) -> dict[str, str]:
    """Mastodon's headers; the reset time is ISO 8601 UTC with milliseconds."""
    reset_at = datetime.fromtimestamp(budget.reset, timezone.utc).isoformat(timespec="milliseconds")
    return {"X-RateLimit-Limit": str(budget.limit), "X-RateLimit-Remaining": str(budget.remaining),
            "X-RateLimit-Reset": reset_at.replace("+00:00", "Z")}


# -- per-account families ----------------------------------------------------------------

def _family(family: str, account_id: int) -> tuple[str, int, int] | None:
    """(bucket, limit, window) of an account's family budget; None when limits are off."""
    settings = get_settings()
    if not settings.rate_limits:
        return None
    limit_field, window_field = FAMILIES[family]
    return f"{family}:{account_id}", getattr(settings, limit_field), getattr(settings, window_field)


async def check(family: str, account_id: int) -> Budget | None:
    """Refuse with 429 when the account has used its whole budget; counts nothing."""
    rule = _family(family, account_id)
    if rule is None:
        return None
    bucket, limit, window = rule
    key, reset = _window(bucket, window)
    state = _state(key, reset)
    if _far(state, limit):  # nothing Redis could say would refuse it (see "counting after the answer")
        return Budget(limit, state.used, reset)
    budget = await peek(*rule)
    if budget.used >= budget.limit:
        raise RateLimited(budget)
    return budget


async def spend(family: str, account_id: int, *, refuse: bool = True) -> Budget | None:
    """Count one against the account's budget. With `refuse`, going past the limit is a 429
    (raise it before writing anything, so the refused action leaves nothing behind)."""
    rule = _family(family, account_id)
    if rule is None:
        return None
    bucket, limit, window = rule
    key, reset = _window(bucket, window)
    state = _state(key, reset)
    if _far(state, limit):
        return await _count_later(key, state, limit, window)
    budget = await hit(*rule)
    if refuse and budget.exceeded:
        raise RateLimited(budget)
    return budget


# DECR only a window that still exists (a refund never creates a counter below zero).
_REFUND = "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end return 0"


async def refund(family: str, account_id: int, spent: Budget | None) -> None:
    """Give back what `spend` counted (it returned `spent`) for work that then did not happen:
    a duplicate that wrote nothing, a transaction that failed. Into the same window, never
    the next one."""
    rule = _family(family, account_id)
    if rule is None or spent is None:
        return
    bucket, _, window = rule
    key = f"ratelimit:{bucket}:{spent.reset - window}"
    if spent.later is not None and not spent.later.started:
        spent.later.cancelled = True  # not counted in Redis yet: now it never will be
        if (state := _windows.get(key)) is not None:
            state.uncounted -= 1
        return
    await app_redis.client().eval(_REFUND, 1, key)
    state = _windows.get(key)
    if state is not None:
        state.reported = max(state.reported - 1, 0)


async def current(family: str, account_id: int) -> Budget | None:
    """The account's budget as it stands (for headers on a successful answer); None when off."""
    rule = _family(family, account_id)
    return None if rule is None else await peek(*rule)
