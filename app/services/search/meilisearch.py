"""Meilisearch: used when STARLING_MEILISEARCH_URL is set.

Documents are statuses (never boosts, never deleted ones): `id` (the snowflake as a string:
Meilisearch numbers are doubles and would round it), `text`, `spoiler_text`, `tags`,
`account_id`, `visibility`, `created_ms` (the id's millisecond part, for id ranges and
recency). Index settings: those text fields searchable, account/visibility/time filterable,
time sortable, typo tolerance on (one typo from 5 letters, two from 9), and ranking by
Meilisearch's relevance rules, then `created_ms:desc` (newest first among equals).

Meilisearch only proposes candidates; who may find what is decided by the same SQL rules
as the PostgreSQL backend (`rules.searchable`), applied to the candidates in one query. The
index therefore never needs to know about blocks, follows, interactions or an author
switching `indexable` off: a stale document can never leak. To make up for candidates
filtered out, OVERFETCH times the needed count is asked for.

The `meilisearch` client is synchronous; its calls run in a thread, each bounded by TIMEOUT.
A server that does not answer (refused, timed out, garbled) is a 503 for status search.
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import meilisearch
import requests  # the meilisearch client's transport: some of its errors are not wrapped
from meilisearch.errors import MeilisearchApiError, MeilisearchError
from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.errors import ApiError
from app.models import Status, StatusTag, Tag
from app.services.search.backend import Progress, StatusQuery
from app.services.search.postgres import HASHTAG, PostgresBackend
from app.services.search.rules import searchable

log = logging.getLogger(__name__)

OVERFETCH = 4
MAX_CANDIDATES = 1000
BATCH = 1000
TIMEOUT = 10  # seconds per HTTP request: the client's default is none, so a hung server hung the search
SETTLE_MS = 600_000  # how long a task we wait for may take (it runs after everything queued before it)
# A query with no letter or digit: PostgreSQL finds nothing for it, but Meilisearch tokenizes
# it to no words and runs a placeholder search, which returns every document.
NO_WORDS = re.compile(r"^[\W_]*$")
SETTINGS = {
    "searchableAttributes": ["text", "spoiler_text", "tags"],
    "filterableAttributes": ["account_id", "visibility", "created_ms"],
    "sortableAttributes": ["created_ms"],
    "rankingRules": ["words", "typo", "proximity", "attribute", "sort", "exactness", "created_ms:desc"],
    "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9}},
}


def _document(status: Status, tags: list[str]) -> dict[str, Any]:
    return {
        "id": str(status.id),
        "text": status.text or _strip_html(status.content),
        "spoiler_text": status.spoiler_text,
        "tags": tags,
        "account_id": status.account_id,
        "visibility": status.visibility,
        "created_ms": status.id >> 16,
    }


def _strip_html(html: str) -> str:
    out, inside = [], False
    for ch in html:
        if ch == "<":
            inside = True
            out.append(" ")
        elif ch == ">":
            inside = False
        elif not inside:
            out.append(ch)
    return "".join(out)


def _filter(q: StatusQuery) -> list[str]:
    parts = []
    if q.account_id is not None:
        parts.append(f"account_id = {int(q.account_id)}")
    if q.max_id is not None:
        parts.append(f"created_ms <= {int(q.max_id) >> 16}")
    if q.min_id is not None:
        parts.append(f"created_ms >= {int(q.min_id) >> 16}")
    return parts


class MeilisearchBackend:
    name = "meilisearch"

    def __init__(self, url: str, api_key: str = "", index: str = "statuses") -> None:
        self.client = meilisearch.Client(url, api_key or None, timeout=TIMEOUT)
        self.uid = index
        self._configured = False  # SETTINGS sent by this process (see _write)

    def _index(self):
        return self.client.index(self.uid)

    def _settle(self, task_uid: int, timeout_ms: int = SETTLE_MS) -> None:
        """Wait for a task (in a thread). wait_for_task returns a failed task without raising
        (and gives up after 5 s by default, though a task waits behind everything queued)."""
        task = self.client.wait_for_task(task_uid, timeout_ms)
        if task.status != "succeeded":
            raise MeilisearchError(f"task {task_uid} {task.status}: {task.error}")

    def _configure(self, wait: bool) -> None:
        """Create the index (if missing: otherwise that task fails harmlessly) and apply SETTINGS."""
        self.client.create_index(self.uid, {"primaryKey": "id"})
        task = self._index().update_settings(SETTINGS)
        if wait:
            self._settle(task.task_uid)
        self._configured = True

    async def configure(self, wait: bool = False) -> None:
        """Create the index (if missing) and apply SETTINGS."""
        await asyncio.to_thread(self._configure, wait)

    async def status_ids(self, session: AsyncSession, viewer_id: int, q: StatusQuery) -> list[int]:
        if HASHTAG.match(q.text.strip()):
            # `#tag` alone means the posts carrying that hashtag (docs/search.md), newest first:
            # Meilisearch would drop the `#` and match the bare word anywhere. status_tags answers.
            return await PostgresBackend().status_ids(session, viewer_id, q)
        if NO_WORDS.match(q.text):
            return []  # nothing searchable (as PostgreSQL), not Meilisearch's "everything"
        need = q.offset + q.limit
        # matchingStrategy "all": every word is required, as in PostgreSQL (the default "last"
        # drops words from the end of the query until enough documents match).
        options = {"limit": min(MAX_CANDIDATES, need * OVERFETCH), "attributesToRetrieve": ["id"],
                   "matchingStrategy": "all"}
        if parts := _filter(q):
            options["filter"] = " AND ".join(parts)
        try:
            found = await asyncio.to_thread(self._index().search, q.text, options)
        except MeilisearchApiError as failure:
            if failure.code == "index_not_found":
                return []  # nothing indexed yet: an honest empty result
            log.warning("Meilisearch search failed: %s", failure)
            raise ApiError("Search is temporarily unavailable", 503) from None
        except (MeilisearchError, requests.RequestException, ValueError) as failure:
            # refused/timed out (wrapped by the client), or a bad URL or a non-JSON answer
            # (requests' own errors, which the client lets through)
            log.warning("Meilisearch search failed: %s", failure)
            raise ApiError("Search is temporarily unavailable", 503) from None
        candidates = [int(hit["id"]) for hit in found.get("hits", [])]
        candidates = [i for i in candidates if (q.max_id is None or i < q.max_id) and (q.min_id is None or i > q.min_id)]
        if not candidates:
            return []
        # The SQL decides, the author filter included: Meilisearch compares account_id as a
        # double, which cannot tell apart snowflakes a few units apart (ids are ~2^57).
        where = [Status.id.in_(candidates), searchable(viewer_id)]
        if q.account_id is not None:
            where.append(Status.account_id == q.account_id)
        allowed = set((await session.exec(select(Status.id).where(*where))).all())
        return [i for i in candidates if i in allowed][q.offset:need]

    async def _documents(self, session: AsyncSession, statuses: list[Status]) -> list[dict[str, Any]]:
        ids = [s.id for s in statuses]
        tags: dict[int, list[str]] = {}
        rows = await session.exec(select(StatusTag.status_id, Tag.name).join(Tag, Tag.id == StatusTag.tag_id)
                                  .where(StatusTag.status_id.in_(ids)))
        for status_id, name in rows.all():
            tags.setdefault(status_id, []).append(name)
        return [_document(s, tags.get(s.id, [])) for s in statuses]

    async def index(self, status_ids: list[int], *, wait: bool = False) -> None:
        async with db.session() as session:
            rows = list((await session.exec(select(Status).where(Status.id.in_(status_ids)))).all())
            live = [s for s in rows if s.deleted_at is None and s.reblog_of_id is None]
            documents = await self._documents(session, live)
        gone = sorted(set(status_ids) - {s.id for s in live})
        await self._write(documents, gone, wait)

    async def remove(self, status_ids: list[int], *, wait: bool = False) -> None:
        await self._write([], list(status_ids), wait)

    async def _write(self, documents: list[dict], gone: list[int], wait: bool) -> None:
        def run():
            if not self._configured:
                # Once per process: otherwise the first document would create the index
                # without SETTINGS (no filterable fields: every filtered search fails) until
                # someone ran `starling search reindex`. Tasks run in order, so no wait.
                self._configure(wait=False)
            tasks = []
            if documents:
                tasks.append(self._index().add_documents(documents, primary_key="id"))
            if gone:
                tasks.append(self._index().delete_documents([str(i) for i in gone]))
            if wait:
                for task in tasks:
                    self._settle(task.task_uid)
        await asyncio.to_thread(run)

    async def reindex(self, progress: Progress | None = None) -> int:
        """Every live status, BATCH at a time in id order (documents replace older versions)."""
        await self.configure(wait=True)
        async with db.session() as session:
            total = (await session.exec(select(func.count()).select_from(Status).where(
                Status.deleted_at.is_(None), Status.reblog_of_id.is_(None)))).one()
        done, after, last_batch = 0, 0, 0
        while True:
            async with db.session() as session:
                batch = list((await session.exec(
                    select(Status).where(Status.id > after, Status.deleted_at.is_(None), Status.reblog_of_id.is_(None))
                    .order_by(Status.id).limit(BATCH))).all())
                if not batch:
                    break
                documents = await self._documents(session, batch)
            after, done = batch[-1].id, done + len(batch)
            last_batch = await asyncio.to_thread(lambda: self._index().add_documents(documents, primary_key="id").task_uid)
            if progress:
                progress(done, max(total, done))
        if last_batch:  # tasks run in order: when the last batch is in, all are
            await asyncio.to_thread(self._settle, last_batch)  # raises if it failed
        return done
