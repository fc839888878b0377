"""Creating notifications off the request path, and telling the recipient's open streams.

`notify` is deferred through the outbox by the producers in app.services.notifications
(a post, an edit, a follow or request, a favourite, a boost, a poll that ended), so a
change committed just before a crash still notifies once workers run again.

Exactly once: the actor takes its outbox row (DELETE ... RETURNING) in the same
transaction that inserts the notifications, so the two commit together. A second
delivery of the message (Dramatiq redelivery, the sweeper) finds the row gone and does
nothing; one running at the same moment waits on the row's lock, then finds it gone; a
crash before the commit leaves the row for the sweeper. The inserts are also keyed per
(recipient, type, activity), so even a job without an outbox row creates nothing twice.
Only what this run created is published, after the commit, so a stream sees each
notification once.

The actor has its own queue (app.jobs.PROMPT_QUEUE): a like's notification does not
wait behind a celebrity's fan-out.

Polls: every worker's sweeper loop (workers/pool.py) calls
notifications.defer_ended_polls(), which defers a `notify` job per poll that ended.
"""
from __future__ import annotations

import json

import dramatiq
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db, jobs
from app.api.entities.notification import render_notifications
from app.models import Account, Notification
from app.services import notifications, streaming
from workers.runtime import claim


async def render_created(session: AsyncSession, created: list[Notification]) -> list[tuple[int, str]]:
    """(recipient, Notification JSON string) for each new notification, rendered for its
    recipient as Mastodon's streaming payload."""
    events = []
    for notification in created:
        recipient = await session.get(Account, notification.account_id)
        rendered = await render_notifications(session, [notification], recipient)
        if rendered:
            events.append((notification.account_id, json.dumps(rendered[0], separators=(",", ":"))))
    return events


@dramatiq.actor(actor_name=notifications.ACTOR, queue_name=jobs.queue_for(notifications.ACTOR),
                max_retries=10, min_backoff=1_000, max_backoff=300_000)
async def notify(event: str, id: int, edit_id: int | None = None, outbox_id: int | None = None) -> None:
    async with db.session() as session:
        if not await claim(session, outbox_id):
            return
        created = await notifications.create(session, event, id, edit_id)
        events = await render_created(session, created)
    # Committed. Streams are best effort (a crash here loses the live event, not the
    # notification: a reconnecting client reads the list).
    for account_id, payload in events:
        await streaming.publish_to_user(account_id, "notification", payload)
