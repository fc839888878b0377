"""Blocks and mutes: keeping someone away.

    rel = await blocks.block(session, me.id, target_id)        # also ends follows and requests both ways,
                                                               # and drops my notifications from them
                                                               # and my conversations with them
    rel = await blocks.unblock(session, me.id, target_id)
    rel = await blocks.mute(session, me.id, target_id, notifications=True, duration=3600)
    rel = await blocks.unmute(session, me.id, target_id)

A block hides each account's content from the other (see app/services/relationships.py
`blocks_between`, which visibility rules use). A mute only hides the target from the
muter, optionally with notifications; `duration` seconds (0 = forever) sets
`expires_at`, after which the mute no longer applies anywhere.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import ApiError
from app.models import Account, Block, Mute
from app.models.base import utcnow
from app.services import conversations, feeds, follows, notifications, relationships, streaming
from app.services.relationships import Relationship

MAX_MUTE_SECONDS = 100 * 365 * 24 * 3600  # beyond this a date is meaningless; use 0 for forever


async def block(session: AsyncSession, account_id: int, target_id: int) -> Relationship:
    target = await relationships.find_target(session, target_id)
    if target.id == account_id:
        raise ApiError("You cannot block yourself", 422)
    await relationships.pair_lock(session, account_id, target.id)
    await session.execute(insert(Block).values(account_id=account_id, target_account_id=target.id)
                          .on_conflict_do_nothing(index_elements=["account_id", "target_account_id"]))
    followed = await relationships.is_following(session, account_id, target.id)
    await follows.sever(session, account_id, target.id)
    feeds.hidden(session, account_id, target.id, severed=followed)
    await notifications.clear_from(session, account_id, target.id)
    await conversations.clear_with(session, account_id, target.id)
    streaming.viewer_changed_after_commit(session, account_id, target.id)  # a block hides both ways
    return await relationships.for_account(session, account_id, target.id)


async def unblock(session: AsyncSession, account_id: int, target_id: int) -> Relationship:
    target = await relationships.find_target(session, target_id, allow_suspended=True)
    await session.execute(delete(Block).where(Block.account_id == account_id, Block.target_account_id == target.id))
    streaming.viewer_changed_after_commit(session, account_id, target.id)
    return await relationships.for_account(session, account_id, target.id)


async def mute(session: AsyncSession, account_id: int, target_id: int, *, notifications: bool = True,
               duration: int = 0) -> Relationship:
    """Mute (or change an existing mute's notifications and duration)."""
    if duration < 0 or duration > MAX_MUTE_SECONDS:
        raise ApiError(f"duration must be between 0 (forever) and {MAX_MUTE_SECONDS} seconds", 422)
    target = await relationships.find_target(session, target_id)
    if target.id == account_id:
        raise ApiError("You cannot mute yourself", 422)
    expires_at = utcnow() + timedelta(seconds=duration) if duration else None
    values = dict(hide_notifications=notifications, expires_at=expires_at)
    await session.execute(insert(Mute).values(account_id=account_id, target_account_id=target.id, **values)
                          .on_conflict_do_update(index_elements=["account_id", "target_account_id"], set_=values))
    feeds.hidden(session, account_id, target.id)
    streaming.viewer_changed_after_commit(session, account_id)
    return await relationships.for_account(session, account_id, target.id)


async def unmute(session: AsyncSession, account_id: int, target_id: int) -> Relationship:
    target = await relationships.find_target(session, target_id, allow_suspended=True)
    await session.execute(delete(Mute).where(Mute.account_id == account_id, Mute.target_account_id == target.id))
    streaming.viewer_changed_after_commit(session, account_id)
    return await relationships.for_account(session, account_id, target.id)


# `page` is an app.api.pagination.Page; lists are paginated by the block/mute row id, as Mastodon does.

async def blocked_accounts(session: AsyncSession, account_id: int, page) -> list[tuple[int, Account]]:
    query = (select(Block.id, Account).join(Account, Account.id == Block.target_account_id)
             .where(Block.account_id == account_id, relationships.listable()))
    rows = (await session.exec(page.apply(query, Block.id))).all()
    return page.order([(row_id, account) for row_id, account in rows], key=lambda pair: pair[0])


async def muted_accounts(session: AsyncSession, account_id: int, page) -> list[tuple[Mute, Account]]:
    """Active mutes only: an expired mute is no longer a mute."""
    query = (select(Mute, Account).join(Account, Account.id == Mute.target_account_id)
             .where(Mute.account_id == account_id, relationships.active_mute(), relationships.listable()))
    rows = (await session.exec(page.apply(query, Mute.id))).all()
    return page.order([(m, account) for m, account in rows], key=lambda pair: pair[0].id)
