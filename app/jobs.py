"""The one bridge from the app to the workers: enqueue by actor name.

Side effects that a committed change implies go through ``defer``: it writes an
``outbox_jobs`` row in the caller's transaction and enqueues the Dramatiq message
after commit. If the process dies in between, the worker's sweeper finds the row
and enqueues it again, so no committed work is lost. Actors delete their row when
done and must be idempotent.
"""
from __future__ import annotations

import asyncio
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.message import Message
from dramatiq.middleware import AsyncIO
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.models import OutboxJob
from app.models.base import utcnow

QUEUE = "default"
_broker: RedisBroker | None = None


def setup_broker(redis_url: str, namespace: str = "dramatiq") -> RedisBroker:
    """Create the Redis broker and make it Dramatiq's global one (before actors load)."""
    global _broker
    _broker = RedisBroker(url=redis_url, namespace=namespace)
    _broker.add_middleware(AsyncIO())
    dramatiq.set_broker(_broker)
    return _broker


def broker() -> RedisBroker:
    if _broker is None:
        raise RuntimeError("broker not set up: call app.jobs.setup_broker() first")
    return _broker


def enqueue(actor_name: str, **kwargs: Any) -> None:
    """Enqueue now, outside any transaction (for work that may be lost harmlessly)."""
    message = Message(queue_name=QUEUE, actor_name=actor_name, args=(), kwargs=kwargs, options={})
    broker().enqueue(message)


async def _enqueue_rows(rows: list[OutboxJob]) -> None:
    for row in rows:
        # The Redis client is synchronous; keep it off the event loop.
        await asyncio.to_thread(enqueue, row.actor_name, outbox_id=row.id, **row.kwargs)


def defer(session: AsyncSession, actor_name: str, **kwargs: Any) -> OutboxJob:
    """Record a side effect in the current transaction; enqueue it after commit."""
    row = OutboxJob(actor_name=actor_name, kwargs=kwargs, enqueued_at=utcnow())
    session.add(row)
    pending: list[OutboxJob] = session.info.setdefault("outbox_rows", [])
    if not pending:
        db.after_commit(session, lambda: _enqueue_rows(session.info.pop("outbox_rows", [])))
    pending.append(row)
    return row
