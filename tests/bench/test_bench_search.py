"""Search on the 1,000,000-post synthetic instance: p50/p99 of GET /api/v2/search?type=statuses
for rare, mid-frequency, common, two-word and hashtag terms, and of account prefix search
(GET /api/v1/accounts/search), PostgreSQL backend. Each class runs twice: one connection
(the latency of a search on its own) and 8 connections (under concurrent searches).
Target (issue 5): p99 under 50 ms for each class."""
from __future__ import annotations

from urllib.parse import urlencode

import httpx
import psycopg
import pytest

import time

from app import db
from app.migrate import upgrade
from app.services.search.accounts import AccountQuery, search_accounts
from app.services.search.backend import StatusQuery
from app.services.search.postgres import PostgresBackend
from tests.bench.conftest import SECONDS, readers
from tests.bench.harness import Result, feature_missing, load, print_table
from tests.bench.synthetic import search_terms

SEARCHERS = 50
CONCURRENT = 8
QUERY_RUNS = 300


def ensure_search_schema(database_url: str) -> None:
    """A synthetic database generated before migration 0005 gets it by `alembic upgrade`
    (a generated column and GIN index over 1M posts: well under a minute) instead of a full
    regeneration, then fresh statistics."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        present = conn.execute("SELECT 1 FROM information_schema.columns WHERE table_name = 'statuses' "
                               "AND column_name = 'search_vector'").fetchone()
    if not present:
        print("\nadding the search schema (alembic upgrade head)", flush=True)
        upgrade(database_url)
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("ANALYZE statuses")
            conn.execute("ANALYZE accounts")


def queries() -> list[tuple[str, str]]:
    terms = search_terms()
    def statuses(q: str) -> str:
        return "/api/v2/search?" + urlencode({"q": q, "type": "statuses", "limit": 20})
    return [
        (f"rare `{terms['rare']}`", statuses(terms["rare"])),
        (f"mid `{terms['mid']}`", statuses(terms["mid"])),
        (f"common `{terms['common']}`", statuses(terms["common"])),
        (f"two words `{terms['two_word']}`", statuses(terms["two_word"])),
        (f"hashtag `{terms['hashtag']}`", statuses(terms["hashtag"])),
        (f"account prefix `{terms['account_prefix']}`",
         "/api/v1/accounts/search?" + urlencode({"q": terms["account_prefix"], "limit": 20})),
    ]


async def test_search_latency(env):
    ensure_search_schema(env.database_url)
    tokens = list(env.tokens(readers(env, SEARCHERS)).values())
    results = []
    with env.server() as base:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            for _, path in queries():
                response = await client.get(path, headers={"Authorization": f"Bearer {tokens[0]}"})
                if reason := feature_missing(response, path.split("?")[0]):
                    pytest.skip(reason)
                assert response.status_code == 200, response.text
        for name, path in queries():
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                body = (await client.get(path, headers={"Authorization": f"Bearer {tokens[0]}"})).json()
            found = len(body["statuses"]) if isinstance(body, dict) else len(body)
            for connections in (1, CONCURRENT):
                result = await load(base, lambda i, p=path: ("GET", p, tokens[i % len(tokens)]),
                                    connections=connections, seconds=SECONDS, warmup=2, name=name)
                result.note = f"{found} results"
                results.append(result)
    print_table(f"Search, PostgreSQL backend, {SECONDS:.0f} s each, 1 and {CONCURRENT} connections", results)


async def test_search_query_alone(env):
    """The search itself (the backend's queries, in this process, one at a time, 50 searchers
    in turn), without HTTP, authentication or rendering: what the query design costs."""
    ensure_search_schema(env.database_url)
    searchers = readers(env, SEARCHERS)
    terms = search_terms()
    db.connect(env.database_url, pool_size=2)
    backend = PostgresBackend()
    results = []
    try:
        for name in ("rare", "mid", "common", "two_word", "hashtag", "account_prefix"):
            result = Result(name=f"{name} `{terms[name]}`", connections=1)
            for run in range(QUERY_RUNS + 20):
                viewer = searchers[run % len(searchers)]
                async with db.session() as session:
                    begin = time.perf_counter()
                    if name == "account_prefix":
                        found = await search_accounts(session, viewer, AccountQuery(text=terms[name], limit=20))
                    else:
                        found = await backend.status_ids(session, viewer, StatusQuery(text=terms[name], limit=20))
                    elapsed = time.perf_counter() - begin
                if run >= 20:  # the first runs warm the caches and read pg_stats
                    result.latencies.append(elapsed)
            result.note = f"{len(found)} results"
            results.append(result)
    finally:
        await db.dispose()
    print_table(f"Search queries alone (PostgreSQL backend, in-process, {QUERY_RUNS} runs each)", results)
