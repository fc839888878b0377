"""Publishing statuses to the public and hashtag streams, and direct posts' conversations to
their participants' direct streams (also when a notification request is accepted), after the
change committed.

    await publish_status(session, status)               # update (or event="status.update")
    await publish_status_deletion(session, status)      # delete

`stream_status` is deferred by the status hooks (app.services.streaming.defer_status_event)
through the outbox, so a post committed just before a crash still reaches the streams.
Each status is rendered once, anonymously, whatever the number of listeners.
Delivery is at least once: a retry after a crash between publishing and finishing
publishes again, and clients already treat a repeated status id as the same status.
"""
from __future__ import annotations

import json

import dramatiq
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.api.entities.conversation import render_conversations
from app.api.entities.status import render_statuses
from app.models import Account, MediaAttachment, Mention, Status, StatusTag, Tag
from app.services import conversations, notification_requests, streaming
from workers.runtime import finish, still_pending


async def _facts(session: AsyncSession, status: Status) -> tuple[list[str], bool, list[int]]:
    """The status's tag keys, whether it has media, and the accounts it mentions."""
    tags = (await session.exec(
        select(Tag.key).join(StatusTag, StatusTag.tag_id == Tag.id).where(StatusTag.status_id == status.id))).all()
    has_media = (await session.exec(
        select(MediaAttachment.id).where(MediaAttachment.status_id == status.id).limit(1))).first() is not None
    mentioned = (await session.exec(
        select(Mention.account_id).where(Mention.status_id == status.id, Mention.silent.is_(False)))).all()
    return list(tags), has_media, list(mentioned)


def _streamable(status: Status) -> bool:
    return status.visibility == "public" and status.reblog_of_id is None


async def publish_status(session: AsyncSession, status: Status, event: str = "update") -> None:
    """Publish a live public status (update or status.update) to the public and hashtag streams."""
    if not _streamable(status) or status.deleted_at is not None:
        return
    author = await session.get(Account, status.account_id)
    if author is None or author.suspended_at is not None or author.silenced_at is not None:
        return  # Mastodon keeps limited accounts off the public streams
    tags, has_media, mentioned = await _facts(session, status)
    rendered = (await render_statuses(session, [status], None))[0]
    channels = streaming.status_channels(status, tags, has_media=has_media, event=event)
    await streaming.publish_many(channels, event, json.dumps(rendered, separators=(",", ":")),
                                 accounts=[status.account_id, *mentioned])


async def publish_status_deletion(session: AsyncSession, status: Status) -> None:
    if not _streamable(status):
        return
    tags, has_media, _ = await _facts(session, status)
    channels = streaming.status_channels(status, tags, has_media=has_media, event="delete")
    await streaming.publish_many(channels, "delete", str(status.id))


@dramatiq.actor(actor_name=streaming.STATUS_ACTOR, max_retries=5, min_backoff=1_000, max_backoff=60_000)
async def stream_status(status_id: int, event: str, outbox_id: int | None = None) -> None:
    if not await still_pending(outbox_id):
        return
    if not await streaming.anyone_watching_statuses():
        return await finish(outbox_id)
    async with db.session() as session:
        status = await session.get(Status, status_id)
        if status is not None:
            if event == "delete":
                await publish_status_deletion(session, status)
            else:
                await publish_status(session, status, event)
    await finish(outbox_id)


@dramatiq.actor(actor_name=conversations.ACTOR, max_retries=5, min_backoff=1_000, max_backoff=60_000)
async def stream_conversations(status_id: int | None = None, conversation_ids: list[int] | None = None,
                               outbox_id: int | None = None) -> None:
    """A direct post: each local participant's `direct` stream gets its conversation, rendered
    for that participant (unread, the others, the post with their own flags); or, after a
    deletion, the `conversation_ids` it left with another last post. Only streams that are
    open are rendered for."""
    if not await still_pending(outbox_id):
        return
    async with db.session() as session:
        if status_id is not None:
            rows = await conversations.holding(session, status_id)
        else:
            rows = await conversations.by_ids(session, conversation_ids or [])
        listened = await streaming.listened([streaming.direct_channel(row.account_id) for row in rows])
        for row in rows:
            if streaming.direct_channel(row.account_id) not in listened:
                continue
            viewer = await session.get(Account, row.account_id)
            [rendered] = await render_conversations(session, [row], viewer)
            payload = json.dumps(rendered, separators=(",", ":"))
            await streaming.publish_to_user(row.account_id, "conversation", payload)
    await finish(outbox_id)


@dramatiq.actor(actor_name=notification_requests.MERGED_ACTOR, max_retries=5, min_backoff=1_000, max_backoff=60_000)
async def stream_merged_requests(account_id: int, status_ids: list[int], outbox_id: int | None = None) -> None:
    """Notification requests were accepted: the conversations their direct posts joined go to the
    recipient's direct stream, then `notifications_merged` tells apps to reload the list (as
    Mastodon's web app does; the payload means nothing)."""
    if not await still_pending(outbox_id):
        return
    async with db.session() as session:
        if status_ids and await streaming.listened([streaming.direct_channel(account_id)]):
            viewer = await session.get(Account, account_id)
            rows = await conversations.of_owner_holding(session, account_id, status_ids)
            for rendered in await render_conversations(session, rows, viewer):
                await streaming.publish_to_user(account_id, "conversation", json.dumps(rendered, separators=(",", ":")))
    await streaming.publish_to_user(account_id, "notifications_merged", "1")
    await finish(outbox_id)
