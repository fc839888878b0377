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
0. a query that needs a word too rare for the window to fill a page (by ANALYZE's most common
   words and their shares in pg_stats, read every ten minutes; any other word is rarer) goes
   straight to the GIN index, which then fetches at most that word's few thousand posts;
1. otherwise the newest WINDOW posts (in the requested id range) are scanned by primary key and
   filtered: enough hits there means the word is common, done;
2. otherwise the word is rare (fewer than need/WINDOW of recent posts have it): the GIN
   index answers for the rest of the range, sorted by id outside the index scan so the
   planner cannot fall back to walking the primary key.
"""
from __future__ import annotations

import csv
import re
import time
from functools import lru_cache

from sqlalchemy import BigInteger, Integer, Text, bindparam, cast, func, literal_column, text
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import aliased
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.models import Status, StatusTag, Tag
from app.services.ids import MAX_ID
from app.services.search.backend import Progress, StatusQuery
from app.services.search.rules import searchable
from app.text import TAG_WORD, hashtag_key

WINDOW = 5000  # newest posts scanned before switching to the GIN index
MORE_WINDOWS = 4  # further windows walked for a word common enough to fill a page from one
CANDIDATES = 200  # GIN matches checked against the visibility rules in a first pass
HASHTAG = re.compile(rf"^#({TAG_WORD}+)$")
VECTOR = literal_column("statuses.search_vector")


class _Statements:
    """The search statements, built once per shape (with or without an author filter, per
    window size) with bind parameters for everything else: building the visibility rules is
    the costly part in Python (~7 ms a query), and reusing one statement also lets SQLAlchemy
    and psycopg reuse its compiled and prepared forms."""

    def __init__(self, by_account: bool, window: int) -> None:
        viewer = bindparam("viewer_id", type_=BigInteger)
        tsquery = cast(bindparam("tsquery", type_=Text), TSQUERY)

        def in_range(query, column=Status.id):
            query = query.where(column < bindparam("max_id", type_=BigInteger),
                                column > bindparam("min_id", type_=BigInteger))
            return query.where(Status.account_id == bindparam("account_id", type_=BigInteger)) if by_account else query

        # 1. the newest `window` posts in range, walked by primary key (a subquery with its own
        # LIMIT, so the planner cannot swap in the GIN bitmap), filtered, stopping at `need`.
        recent = (in_range(select(Status).add_columns(VECTOR.label("vector")))
                  .order_by(Status.id.desc()).limit(window).subquery())
        alias = aliased(Status, recent)
        self.recent = (select(alias.id).where(recent.c.vector.op("@@")(tsquery), searchable(viewer, alias))
                       .order_by(alias.id.desc()).limit(bindparam("need", type_=Integer)))
        # Where the window ends (an index-only walk of the same ids).
        newest = in_range(select(Status.id)).order_by(Status.id.desc()).limit(window).subquery()
        self.floor = select(func.min(newest.c.id), func.count()).select_from(newest)
        # 2. rare: the GIN index below the window. Ordering by an expression (`id + 0`) keeps
        # the planner on the bitmap path instead of walking the primary key. The newest
        # CANDIDATES matches are taken first with only the cheap conditions, and the
        # visibility rules (a dozen subqueries a row) run on those alone; `older_all` runs
        # them on every match, for when too many candidates were filtered out.
        candidates = (in_range(select(Status.id))
                      .where(Status.id < bindparam("floor", type_=BigInteger), VECTOR.op("@@")(tsquery),
                             Status.deleted_at.is_(None), Status.reblog_of_id.is_(None))
                      .order_by((Status.id + 0).desc()).limit(CANDIDATES).cte("candidates"))
        pool = select(func.count()).select_from(candidates).scalar_subquery()
        self.older = (select(Status.id, pool).join(candidates, candidates.c.id == Status.id)
                      .where(searchable(viewer)).order_by(Status.id.desc()).limit(bindparam("need", type_=Integer)))
        self.older_all = (in_range(select(Status.id))
                          .where(Status.id < bindparam("floor", type_=BigInteger), VECTOR.op("@@")(tsquery),
                                 searchable(viewer))
                          .order_by((Status.id + 0).desc()).limit(bindparam("need", type_=Integer)))
        # `#tag` alone: the (tag_id, status_id) index walks the tagged posts newest first.
        self.tagged = (in_range(select(Status.id).join(StatusTag, StatusTag.status_id == Status.id), StatusTag.status_id)
                       .where(StatusTag.tag_id == bindparam("tag_id", type_=BigInteger), searchable(viewer))
                       .order_by(StatusTag.status_id.desc())
                       .offset(bindparam("offset", type_=Integer)).limit(bindparam("limit", type_=Integer)))


@lru_cache(maxsize=16)
def _statements(by_account: bool, window: int) -> _Statements:
    return _Statements(by_account, window)


async def _tsquery(session: AsyncSession, raw: str) -> tuple[str, bool]:
    """The tsquery for what the user typed (websearch syntax never raises on odd input:
    quotes make phrases, `or` alternatives, `-word` exclusions, the rest is plain words),
    and whether the GIN index can answer it (a purely negative query cannot)."""
    row = (await session.execute(
        text("SELECT q::text, querytree(q) FROM websearch_to_tsquery('simple', :raw) AS q"), {"raw": raw})).one()
    return row[0], row[1] not in ("", "T")


LEXEME = re.compile(r"'((?:[^']|'')*)'")
STATS_SECONDS = 600
_stats: tuple[float, dict[str, float]] = (-STATS_SECONDS, {})


async def word_shares(session: AsyncSession) -> dict[str, float]:
    """The share of posts containing each of the words ANALYZE found most often (pg_stats'
    most common elements of search_vector: the top 1,000 at the default statistics target,
    down to ~0.1% of posts on the synthetic instance); any other word is rarer than those.
    Re-read every STATS_SECONDS."""
    global _stats
    read_at, shares = _stats
    if time.monotonic() - read_at < STATS_SECONDS:
        return shares
    row = (await session.execute(text(
        "SELECT most_common_elems::text, most_common_elem_freqs FROM pg_stats WHERE schemaname = current_schema() "
        "AND tablename = 'statuses' AND attname = 'search_vector'"))).first()
    shares = {}
    if row is not None and row[0] and row[1]:
        words = next(csv.reader([row[0][1:-1]], escapechar="\\"))
        shares = dict(zip(words, row[1]))  # the frequencies end with three summary numbers: ignored
    _stats = (time.monotonic(), shares)
    return shares


def rarest_share(tsquery: str, shares: dict[str, float]) -> float | None:
    """For a query of words and phrases only (no `|`, no `!`), the largest share of posts
    that can match: that of its rarest word (0 when not among the common ones). None for
    other queries."""
    bare = LEXEME.sub("", tsquery)
    if "|" in bare or "!" in bare:
        return None
    words = [word.replace("''", "'") for word in LEXEME.findall(tsquery)]
    return min((shares.get(word, 0.0) for word in words), default=None)


class PostgresBackend:
    name = "postgresql"

    async def status_ids(self, session: AsyncSession, viewer_id: int, q: StatusQuery) -> list[int]:
        # The visibility rules make the estimated cost large enough for JIT compilation,
        # which alone took ~100 ms per query on the synthetic instance; these queries touch
        # a few thousand rows at most, so compiling never pays off. And psycopg prepares a
        # statement after five runs: PostgreSQL's generic plan for it, made without the words'
        # frequencies, took 37 ms where the custom plan takes 3 ms.
        await session.execute(text("SET LOCAL jit = off; SET LOCAL plan_cache_mode = force_custom_plan"))
        statements = _statements(q.account_id is not None, WINDOW)
        params = {"viewer_id": viewer_id, "max_id": q.max_id if q.max_id is not None else MAX_ID,
                  "min_id": q.min_id if q.min_id is not None else 0, "account_id": q.account_id}
        tag = HASHTAG.match(q.text.strip())
        if tag:
            tag_id = (await session.exec(select(Tag.id).where(Tag.key == hashtag_key(tag.group(1))))).first()
            if tag_id is None:
                return []
            rows = await session.exec(statements.tagged, params={**params, "tag_id": tag_id, "offset": q.offset,
                                                                 "limit": q.limit})
            return list(rows.all())
        tsquery, indexable = await _tsquery(session, q.text)
        if not tsquery:
            return []  # nothing searchable in it (only punctuation, say)
        need = q.offset + q.limit
        params.update(tsquery=tsquery, need=need)
        share = rarest_share(tsquery, await word_shares(session))
        if share is not None and share * WINDOW < need:
            # Too rare for the window to fill the page: straight to the GIN index, whole range
            # (it fetches at most that share of the posts).
            params.update(floor=params["max_id"])
            return (await self._older(session, statements, params))[q.offset:need]
        found = list((await session.exec(statements.recent, params=params)).all())
        for step in range(MORE_WINDOWS + 1):
            if len(found) >= need or not indexable:
                return found[q.offset:need]
            floor, in_window = (await session.exec(statements.floor, params=params)).one()
            if in_window < WINDOW:
                return found[q.offset:need]  # the window held everything in range
            params.update(max_id=floor, need=need - len(found))
            # A common word missing from the newest posts (a topic of last month, a flood of
            # posts without it) is still common further down: walk more windows rather than
            # sort its tens of thousands of GIN matches.
            if step == MORE_WINDOWS or share is None or share * WINDOW < need:
                break
            found += list((await session.exec(statements.recent, params=params)).all())
        params.update(floor=params["max_id"])
        found += await self._older(session, statements, params)
        return found[q.offset:need]

    async def _older(self, session: AsyncSession, statements: _Statements, params: dict) -> list[int]:
        rows = (await session.exec(statements.older, params=params)).all()
        if len(rows) < params["need"] and (not rows or rows[0][1] >= CANDIDATES):
            return list((await session.exec(statements.older_all, params=params)).all())
        return [row[0] for row in rows]

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
