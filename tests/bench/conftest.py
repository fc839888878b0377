"""Fixtures for the benchmarks: one synthetic environment per run, and the accounts they act as."""
from __future__ import annotations

import os

import pytest

from tests.bench.harness import Environment

SECONDS = float(os.environ.get("STARLING_BENCH_SECONDS", "10"))


@pytest.fixture(scope="session")
def env():
    environment = Environment.open()
    environment.refresh_activity()
    yield environment
    environment.close()


def readers(env: Environment, count: int, *, min_following: int = 100, max_following: int = 500) -> list[int]:
    """Ordinary active accounts (not celebrities, not follower-only fans) with a full home feed."""
    rows = env.query(
        "SELECT a.id FROM accounts a JOIN users u ON u.account_id = a.id "
        "WHERE a.domain IS NULL AND a.username NOT LIKE 'fan%%' AND a.username NOT LIKE 'celebrity%%' "
        "AND a.following_count BETWEEN %s AND %s AND u.last_active_at > now() - interval '3 days' "
        "ORDER BY a.id LIMIT %s",
        (min_following, max_following, count),
    )
    return [r[0] for r in rows]
