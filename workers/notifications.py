"""Creating notifications off the request path, and telling the recipient's open streams.

`notify` is deferred through the outbox by the producers in app.services.notifications
(a post, an edit, a follow or request, a favourite, a boost, a poll that ended), so a
change committed just before a crash still notifies once workers run again. The
service inserts with a unique key per (recipient, type, activity): a second run of
the same job creates nothing and so publishes nothing.

Polls: every worker's sweeper loop (workers/pool.py) calls
notifications.defer_ended_polls(), which defers a `notify` job per poll that ended.
"""
from __future__ import annotations

import json

import dramatiq

from app import db
from app.api.entities.notification import render_notifications
from app.models import Account, Notification
from app.services import notifications, streaming
from workers.runtime import finish, still_pending


async def publish_created(created: list[Notification]) -> None:
    """A `notification` event on each recipient's user and user:notification streams, with
    Mastodon's payload: the Notification entity as a JSON string, rendered for the recipient."""
    for notification in created:
        async with db.session() as session:
            recipient = await session.get(Account, notification.account_id)
            rendered = await render_notifications(session, [notification], recipient)
        if rendered:
            await streaming.publish_to_user(notification.account_id, "notification",
                                            json.dumps(rendered[0], separators=(",", ":")))


@dramatiq.actor(actor_name=notifications.ACTOR, max_retries=10, min_backoff=1_000, max_backoff=300_000)
async def notify(event: str, id: int, edit_id: int | None = None, outbox_id: int | None = None) -> None:
    if not await still_pending(outbox_id):
        return
    created = await notifications.process(event, id, edit_id)
    await finish(outbox_id)
    # Streams are best effort (a client reconnecting reads the list): after the work is safe.
    await publish_created(created)
