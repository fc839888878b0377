"""The PostgreSQL backend's two-step query (newest window, then the GIN index) gives the
same answers as one plain query, wherever the window boundary falls."""
from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from sqlalchemy import text

from app import db
from app.services.search import postgres
from app.services.search.backend import StatusQuery
from app.services.search.postgres import PostgresBackend
from tests.conftest import settings_env
from tests.support.services import ROOT
from tests.support.world import bearer, make_user, post_status, token_for


@pytest.fixture
async def posts(client):
    alice, _ = await make_user("alice")
    headers = bearer(await token_for(alice))
    ids = {"common": [], "rare": []}
    for n in range(30):
        text = "common words here" + (" rareword" if n in (0, 1, 7, 20) else "")
        response = await post_status(client, headers, status=text)
        assert response.status_code == 200, response.text
        ids["common"].append(int(response.json()["id"]))
        if "rareword" in text:
            ids["rare"].append(int(response.json()["id"]))
    return alice, ids


async def found(viewer_id: int, window: int, monkeypatch, **query) -> list[int]:
    monkeypatch.setattr(postgres, "WINDOW", window)
    monkeypatch.setattr(postgres, "CANDIDATES", max(1, window // 3))  # small pools force the second pass
    async with db.session() as session:
        return await PostgresBackend().status_ids(session, viewer_id, StatusQuery(**query))


@pytest.mark.parametrize("window", [1, 3, 5, 12, 29, 30, 31, 5000])
@pytest.mark.parametrize("words", ["all common", "all rare"])
async def test_every_window_gives_the_same_answer(posts, window, words, monkeypatch):
    """Whatever the route (window first for common words, GIN first for rare ones), the window
    size and the candidate pool, the answer is the same."""
    alice, ids = posts
    shares = {"common": 1.0, "words": 1.0, "here": 1.0, "rareword": 1.0} if words == "all common" else {}

    async def word_shares(session):
        return shares

    monkeypatch.setattr(postgres, "word_shares", word_shares)
    newest = sorted(ids["rare"], reverse=True)
    assert await found(alice.id, window, monkeypatch, text="rareword", limit=20) == newest
    assert await found(alice.id, window, monkeypatch, text="rareword", limit=2) == newest[:2]
    assert await found(alice.id, window, monkeypatch, text="rareword", limit=2, offset=1) == newest[1:3]
    assert await found(alice.id, window, monkeypatch, text="rareword", max_id=newest[1]) == newest[2:]
    assert await found(alice.id, window, monkeypatch, text="rareword", min_id=newest[2]) == newest[:2]
    common = sorted(ids["common"], reverse=True)
    assert await found(alice.id, window, monkeypatch, text="common here", limit=40) == common
    assert await found(alice.id, window, monkeypatch, text="common", limit=5, offset=25) == common[25:]
    # Only exclusions: the GIN index cannot answer it, so only the newest window is searched.
    assert await found(alice.id, window, monkeypatch, text="-rareword", limit=40) == [
        i for i in common[:window] if i not in ids["rare"]]
    assert await found(alice.id, window, monkeypatch, text="words", account_id=alice.id + 1) == []


async def test_reindex_command_rebuilds_and_reports_progress(posts, settings):
    """`starling search reindex` on the PostgreSQL backend: rebuilds the GIN index, shows a
    progress bar, and search still answers afterwards."""
    alice, ids = posts
    result = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "app.cli", "search", "reindex"], cwd=ROOT, env=settings_env(settings),
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "search index rebuilt (postgresql): 30 statuses" in result.stdout
    assert "100%" in result.stderr and "[" in result.stderr
    async with db.session() as session:
        assert await PostgresBackend().status_ids(session, alice.id, StatusQuery(text="rareword")) == sorted(
            ids["rare"], reverse=True)


async def test_word_shares_route_rare_words_to_the_index(posts):
    """After ANALYZE the most common words have their shares; a word outside them counts as 0."""
    async with db.session() as session:
        await session.execute(text("ANALYZE statuses"))
    saved = postgres._stats
    postgres._stats = (-postgres.STATS_SECONDS, {})
    try:
        async with db.session() as session:
            shares = await postgres.word_shares(session)
    finally:
        postgres._stats = saved
    assert shares["common"] == pytest.approx(1.0, abs=0.01) and shares["rareword"] < 0.5
    assert postgres.rarest_share("'common' & 'rareword'", shares) == shares["rareword"]
    assert postgres.rarest_share("'common' & 'unheardof'", shares) == 0.0
    assert postgres.rarest_share("'common' <-> 'here'", shares) == pytest.approx(1.0, abs=0.01)
    assert postgres.rarest_share("'common' | 'rareword'", shares) is None
    assert postgres.rarest_share("!'common'", shares) is None
    assert postgres.rarest_share("'it''s' & 'common'", {"it's": 0.5, "common": 1.0}) == 0.5
