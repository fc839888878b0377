"""Direct-message conversations (GET /api/v1/conversations and the `direct` stream).

    await status_posted(session, status)     # in the posting transaction, after its mentions
    await status_deleted(session, status)    # in the deleting transaction
    rows = await page_of(session, account_id, page)   # [AccountConversation], newest first
    row = await mark_read(session, account_id, raw_id)
    await remove(session, account_id, raw_id)
    await clear_with(session, account_id, blocked_id)   # a block: the conversations with them go

As Mastodon's AccountConversation: a direct post belongs, for its author and each local
account it mentions, to the conversation of its thread with the other participants (the
author and everyone mentioned, less the owner); it becomes that conversation's last status,
unread for the recipients and read for its author. A recipient gets it exactly when the
mention notifies them (notifications.told_of_mentions: not if they block the author, mute
their notifications or the thread, block or mute someone else the post involves, ...).
A conversation whose every post is deleted goes away. Each local participant's `direct` stream then gets the conversation
(`conversation` event), rendered by the CONVERSATION_ACTOR job once the post commits, and again
when a deletion leaves it another last post.
"""
from __future__ import annotations

from sqlalchemy import case, func, text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import jobs
from app.errors import NotFound
from app.models import AccountConversation, Mention, Status
from app.services import notifications
from app.services.ids import parse_id

ACTOR = "stream_conversations"  # workers/streaming.py: each participant's direct stream


async def status_posted(session: AsyncSession, status: Status) -> None:
    if status.visibility != "direct" or status.reblog_of_id is not None:
        return
    # The author (if local), and the recipients the mention notifies (Mastodon adds the
    # conversation where the notification goes).
    local = sorted(await notifications.told_of_mentions(session, status) | ({status.account_id} if status.local else set()))
    for owner in local:
        await add_for(session, status, owner)
    if local:
        jobs.defer(session, ACTOR, status_id=status.id)


async def add_for(session: AsyncSession, status: Status, owner: int) -> None:
    """Put direct post `status` into `owner`'s conversation of its thread and participants
    (also later, when a filtered mention is accepted)."""
    mentioned = (await session.exec(select(Mention.account_id).where(
        Mention.status_id == status.id, Mention.silent.is_(False)))).all()
    everyone = {status.account_id, *mentioned}
    row = dict(account_id=owner, conversation_id=status.conversation_id or status.id,
               participant_account_ids=sorted(everyone - {owner}), status_ids=[status.id],
               last_status_id=status.id, unread=owner != status.account_id)
    table = AccountConversation.__table__
    statement = insert(table).values(**row)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[table.c.account_id, table.c.conversation_id, table.c.participant_account_ids],
        set_={"status_ids": case((table.c.status_ids.any(status.id), table.c.status_ids),
                                 else_=func.array_append(table.c.status_ids, status.id)),
              "last_status_id": func.greatest(table.c.last_status_id, status.id),
              "unread": statement.excluded.unread}))


async def status_deleted(session: AsyncSession, status: Status) -> None:
    if status.visibility != "direct":
        return
    params = {"id": status.id}
    changed = (await session.execute(text(
        "UPDATE account_conversations SET status_ids = array_remove(status_ids, :id),"
        " last_status_id = coalesce((SELECT max(s) FROM unnest(array_remove(status_ids, :id)) s), last_status_id)"
        " WHERE status_ids @> ARRAY[CAST(:id AS bigint)] RETURNING id, cardinality(status_ids)"), params)).all()
    await session.execute(text(
        "DELETE FROM account_conversations WHERE cardinality(status_ids) = 0"
        " AND last_status_id = :id"), params)
    # The conversations left with another last post go to their owners' direct streams again
    # (Mastodon streams a conversation on every change), so apps show the new last post.
    kept = [row[0] for row in changed if row[1] > 0]
    if kept:
        jobs.defer(session, ACTOR, conversation_ids=kept)


async def holding(session: AsyncSession, status_id: int) -> list[AccountConversation]:
    """The conversations a status is the last of (whose owners' streams hear of it)."""
    return list((await session.exec(select(AccountConversation).where(
        AccountConversation.last_status_id == status_id))).all())


async def by_ids(session: AsyncSession, ids: list[int]) -> list[AccountConversation]:
    """Those of these conversations that still exist."""
    return list((await session.exec(select(AccountConversation).where(AccountConversation.id.in_(ids)))).all())


async def of_owner_holding(session: AsyncSession, account_id: int, status_ids: list[int]) -> list[AccountConversation]:
    """`account_id`'s conversations that hold any of `status_ids`."""
    if not status_ids:
        return []
    return list((await session.exec(select(AccountConversation).where(
        AccountConversation.account_id == account_id, AccountConversation.status_ids.overlap(status_ids))
        .order_by(AccountConversation.last_status_id))).all())


async def page_of(session: AsyncSession, account_id: int, page) -> list[AccountConversation]:
    """`page` (app.api.pagination.Page) by last status id, as Mastodon pages conversations."""
    query = page.apply(select(AccountConversation).where(AccountConversation.account_id == account_id),
                       AccountConversation.last_status_id)
    return page.order(list((await session.exec(query)).all()), key=lambda row: row.last_status_id)


async def _own(session: AsyncSession, account_id: int, raw_id) -> AccountConversation:
    conversation_id = parse_id(raw_id)
    row = await session.get(AccountConversation, conversation_id) if conversation_id is not None else None
    if row is None or row.account_id != account_id:
        raise NotFound()
    return row


async def mark_read(session: AsyncSession, account_id: int, raw_id) -> AccountConversation:
    row = await _own(session, account_id, raw_id)
    row.unread = False
    session.add(row)
    return row


async def remove(session: AsyncSession, account_id: int, raw_id) -> None:
    """Out of the owner's list (the posts stay; a new one brings the conversation back)."""
    await session.delete(await _own(session, account_id, raw_id))


async def clear_with(session: AsyncSession, account_id: int, participant_id: int) -> None:
    """Every conversation of the account that the participant is in goes (the account blocks
    them, as Mastodon's AfterBlockService): a block hides their posts, which left such a
    conversation showing no last status."""
    await session.execute(AccountConversation.__table__.delete().where(
        AccountConversation.account_id == account_id,
        AccountConversation.participant_account_ids.any(participant_id)))
