"""Processing uploaded media (POST /api/v2/media) off the request path."""
from __future__ import annotations

import dramatiq

from app.services import media
from workers.runtime import finish, still_pending


# Bad images end as `failed` inside the service and never raise; what does raise
# (storage or database trouble) is worth a few retries.
@dramatiq.actor(actor_name=media.PROCESS_ACTOR, max_retries=5, min_backoff=2_000, max_backoff=300_000)
async def process_media(media_id: int, outbox_id: int | None = None) -> None:
    if not await still_pending(outbox_id):
        return
    await media.process_pending(media_id)
    await finish(outbox_id)
