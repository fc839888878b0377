"""Link previews: the `fetch_preview_card` actor, deferred by the statuses hooks
(app.services.preview_cards.status_posted / status_edited) when a post's first link may get a card.

Idempotent: it reads the status as it is now and does nothing once the status shows the card of
its first link. A page that cannot be fetched means no card, not a retry (federation/link_preview.py);
only unexpected errors (the database away) are retried.
"""
from __future__ import annotations

import dramatiq

from app.services import preview_cards
from federation import link_preview
from workers.runtime import finish, still_pending


@dramatiq.actor(actor_name=preview_cards.FETCH_ACTOR, max_retries=3, min_backoff=5_000, max_backoff=300_000)
async def fetch_preview_card(status_id: int, outbox_id: int | None = None) -> None:
    if not await still_pending(outbox_id):
        return
    await link_preview.fetch_for_status(status_id)
    await finish(outbox_id)
