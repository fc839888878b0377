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
from dataclasses import dataclass
from datetime import datetime, timezone

from app import redis as app_redis
from app.config import get_settings
from app.errors import ApiError

# family -> (settings field with the limit, settings field with the window in seconds)
FAMILIES = {
    "statuses": ("rate_limit_statuses", "rate_limit_statuses_window"),
    "follows": ("rate_limit_follows", "rate_limit_follows_window"),
    "favourites": ("rate_limit_favourites", "rate_limit_favourites_window"),
}


@dataclass(frozen=True)
class Budget:
    limit: int
    used: int  # requests counted in this window, this one included
    reset: int  # epoch seconds when the window ends

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


async def hit(bucket: str, limit: int, window: int) -> Budget:
    """Count one request against `bucket`; the budget afterwards (`exceeded` once past `limit`)."""
    key, reset = _window(bucket, window)
    async with app_redis.client().pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, window + 1)
        used, _ = await pipe.execute()
    return Budget(limit, int(used), reset)


async def peek(bucket: str, limit: int, window: int) -> Budget:
    """The budget of `bucket` without counting anything."""
    key, reset = _window(bucket, window)
    return Budget(limit, int(await app_redis.client().get(key) or 0), reset)


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
    await app_redis.client().eval(_REFUND, 1, f"ratelimit:{bucket}:{spent.reset - window}")


async def current(family: str, account_id: int) -> Budget | None:
    """The account's budget as it stands (for headers on a successful answer); None when off."""
    rule = _family(family, account_id)
    return None if rule is None else await peek(*rule)
