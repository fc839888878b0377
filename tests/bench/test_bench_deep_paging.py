"""Paging 1,000 posts deep into home timelines through the Link headers, as an app scrolling
back does: latency of every page, past the Redis window (800 entries) and into PostgreSQL.
Target (issue 4): p99 per page under 50 ms."""
from __future__ import annotations

import os

import asyncio
import time

import httpx
import pytest

from tests.bench.conftest import readers
from tests.bench.harness import Result, feature_missing, next_page, print_table

PROCESSES = os.environ.get("STARLING_BENCH_WEB_PROCESSES", "2")  # one per core, as the home benchmark

DEPTH = 1000
PAGE = 20
READERS = 20
AT_ONCE = 4  # readers scrolling at the same time
REDIS_WINDOW = 800


async def test_paging_a_thousand_posts_deep(env):
    accounts = readers(env, READERS, min_following=300)
    tokens = list(env.tokens(accounts).values())
    everything = Result(name=f"page of {PAGE}, posts 1-{DEPTH}", connections=AT_ONCE)
    shallow = Result(name=f"page of {PAGE}, posts 1-{REDIS_WINDOW}", connections=AT_ONCE)
    deep = Result(name=f"page of {PAGE}, posts {REDIS_WINDOW + 1}-{DEPTH}", connections=AT_ONCE)
    problems: list[str] = []
    with env.server(STARLING_WEB_PROCESSES=PROCESSES) as base, env.worker():
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            for token in tokens:  # first reads: feeds not in Redis yet are rebuilt in the background
                first = await client.get(f"/api/v1/timelines/home?limit={PAGE}",
                                         headers={"Authorization": f"Bearer {token}"})
                if reason := feature_missing(first, "GET /api/v1/timelines/home"):
                    pytest.skip(reason)
            live = env.wait_for_live_feeds(accounts)
            gate = asyncio.Semaphore(AT_ONCE)

            async def scroll(token: str) -> None:
                async with gate:
                    seen: list[int] = []
                    path: str | None = f"/api/v1/timelines/home?limit={PAGE}"
                    while path and len(seen) < DEPTH:
                        begin = time.perf_counter()
                        response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
                        elapsed = time.perf_counter() - begin
                        if response.status_code != 200:
                            everything.errors += 1
                            problems.append(f"{response.status_code} at depth {len(seen)}")
                            return
                        page = [int(s["id"]) for s in response.json()]
                        (shallow if len(seen) < REDIS_WINDOW else deep).latencies.append(elapsed)
                        everything.latencies.append(elapsed)
                        if not page:
                            break
                        if (seen and page[0] >= seen[-1]) or page != sorted(page, reverse=True):
                            problems.append(f"out of order or repeated at depth {len(seen)}")
                        seen.extend(page)
                        path = next_page(response)
                    if len(set(seen)) != len(seen):
                        problems.append("a post appeared twice")
                    if len(seen) < DEPTH:
                        problems.append(f"only {len(seen)} posts reachable")

            begin = time.perf_counter()
            await asyncio.gather(*(scroll(token) for token in tokens))
            everything.seconds = time.perf_counter() - begin  # the depth bands share it: no rate of their own
    note = f"{len(tokens)} readers ({live} with live Redis feeds), {AT_ONCE} scrolling at once"
    everything.note = note + (f"; problems: {sorted(set(problems))[:5]}" if problems else "; no gaps or repeats")
    print_table(f"Paging {DEPTH} posts deep into the home timeline", [everything, shallow, deep])
