"""Home-feed actors: fan-out on write, withdrawal of deleted posts, merge/unmerge on
(un)follow, rebuilds. The work itself is app.services.feeds.fanout; every actor is
idempotent, so a redelivered or re-swept message changes nothing twice."""
from __future__ import annotations

import dramatiq
from sqlmodel.ext.asyncio.session import AsyncSession

from app.api.entities.status import render_status
from app.models import Account, Status
from app.services import feeds, streaming
from app.services.feeds import fanout
from workers.runtime import claim, finish, still_pending

# Feed jobs can be long (a fan-out to 100,000 followers): jobs of other actors waiting in the
# same worker go first (Dramatiq runs lower priority numbers first; the default is 0).
RETRIES = dict(max_retries=10, min_backoff=1_000, max_backoff=300_000, priority=10)


async def announcement(session: AsyncSession, status: Status, event: str = "update") -> str:
    """The `update` event for the home stream of each receiver that has one open, encoded once
    for all of them: the per-viewer flags of a status nobody has interacted with yet are all
    false, it trips no filter and its poll is not voted in (the fan-out renders for each
    receiver who did interact, who has filters, or who wrote it)."""
    data = await render_status(session, status, None)
    for shown in (data, data.get("reblog")):
        if shown is not None:
            shown.update(favourited=False, reblogged=False, muted=False, bookmarked=False, filtered=[])
            if shown.get("poll") is not None:
                shown["poll"].update(voted=False, own_votes=[])
    return streaming.encode(event, data, _authors(status, data))


async def edit_shared_announcement(session: AsyncSession, status: Status) -> str:
    """An edit's `status.update`, once for the receivers who never touched the post, as above."""
    return await announcement(session, status, "status.update")


async def viewer_announcement(session: AsyncSession, status: Status, viewer_id: int,
                              event: str = "update") -> str | None:
    """The event for one receiver, rendered for them: a boosted or edited post may be one they
    favourited or bookmarked, and clients show what this says."""
    viewer = await session.get(Account, viewer_id)
    if viewer is None:
        return None
    data = await render_status(session, status, viewer)
    return streaming.encode(event, data, _authors(status, data))


async def edit_announcement(session: AsyncSession, status: Status, viewer_id: int) -> str | None:
    return await viewer_announcement(session, status, viewer_id, "status.update")


def _authors(status: Status, data: dict) -> list:
    """Who a rendered status is by (and the boosted post's author): what streams filter on."""
    return [status.account_id] + ([data["reblog"]["account"]["id"]] if data.get("reblog") else [])


@dramatiq.actor(actor_name=feeds.DISTRIBUTE, **RETRIES)
async def distribute(status_id: int, outbox_id: int | None = None) -> None:
    # The outbox row is taken in the fan-out's own transaction, which commits once every feed
    # is written: one database round trip instead of two sessions around it (this runs for
    # every post). Killed half-way, the transaction rolls back and the row stays for the sweeper.
    await fanout.distribute(status_id, announcement, claim=lambda session: claim(session, outbox_id),
                            announcement_for=viewer_announcement)


@dramatiq.actor(actor_name=feeds.WITHDRAW, **RETRIES)
async def withdraw(status_id: int, outbox_id: int | None = None) -> None:
    if not await still_pending(outbox_id):
        return
    await fanout.withdraw(status_id)
    await finish(outbox_id)


@dramatiq.actor(actor_name=feeds.ANNOUNCE_EDIT, **RETRIES)
async def announce_edit(status_id: int, outbox_id: int | None = None) -> None:
    if not await still_pending(outbox_id):
        return
    await fanout.announce_edit(status_id, edit_shared_announcement, edit_announcement)
    await finish(outbox_id)


@dramatiq.actor(actor_name=feeds.MERGE, **RETRIES)
async def merge(account_id: int, target_id: int, outbox_id: int | None = None) -> None:
    if not await still_pending(outbox_id):
        return
    await fanout.merge(account_id, target_id)
    await finish(outbox_id)


@dramatiq.actor(actor_name=feeds.UNMERGE, **RETRIES)
async def unmerge(account_id: int, target_id: int, outbox_id: int | None = None) -> None:
    if not await still_pending(outbox_id):
        return
    await fanout.unmerge(account_id, target_id)
    await finish(outbox_id)


@dramatiq.actor(actor_name=feeds.REBUILD, **RETRIES)
async def rebuild(account_id: int, outbox_id: int | None = None) -> None:
    if not await still_pending(outbox_id):
        return
    await fanout.rebuild(account_id)
    await finish(outbox_id)


@dramatiq.actor(actor_name=feeds.HIDE, **RETRIES)
async def hide(account_id: int, target_id: int, severed: bool = False, outbox_id: int | None = None) -> None:
    if not await still_pending(outbox_id):
        return
    await fanout.hide(account_id, target_id, severed)
    await finish(outbox_id)
