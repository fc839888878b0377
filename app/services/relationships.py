"""Who follows, requested, blocks and mutes whom: the read side of the social graph.

Yes/no questions (one query each):

    await relationships.is_following(session, follower_id, target_id)
    await relationships.blocked_either_way(session, a_id, b_id)
    await relationships.is_muting(session, account_id, target_id)

SQL conditions to filter other queries by, e.g. statuses by their author:

    query.where(~relationships.blocks_between(viewer_id, Status.account_id))
    query.where(relationships.follows(viewer_id, Status.account_id))

Relationship entities for many accounts in a fixed number of queries:

    found = await relationships.for_accounts(session, viewer_id, [id1, id2])   # {id: Relationship}

A mute whose `expires_at` has passed no longer applies anywhere (`active_mute`),
even before anything deletes its row. The writes live in app/services/follows.py
(follows and follow requests) and app/services/blocks.py (blocks and mutes).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select as sa_select
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import NotFound
from app.models import Account, Block, Follow, FollowRequest, Mute, User
from app.services.ids import MAX_ID


# -- conditions, usable inside any query ------------------------------------------------

def active_mute(mute=Mute) -> ColumnElement[bool]:
    return or_(mute.expires_at.is_(None), mute.expires_at > func.now())


def follows(follower_id: int, account_column) -> ColumnElement[bool]:
    """`follower_id` follows the account in `account_column`."""
    # Aliased tables, so these conditions also work inside queries over the same table.
    f = aliased(Follow)
    return exists().where(f.account_id == follower_id, f.target_account_id == account_column)


def blocks_between(viewer_id: int, account_column) -> ColumnElement[bool]:
    """A block exists between `viewer_id` and the account in `account_column`, in either direction."""
    b = aliased(Block)
    return exists().where(or_(
        and_(b.account_id == viewer_id, b.target_account_id == account_column),
        and_(b.account_id == account_column, b.target_account_id == viewer_id),
    ))


def mutes(viewer_id: int, account_column) -> ColumnElement[bool]:
    """`viewer_id` mutes the account in `account_column` (mutes that have not expired)."""
    m = aliased(Mute)
    return exists().where(m.account_id == viewer_id, m.target_account_id == account_column, active_mute(m))


def known() -> ColumnElement[bool]:
    """Accounts that exist for others: remote ones, and local ones confirmed and approved."""
    return or_(Account.domain.is_not(None), exists().where(
        User.account_id == Account.id, User.confirmed_at.is_not(None), User.approved.is_(True)))


def known_joined(user=User) -> ColumnElement[bool]:
    """known() for a query that outer-joins `user` on the account: the planner then probes
    the users index per account instead of hashing the whole users table (which it chose
    for known()'s EXISTS inside an OR: 50 ms for an 11-account search)."""
    return or_(Account.domain.is_not(None), and_(user.confirmed_at.is_not(None), user.approved.is_(True)))


def listable() -> ColumnElement[bool]:
    """Accounts that appear in lists and can be followed, blocked or muted: known, not suspended."""
    return and_(Account.suspended_at.is_(None), known())


# -- single questions -----------------------------------------------------------------

async def _any(session: AsyncSession, condition: ColumnElement[bool]) -> bool:
    return bool((await session.execute(sa_select(condition))).scalar())


async def is_following(session: AsyncSession, follower_id: int, target_id: int) -> bool:
    return await _any(session, follows(follower_id, target_id))


async def has_requested(session: AsyncSession, follower_id: int, target_id: int) -> bool:
    return await _any(session, exists().where(FollowRequest.account_id == follower_id,
                                              FollowRequest.target_account_id == target_id))


async def is_blocking(session: AsyncSession, account_id: int, target_id: int) -> bool:
    return await _any(session, exists().where(Block.account_id == account_id, Block.target_account_id == target_id))


async def blocked_either_way(session: AsyncSession, a_id: int, b_id: int) -> bool:
    return await _any(session, blocks_between(a_id, b_id))


async def is_muting(session: AsyncSession, account_id: int, target_id: int) -> bool:
    return await _any(session, mutes(account_id, target_id))


async def follower_ids(session: AsyncSession, account_id: int, *, local_only: bool = False) -> list[int]:
    """Everyone who follows `account_id` (for fan-out and private-post addressing)."""
    query = sa_select(Follow.account_id).where(Follow.target_account_id == account_id)
    if local_only:
        query = query.join(Account, Account.id == Follow.account_id).where(Account.domain.is_(None))
    return list((await session.execute(query)).scalars())


async def excluded_ids(session: AsyncSession, viewer_id: int) -> set[int]:
    """Accounts whose content `viewer_id` should not see in lists and timelines:
    blocked by or blocking the viewer, or muted by the viewer (Mastodon's exclusion set)."""
    blocked = sa_select(Block.target_account_id).where(Block.account_id == viewer_id)
    blockers = sa_select(Block.account_id).where(Block.target_account_id == viewer_id)
    muted = sa_select(Mute.target_account_id).where(Mute.account_id == viewer_id, active_mute())
    rows = await session.execute(blocked.union(blockers, muted))
    return set(rows.scalars())


async def find_target(session: AsyncSession, account_id: int, *, allow_suspended: bool = False) -> Account:
    """The account a relationship action is aimed at, or 404 (unknown, not yet confirmed or
    approved, or suspended unless `allow_suspended`)."""
    if account_id > MAX_ID:
        raise NotFound()
    condition = known() if allow_suspended else listable()
    account = (await session.exec(select(Account).where(Account.id == account_id, condition))).first()
    if account is None:
        raise NotFound()
    return account


# -- the Relationship entity ------------------------------------------------------------

@dataclass
class Relationship:
    id: int
    following: bool = False
    showing_reblogs: bool = False
    notifying: bool = False
    languages: list[str] | None = None
    followed_by: bool = False
    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False
    muting_notifications: bool = False
    muting_expires_at: datetime | None = None
    requested: bool = False
    requested_by: bool = False


async def for_accounts(session: AsyncSession, viewer_id: int, account_ids: list[int]) -> dict[int, Relationship]:
    """The viewer's relationship to each of `account_ids`, in four queries however many there are.

    Every id gets an entry; callers decide which ids are real accounts (see `visible_ids`).
    """
    ids = list(dict.fromkeys(account_ids))
    found = {i: Relationship(id=i) for i in ids}
    if not ids:
        return found

    follow_rows = await session.exec(select(Follow).where(or_(
        and_(Follow.account_id == viewer_id, Follow.target_account_id.in_(ids)),
        and_(Follow.target_account_id == viewer_id, Follow.account_id.in_(ids)))))
    for row in follow_rows:
        if row.account_id == viewer_id and row.target_account_id in found:
            r = found[row.target_account_id]
            r.following, r.showing_reblogs, r.notifying, r.languages = True, row.show_reblogs, row.notify, row.languages
        if row.target_account_id == viewer_id and row.account_id in found:
            found[row.account_id].followed_by = True

    request_rows = await session.exec(select(FollowRequest).where(or_(
        and_(FollowRequest.account_id == viewer_id, FollowRequest.target_account_id.in_(ids)),
        and_(FollowRequest.target_account_id == viewer_id, FollowRequest.account_id.in_(ids)))))
    for row in request_rows:
        if row.account_id == viewer_id and row.target_account_id in found:
            r = found[row.target_account_id]
            r.requested = True
            if not r.following:  # a follow's own options win (Mastodon reads the follow first)
                r.showing_reblogs, r.notifying, r.languages = row.show_reblogs, row.notify, row.languages
        if row.target_account_id == viewer_id and row.account_id in found:
            found[row.account_id].requested_by = True

    block_rows = await session.exec(select(Block).where(or_(
        and_(Block.account_id == viewer_id, Block.target_account_id.in_(ids)),
        and_(Block.target_account_id == viewer_id, Block.account_id.in_(ids)))))
    for row in block_rows:
        if row.account_id == viewer_id and row.target_account_id in found:
            found[row.target_account_id].blocking = True
        if row.target_account_id == viewer_id and row.account_id in found:
            found[row.account_id].blocked_by = True

    mute_rows = await session.exec(select(Mute).where(
        Mute.account_id == viewer_id, Mute.target_account_id.in_(ids), active_mute()))
    for row in mute_rows:
        r = found[row.target_account_id]
        r.muting, r.muting_notifications, r.muting_expires_at = True, row.hide_notifications, row.expires_at
    return found


async def for_account(session: AsyncSession, viewer_id: int, account_id: int) -> Relationship:
    return (await for_accounts(session, viewer_id, [account_id]))[account_id]


async def visible_ids(session: AsyncSession, account_ids: list[int], *, with_suspended: bool = False) -> list[int]:
    """The ids among `account_ids` that name accounts others may see, in the order asked, each once."""
    wanted = [i for i in dict.fromkeys(account_ids) if 0 < i <= MAX_ID]
    if not wanted:
        return []
    condition = known() if with_suspended else listable()
    rows = await session.execute(sa_select(Account.id).where(Account.id.in_(wanted), condition))
    present = set(rows.scalars())
    return [i for i in wanted if i in present]


async def pair_lock(session: AsyncSession, a_id: int, b_id: int) -> None:
    """Serialise writes about the same two accounts until the transaction ends, so a
    follow racing a block cannot leave a follow behind the block."""
    low, high = sorted((a_id, b_id))
    key = (low * 1_000_003 + high) % (2**63 - 1)  # collisions only make unrelated pairs wait
    await session.execute(sa_select(func.pg_advisory_xact_lock(key)))


async def list_for(session: AsyncSession, viewer_id: int, account_ids: list[int], *,
                   with_suspended: bool = False) -> list[Relationship]:
    """Relationships to the known accounts among `account_ids` (unknown ones are skipped), in order."""
    ids = await visible_ids(session, account_ids, with_suspended=with_suspended)
    found = await for_accounts(session, viewer_id, ids)
    return [found[i] for i in ids]
