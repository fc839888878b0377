"""The interface every status search backend implements, and the query it answers.

    ids = await backend.status_ids(session, viewer_id, StatusQuery(text="cats", limit=20))
    await backend.index([status_id]); await backend.remove([status_id])
    done = await backend.reindex(progress=lambda done, total: ...)

A backend only finds candidate status ids, newest or most relevant first. Who may see
them is decided in SQL by `rules.searchable` for every backend alike (the PostgreSQL
backend applies it in its query; Meilisearch results are filtered through it), so both
backends answer with the same visibility rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class StatusQuery:
    text: str  # what the user typed (free text, quotes for phrases, -word to exclude)
    account_id: int | None = None  # only this author's posts
    max_id: int | None = None
    min_id: int | None = None
    offset: int = 0
    limit: int = 20


class SearchBackend(Protocol):
    name: str

    async def status_ids(self, session: AsyncSession, viewer_id: int, query: StatusQuery) -> list[int]:
        """Ids of statuses matching `query` that `viewer_id` may find, best first."""

    async def index(self, status_ids: list[int]) -> None:
        """(Re)index these statuses as they are now (deleted or missing ones are removed)."""

    async def remove(self, status_ids: list[int]) -> None:
        """Drop these statuses from the index."""

    async def reindex(self, progress: Progress | None = None) -> int:
        """Rebuild the whole index; returns how many statuses it holds."""
