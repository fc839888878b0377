"""Home feeds in Redis: the write side's hooks. See docs/feeds.md for the whole design.

Called inside the transaction that makes the change, each hook records a job with
app.jobs.defer, so the feed work happens once the change commits, even if this
process dies right after (the outbox sweeper re-enqueues it):

    feeds.status_created(session, status)    # a post or a boost: fan out
    feeds.status_deleted(session, status)    # out of every feed (its boosts too)
    feeds.status_edited(session, status)     # `status.update` on the home streams holding it
    feeds.followed(session, follower_id, target_id)     # merge the followed account's posts
    feeds.unfollowed(session, follower_id, target_id)   # and take them out again
    feeds.rebuild_requested(session, account_id)        # a reader found no live feed
    feeds.hidden(session, account_id, target_id)        # a mute or block: `delete` on the home stream

The modules: store (Redis keys and scripts), audience (who receives a post),
sources (home and list timelines from PostgreSQL), fanout (what the actors run).
Reading the home timeline is app.services.timelines.
"""
from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from app import jobs
from app.models import Status

DISTRIBUTE = "feeds_distribute"
WITHDRAW = "feeds_withdraw"
ANNOUNCE_EDIT = "feeds_announce_edit"
MERGE = "feeds_merge"
UNMERGE = "feeds_unmerge"
REBUILD = "feeds_rebuild"
HIDE = "feeds_hide"


def status_created(session: AsyncSession, status: Status) -> None:
    jobs.defer(session, DISTRIBUTE, status_id=status.id)


def status_deleted(session: AsyncSession, status: Status) -> None:
    jobs.defer(session, WITHDRAW, status_id=status.id)


def status_edited(session: AsyncSession, status: Status) -> None:
    jobs.defer(session, ANNOUNCE_EDIT, status_id=status.id)


def followed(session: AsyncSession, follower_id: int, target_id: int) -> None:
    jobs.defer(session, MERGE, account_id=follower_id, target_id=target_id)


def unfollowed(session: AsyncSession, follower_id: int, target_id: int) -> None:
    jobs.defer(session, UNMERGE, account_id=follower_id, target_id=target_id)


def rebuild_requested(session: AsyncSession, account_id: int) -> None:
    jobs.defer(session, REBUILD, account_id=account_id)


def hidden(session: AsyncSession, account_id: int, target_id: int, *, severed: bool = False) -> None:
    """`severed`: a block, which also ends the follows (docs/feeds.md)."""
    jobs.defer(session, HIDE, account_id=account_id, target_id=target_id, severed=severed)
