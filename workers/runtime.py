"""What a worker process needs: settings, database, Redis, broker and actors."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import delete, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db, jobs
from app import redis as app_redis
from app.config import Settings, configure, get_settings
from app.models import OutboxJob
from app.models.base import utcnow
from app.services import token_owners


def load_actors() -> None:
    """Import every actor module so Dramatiq knows the actor names."""
    import workers.email  # noqa: F401
    import workers.feeds  # noqa: F401
    import workers.media  # noqa: F401
    import workers.notifications  # noqa: F401
    import workers.preview_cards  # noqa: F401
    import workers.search  # noqa: F401
    import workers.streaming  # noqa: F401


async def sweep_outbox_once(stale_after: timedelta | None = None) -> int:
    """Re-enqueue outbox rows whose first enqueue was lost (or is failing): those enqueued more
    than `stale_after` ago (settings.outbox_stale_seconds, two minutes by default). Returns how many."""
    if stale_after is None:
        stale_after = timedelta(seconds=get_settings().outbox_stale_seconds)
    cutoff = utcnow() - stale_after
    async with db.session() as session:
        rows = (
            await session.exec(
                select(OutboxJob).where(OutboxJob.enqueued_at < cutoff).limit(500).with_for_update(skip_locked=True)
            )
        ).all()
        if rows:
            await asyncio.to_thread(jobs.enqueue_rows, list(rows))
            await session.execute(
                update(OutboxJob).where(OutboxJob.id.in_([r.id for r in rows])).values(enqueued_at=utcnow())
            )
    return len(rows)


async def finish(outbox_id: int | None) -> None:
    """An actor calls this when its work is done: the outbox row goes."""
    if outbox_id is None:
        return
    async with db.session() as session:
        await session.execute(delete(OutboxJob).where(OutboxJob.id == outbox_id))


async def claim(session: AsyncSession, outbox_id: int | None) -> bool:
    """Take the job's outbox row inside `session`'s transaction, for an actor whose work is
    all in that transaction: the row goes exactly when the work commits (a crash rolls both
    back, and the sweeper finds the row again). False when another delivery already did the
    work; a concurrent one waits on the row's lock and then finds it gone."""
    if outbox_id is None:
        return True
    deleted = await session.execute(delete(OutboxJob).where(OutboxJob.id == outbox_id).returning(OutboxJob.id))
    return deleted.first() is not None


async def still_pending(outbox_id: int | None) -> bool:
    """False when another delivery of the same message already did the work."""
    if outbox_id is None:
        return True
    async with db.session() as session:
        return (await session.get(OutboxJob, outbox_id)) is not None


def boot(settings: Settings) -> None:
    """Connect this process (a `starling worker`) to the database, Redis and broker."""
    configure(settings)
    db.connect(settings.database_url, pool_size=5)
    app_redis.connect(settings.redis_url, settings.feeds_redis_url)
    token_owners.watch_changes()  # workers change accounts too: web processes must hear of it
    jobs.setup_broker(settings.redis_url)
    load_actors()
