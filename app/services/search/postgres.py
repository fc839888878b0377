"""PostgreSQL full-text search: the embedded default.

Posts carry a generated `search_vector` column (migration 0005: the 'simple' configuration,
so no stemming, no stop words, no extension needed) with a GIN index. Because the column is
computed by PostgreSQL in the posting transaction, "indexing" is the write itself: a post
is searchable the moment it commits, and `index`/`remove` have nothing to do.

Why the query is two steps (measured on the 1,000,000-post synthetic instance, see
docs/search.md): results are newest first, and the planner must choose between walking the
primary key backwards, filtering each row (instant for common words: 20 hits come within a
few hundred rows), and the GIN bitmap (instant for rare words, but it fetches and sorts
every match: tens of thousands of rows for a common word). Its row estimate for a word
outside the sampled most-common lexemes is a guess, so it walks 20,000+ rows for a
mid-frequency word and the whole table for a word with no recent posts. So we decide
ourselves:
1. the newest WINDOW posts (in the requested id range) are scanned by primary key and
   filtered: enough hits there means the word is common, done;
2. otherwise the word is rare (fewer than need/WINDOW of recent posts have it): the GIN
   index answers for the rest of the range, sorted by id outside the index scan so the
   planner cannot fall back to walking the primary key.
"""
from __future__ import annotations

import re

from sqlalchemy import cast, func, literal_column, text
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.models import Status, StatusTag, Tag
from app.services.search.backend import Progress, StatusQuery
from app.services.search.rules import searchable

WINDOW = 5000  # newest posts scanned before switching to the GIN index
HASHTAG = re.compile(r"^#(\w+)$")
VECTOR = literal_column("statuses.search_vector")


def _bounded(query, column, q: StatusQuery):
    if q.max_id is not None:
        query = query.where(column < q.max_id)
    if q.min_id is not None:
        query = query.where(column > q.min_id)
    return query


async def _tsquery(session: AsyncSession, raw: str) -> tuple[str, bool]:
    """The tsquery for what the user typed (websearch syntax never raises on odd input:
    quotes make phrases, `or` alternatives, `-word` exclusions, the rest is plain words),
    and whether the GIN index can answer it (a purely negative query cannot)."""
    row = (await session.execute(
        text("SELECT q::text, querytree(q) FROM websearch_to_tsquery('simple', :raw) AS q"), {"raw": raw})).one()
    return row[0], row[1] not in ("", "T")


class PostgresBackend:
    name = "postgresql"

    async def status_ids(self, session: AsyncSession, viewer_id: int, q: StatusQuery) -> list[int]:
        # The visibility rules make the estimated cost large enough for JIT compilation,
        # which alone took ~100 ms per query on the synthetic instance; these queries touch
        # a few thousand rows at most, so compiling never pays off.
        await session.execute(text("SET LOCAL jit = off"))
        tag = HASHTAG.match(q.text.strip())
        if tag:
            return await self._tagged(session, viewer_id, tag.group(1), q)
        tsquery, indexable = await _tsquery(session, q.text)
        if not tsquery:
            return []  # nothing searchable in it (only punctuation, say)
        need = q.offset + q.limit
        matches = VECTOR.op("@@")(cast(tsquery, TSQUERY))  # the canonical text casts back as is

        # The window: the id of the WINDOW-th newest post in range (an index-only walk).
        newest = _bounded(select(Status.id), Status.id, q)
        if q.account_id is not None:
            newest = newest.where(Status.account_id == q.account_id)
        newest = newest.order_by(Status.id.desc()).limit(WINDOW).subquery()
        floor, in_window = (await session.exec(select(func.min(newest.c.id), func.count()).select_from(newest))).one()
        if not in_window:
            return []

        def candidates():
            query = _bounded(select(Status.id), Status.id, q).where(matches, searchable(viewer_id))
            return query.where(Status.account_id == q.account_id) if q.account_id is not None else query

        # 1. the newest WINDOW posts, filtered
        first = candidates().where(Status.id >= floor).order_by(Status.id.desc()).limit(need)
        found = list((await session.exec(first)).all())
        if len(found) >= need or in_window < WINDOW or not indexable:
            return found[q.offset:need]

        # 2. rare: the GIN index for what lies below the window. Ordering by an expression
        # (`id + 0`) keeps the planner on the bitmap path instead of walking the primary key.
        older = candidates().where(Status.id < floor).order_by((Status.id + 0).desc()).limit(need - len(found))
        found += list((await session.exec(older)).all())
        return found[q.offset:need]

    async def _tagged(self, session: AsyncSession, viewer_id: int, name: str, q: StatusQuery) -> list[int]:
        """`#tag` alone: the posts carrying that hashtag, newest first (the (tag_id, status_id)
        index walks them in order and stops after `limit`)."""
        tag_id = (await session.exec(select(Tag.id).where(func.lower(Tag.name) == name.lower()))).first()
        if tag_id is None:
            return []
        query = (_bounded(select(Status.id).join(StatusTag, StatusTag.status_id == Status.id), StatusTag.status_id, q)
                 .where(StatusTag.tag_id == tag_id, searchable(viewer_id)))
        if q.account_id is not None:
            query = query.where(Status.account_id == q.account_id)
        query = query.order_by(StatusTag.status_id.desc()).offset(q.offset).limit(q.limit)
        return list((await session.exec(query)).all())

    async def index(self, status_ids: list[int]) -> None:
        """Nothing to do: the search_vector column is written with the post."""

    async def remove(self, status_ids: list[int]) -> None:
        """Nothing to do: deleted posts are excluded by the visibility rules."""

    async def reindex(self, progress: Progress | None = None) -> int:
        """Rebuild the GIN index (the generated column itself is always current)."""
        if progress:
            progress(0, 1)
        async with db.session() as session:
            await session.execute(text("REINDEX INDEX ix_statuses_search_vector"))
            total = (await session.exec(select(func.count()).select_from(Status))).one()
        if progress:
            progress(1, 1)
        return total
