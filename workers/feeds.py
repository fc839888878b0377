"""Home-feed actors: fan-out on write, withdrawal of deleted posts, merge/unmerge on
(un)follow, rebuilds. The work itself is app.services.feeds.fanout; every actor is
idempotent, so a redelivered or re-swept message changes nothing twice."""
from __future__ import annotations

import dramatiq
from sqlmodel.ext.asyncio.session import AsyncSession

from app.api.entities.status import render_status
from app.models import Status
from app.services import feeds, streaming
from app.services.feeds import fanout
from workers.runtime import finish, still_pending

RETRIES = dict(max_retries=10, min_backoff=1_000, max_backoff=300_000)


async def announcement(session: AsyncSession, status: Status) -> tuple[str, str]:
    """The `update` event for the user stream of each account whose feed receives the status.
    Rendered once for everyone: the per-viewer flags of a status nobody has interacted
    with yet are all false."""
    data = await render_status(session, status, None)
    for shown in (data, data.get("reblog")):
        if shown is not None:
            shown.update(favourited=False, reblogged=False, muted=False, bookmarked=False)
    accounts = [status.account_id] + ([data["reblog"]["account"]["id"]] if data.get("reblog") else [])
    prefix = streaming.user_channel("")  # the script appends each receiver's account id
    assert streaming.user_channel(status.account_id) == f"{prefix}{status.account_id}"
    return prefix, streaming.encode("update", data, accounts)


@dramatiq.actor(actor_name=feeds.DISTRIBUTE, **RETRIES)
async def distribute(status_id: int, outbox_id: int | None = None) -> None:
    if not await still_pending(outbox_id):
        return
    await fanout.distribute(status_id, announcement)
    await finish(outbox_id)


@dramatiq.actor(actor_name=feeds.WITHDRAW, **RETRIES)
async def withdraw(status_id: int, outbox_id: int | None = None) -> None:
    if not await still_pending(outbox_id):
        return
    await fanout.withdraw(status_id)
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
