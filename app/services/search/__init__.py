"""Search: posts by words or hashtag, people by name, hashtags by name.

    results = await search(viewer, SearchRequest(text="cats", kind=None, limit=20))
    accounts = await find_accounts(viewer, AccountQuery(text="ali"))
    status_changed(session, status)        # in the statuses hooks: index it (Meilisearch only)
    total = await current_backend().reindex(progress)

Status search goes through one backend (backend.SearchBackend): Meilisearch when
settings.meilisearch_url is set, PostgreSQL full-text otherwise. Accounts and hashtags are
always searched in PostgreSQL. What may be found: rules.py. Decisions: docs/search.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db, jobs
from app.config import get_settings
from app.errors import ApiError
from app.models import Account, Status, Tag
from app.services.followed_tags import following_ids
from app.services.search.accounts import AccountQuery, search_accounts
from app.services.search.backend import SearchBackend, StatusQuery
from app.services.search.meilisearch import MeilisearchBackend
from app.services.search.postgres import PostgresBackend
from app.services.search.tags import search_tags, usage_history

INDEX_ACTOR = "search_index"
KINDS = ("accounts", "statuses", "hashtags")
MAX_QUERY = 1000  # characters; longer is refused with a clear error, never searched
MAX_OFFSET = 10_000  # deeper than anyone pages by hand; keeps OFFSET scans bounded


@dataclass(frozen=True)
class SearchRequest:
    text: str
    kind: str | None = None  # accounts | statuses | hashtags | None for all three
    following: bool = False
    account_id: int | None = None
    max_id: int | None = None
    min_id: int | None = None
    offset: int = 0
    limit: int = 20


@dataclass
class SearchResults:
    accounts: list[Account] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    hashtags: list[Tag] = field(default_factory=list)
    history: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)
    followed_tags: set[int] = field(default_factory=set)  # ids of the hashtags the viewer follows


@lru_cache(maxsize=4)
def _backend_for(url: str, api_key: str, index: str) -> SearchBackend:
    return MeilisearchBackend(url, api_key, index) if url else PostgresBackend()


def current_backend() -> SearchBackend:
    settings = get_settings()
    return _backend_for(settings.meilisearch_url, settings.meilisearch_api_key, settings.meilisearch_index)


def check_text(raw: str | None) -> str:
    """The query, stripped; 400 when missing or blank, 422 when absurdly long."""
    text = (raw or "").strip()
    if not text:
        raise ApiError("Missing required parameter: q", 400)
    if len(text) > MAX_QUERY:
        raise ApiError(f"q is too long (at most {MAX_QUERY} characters)", 422)
    return text


async def _statuses(session: AsyncSession, viewer_id: int, request: SearchRequest) -> list[Status]:
    query = StatusQuery(text=request.text, account_id=request.account_id, max_id=request.max_id,
                        min_id=request.min_id, offset=request.offset, limit=request.limit)
    ids = await current_backend().status_ids(session, viewer_id, query)
    if not ids:
        return []
    rows = {s.id: s for s in (await session.exec(select(Status).where(Status.id.in_(ids)))).all()}
    return [rows[i] for i in ids if i in rows]


async def search(session: AsyncSession, viewer: Account | None, request: SearchRequest) -> SearchResults:
    """GET /api/v2/search. Anonymous visitors get accounts and hashtags but no posts (as Mastodon)."""
    if request.kind is not None and request.kind not in KINDS:
        raise ApiError("type must be one of accounts, statuses, hashtags", 422)
    viewer_id = viewer.id if viewer is not None else None
    wanted = (request.kind,) if request.kind else KINDS
    results = SearchResults()
    if "accounts" in wanted:
        results.accounts = await search_accounts(session, viewer_id, AccountQuery(
            text=request.text, following=request.following, offset=request.offset, limit=request.limit))
    if "statuses" in wanted and viewer_id is not None:
        results.statuses = await _statuses(session, viewer_id, request)
    if "hashtags" in wanted:
        results.hashtags = await search_tags(session, request.text, offset=request.offset, limit=request.limit)
        results.history = await usage_history(session, [t.id for t in results.hashtags])
        results.followed_tags = await following_ids(session, viewer_id, [t.id for t in results.hashtags])
    return results


async def find_accounts(viewer: Account | None, query: AccountQuery) -> list[Account]:
    """GET /api/v1/accounts/search."""
    async with db.session() as session:
        return await search_accounts(session, viewer.id if viewer is not None else None, query)


def status_changed(session: AsyncSession, status: Status) -> None:
    """A status was created, edited or deleted (in its transaction). PostgreSQL indexes it
    with the write itself (a generated column); Meilisearch gets a job, committed with it."""
    if get_settings().meilisearch_url:
        jobs.defer(session, INDEX_ACTOR, status_id=status.id)
