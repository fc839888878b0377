"""The one bridge from the app to the workers: enqueue by actor name.

Side effects that a committed change implies go through ``defer``: it writes an
``outbox_jobs`` row in the caller's transaction and enqueues the Dramatiq message
after commit (in a request, once its answer is out: app/after_response.py). If the
process dies in between, the worker's sweeper finds the row and enqueues it again,
so no committed work is lost. Actors delete their row when
done and must be idempotent.

Most actors share the "default" queue; the few that someone is watching for (a
notification on an open stream) have their own, PROMPT_QUEUE, so that a burst of slow
jobs (fan-outs of big accounts) never stands in front of them. The worker consumes both.
Enqueueing wakes idle workers at once (app/broker.py) instead of leaving them to poll.
"""
from __future__ import annotations

import asyncio
from typing import Any

import dramatiq
from dramatiq.message import Message
from dramatiq.middleware import AsyncIO
from psycopg.types.json import Json
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from app import after_response, db
from app.broker import WakingRedisBroker
from app.models import OutboxJob
from app.models.base import utcnow

QUEUE = "default"
PROMPT_QUEUE = "prompt"
# Actors on PROMPT_QUEUE, by name (the web process enqueues by name, without the actors loaded).
_PROMPT_ACTORS = frozenset({"notify"})
_broker: WakingRedisBroker | None = None


def queue_for(actor_name: str) -> str:
    """The queue an actor is declared on and its messages are enqueued to."""
    return PROMPT_QUEUE if actor_name in _PROMPT_ACTORS else QUEUE


def setup_broker(redis_url: str, namespace: str = "dramatiq") -> WakingRedisBroker:
    """Create the Redis broker and make it Dramatiq's global one (before actors load)."""
    global _broker
    _broker = WakingRedisBroker(url=redis_url, namespace=namespace)
    _broker.add_middleware(AsyncIO())
    dramatiq.set_broker(_broker)
    return _broker


def broker() -> WakingRedisBroker:
    if _broker is None:
        raise RuntimeError("broker not set up: call app.jobs.setup_broker() first")
    return _broker


def message(actor_name: str, **kwargs: Any) -> Message:
    return Message(queue_name=queue_for(actor_name), actor_name=actor_name, args=(), kwargs=kwargs, options={})


def enqueue(actor_name: str, **kwargs: Any) -> None:
    """Enqueue now, outside any transaction (for work that may be lost harmlessly)."""
    broker().enqueue(message(actor_name, **kwargs))


def enqueue_rows(rows: list[OutboxJob]) -> None:
    """Enqueue outbox rows' messages (synchronous Redis calls: run it off the event loop)."""
    broker().enqueue_all([message(row.actor_name, outbox_id=row.id, **row.kwargs) for row in rows])


async def _enqueue_rows(rows: list[OutboxJob]) -> None:
    # One trip to a thread for all of a commit's rows: the Redis client is synchronous.
    await asyncio.to_thread(enqueue_rows, rows)


async def _enqueue_after_response(rows: list[OutboxJob]) -> None:
    # A request answers first: the rows are committed, and the sweeper enqueues any whose
    # message never was, so the answer need not wait for the broker's two round trips.
    await after_response.soon(lambda: _enqueue_rows(rows))


# Sent with the COMMIT of the transaction that defers (db.commit_with): one round trip less
# than an ORM flush before it.
_INSERT_OUTBOX = text("INSERT INTO outbox_jobs (actor_name, kwargs, created_at, enqueued_at) "
                      "VALUES (:actor_name, :kwargs, :created_at, :enqueued_at) RETURNING id")


def defer(session: AsyncSession, actor_name: str, **kwargs: Any) -> OutboxJob:
    """Record a side effect in the current transaction; enqueue it after commit. The row is
    written with the COMMIT: the returned OutboxJob has its id once committed."""
    row = OutboxJob(actor_name=actor_name, kwargs=kwargs, enqueued_at=utcnow())
    params = {"actor_name": actor_name, "kwargs": Json(kwargs), "created_at": row.created_at,
              "enqueued_at": row.enqueued_at}
    db.commit_with(session, _INSERT_OUTBOX, params, lambda rows: setattr(row, "id", rows[0][0]))
    pending: list[OutboxJob] = session.info.setdefault("outbox_rows", [])
    if not pending:
        db.after_commit(session, lambda: _enqueue_after_response(session.info.pop("outbox_rows", [])))
    pending.append(row)
    return row
