"""Search indexing: the `search_index` actor, deferred by the status hooks
(app.services.search.status_changed) only when Meilisearch is configured. The PostgreSQL
backend needs no worker: its search_vector is a generated column written with the post.

Idempotent: indexing reads the status as it is now (and drops it from the index when it
is deleted or gone), so running twice, or out of order, ends in the same document.
"""
from __future__ import annotations

import dramatiq

from app.services import search
from workers.runtime import finish, still_pending


@dramatiq.actor(actor_name=search.INDEX_ACTOR, max_retries=10, min_backoff=1_000, max_backoff=300_000)
async def index_status(status_id: int, outbox_id: int | None = None) -> None:
    if not await still_pending(outbox_id):
        return
    await search.current_backend().index([status_id])
    await finish(outbox_id)
