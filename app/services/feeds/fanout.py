"""Writing home feeds: what the feed actors (workers/feeds.py) do. Each is idempotent:
running it again adds or removes nothing more.

    await fanout.distribute(status_id)              # a new post or boost -> followers' feeds
    await fanout.withdraw(status_id)                # a deleted post (and its boosts) -> out of feeds
    await fanout.merge(account_id, target_id)       # just followed: their recent posts come in
    await fanout.unmerge(account_id, target_id)     # unfollowed: their posts go
    await fanout.rebuild(account_id)                # a feed rebuilt from PostgreSQL
"""
from __future__ import annotations

from typing import Awaitable, Callable

from sqlalchemy import text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.config import get_settings
from app.models import Account, Status
from app.services.feeds import audience, sources, store
from app.services.feeds.store import Window


# Given the status being fanned out, what to publish to each receiver's streaming
# channel: (channel prefix, message), or None. The worker renders it (services do not
# render API entities); it is computed once per status, before the fan-out.
Announcement = Callable[[AsyncSession, Status], Awaitable[tuple[str, str] | None]]


async def _silent(session: AsyncSession, status: Status) -> None:
    return None


async def distribute(status_id: int, announcement: Announcement = _silent) -> int:
    """Fan a status out to its author's feed and its followers' live feeds. Returns how many feeds got it."""
    settings = get_settings()
    async with db.session() as session:
        status = await session.get(Status, status_id)
        if status is None or status.deleted_at is not None:
            return 0
        author = await session.get(Account, status.account_id)
        if author is None or author.suspended_at is not None:
            return 0
        received = 0
        announce = await announcement(session, status)
        if author.domain is None:
            own = await store.fan_out([author.id], status.id, status.reblog_of_id, own=True, announce=announce)
            received += len(own)
        # Hybrid push/pull: a very followed account is read at read time instead (docs/feeds.md).
        if author.followers_count <= settings.fanout_pull_threshold:
            async for batch in audience.followers(session, status, settings.fanout_batch_size):
                added = await store.fan_out(batch, status.id, status.reblog_of_id, announce=announce)
                received += len(added)
        return received


async def withdraw(status_id: int) -> int:
    """Take a deleted status and every boost of it out of the feeds that may hold them."""
    async with db.session() as session:
        gone = (await session.exec(select(Status).where(
            (Status.id == status_id) | (Status.reblog_of_id == status_id)))).all()
        removed = 0
        for status in gone:
            if status.deleted_at is None:
                continue  # still there (the job ran for an older delete of something else)
            owners = [status.account_id]
            rows = await session.execute(text(
                "SELECT f.account_id FROM follows f JOIN users u ON u.account_id = f.account_id "
                "WHERE f.target_account_id = :author"), {"author": status.account_id})
            owners += [r[0] for r in rows]
            batch = get_settings().fanout_batch_size
            for start in range(0, len(owners), batch):
                removed += await store.remove(owners[start:start + batch], [status.id])
        return removed


async def merge(account_id: int, target_id: int) -> int:
    """Bring a newly followed account's recent posts into a live feed (Mastodon merges them too)."""
    floor = await store.floor_of(account_id)
    if floor is None:
        return 0  # no live feed: the next read rebuilds it with this follow in
    async with db.session() as session:
        target = await session.get(Account, target_id)
        if target is None or target.followers_count > get_settings().fanout_pull_threshold:
            return 0  # pulled at read time anyway
        rows = await sources.home(session, account_id, Window(since_id=floor - 1 if floor else None),
                                  get_settings().feed_max_items, follows="one", target_id=target_id)
    return await store.fill(account_id, rows)


async def unmerge(account_id: int, target_id: int) -> int:
    """Take an unfollowed account's posts and boosts out of a feed."""
    feed_ids = await store.ids(account_id)
    if not feed_ids:
        return 0
    async with db.session() as session:
        theirs = (await session.exec(select(Status.id).where(
            Status.id.in_(feed_ids), Status.account_id == target_id))).all()
    return await store.remove([account_id], list(theirs))


async def rebuild(account_id: int) -> int:
    """Refill a feed from PostgreSQL (a returning user, a lost Redis): the newest feed_max_items
    entries of the accounts fanned out on write. How many went in."""
    count = get_settings().feed_max_items
    await store.start_building(account_id)
    async with db.session() as session:
        rows = await sources.home(session, account_id, Window(), count, follows="pushed")
    added = await store.fill(account_id, rows)
    # Fewer rows than asked: the feed holds everything there is; else only from its oldest row.
    await store.finish_building(account_id, min(r[0] for r in rows) if len(rows) >= count else 0)
    return added
