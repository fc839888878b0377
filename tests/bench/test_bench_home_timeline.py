"""Home timeline (20 fully rendered statuses) at 32 concurrent connections, against a bare
endpoint answering a JSON body of the same size from memory, in the same process and run.
Target (issue 4): p99 under 50 ms and at least 40% of the bare endpoint's requests/s.

The server runs STARLING_BENCH_WEB_PROCESSES web processes (default 2, one per core), and the
load comes from wrk when it is installed (`apt install wrk`), else from the Python loop."""
from __future__ import annotations

import os
import statistics

import httpx
import pytest

from tests.bench.conftest import SECONDS, readers
from tests.bench.harness import feature_missing, load, print_table, wrk_available, wrk_load

CONNECTIONS = 32
READERS = 200
PROCESSES = os.environ.get("STARLING_BENCH_WEB_PROCESSES", "2")
HOME = "/api/v1/timelines/home?limit=20"


async def test_home_timeline_against_bare_endpoint(env):
    accounts = readers(env, READERS)
    tokens = list(env.tokens(accounts).values())
    with env.server(bare=True, STARLING_WEB_PROCESSES=PROCESSES) as base, env.worker():
        # One read per reader first: a feed not in Redis yet is rebuilt in the background.
        sizes, counts = [], []
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            for token in tokens:
                response = await client.get(HOME, headers={"Authorization": f"Bearer {token}"})
                if reason := feature_missing(response, "GET /api/v1/timelines/home"):
                    pytest.skip(reason)
                assert response.status_code == 200, response.text
                sizes.append(len(response.content))
                counts.append(len(response.json()))
        size = int(statistics.median(sizes))
        live = env.wait_for_live_feeds(accounts)

        if wrk_available():
            generator = "wrk"
            home = wrk_load(base, HOME, tokens, connections=CONNECTIONS, seconds=SECONDS,
                            name="GET /api/v1/timelines/home?limit=20")
            bare = wrk_load(base, f"/bench/bare?bytes={size}", [], connections=CONNECTIONS, seconds=SECONDS,
                            name=f"bare endpoint, {size}-byte JSON from memory")
            routed = wrk_load(base, f"/api/v1/bench/bare?bytes={size}", [], connections=CONNECTIONS,
                              seconds=SECONDS, name="the same as a route of the app (its middleware and routing)")
        else:
            generator = "Python (httpx)"
            home = await load(base, lambda i: ("GET", HOME, tokens[i % len(tokens)]), connections=CONNECTIONS,
                              seconds=SECONDS, warmup=2, name="GET /api/v1/timelines/home?limit=20")
            bare = await load(base, lambda i: ("GET", f"/bench/bare?bytes={size}", None), connections=CONNECTIONS,
                              seconds=SECONDS, warmup=2, name=f"bare endpoint, {size}-byte JSON from memory")
            routed = await load(base, lambda i: ("GET", f"/api/v1/bench/bare?bytes={size}", None),
                                connections=CONNECTIONS, seconds=SECONDS, warmup=2,
                                name="the same as a route of the app (its middleware and routing)")
    home.note = (f"{home.rate / bare.rate:.0%} of bare throughput ({home.rate / routed.rate:.0%} of the bare route); "
                 f"{len(tokens)} readers ({live} with live Redis feeds); median body {size} bytes, "
                 f"{statistics.median(counts):.0f} statuses")
    print_table(f"Home timeline, {CONNECTIONS} connections, {SECONDS:.0f} s each, {PROCESSES} web processes, "
                f"load from {generator}", [home, bare, routed])
