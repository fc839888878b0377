"""Instance-wide data: server rules and the transactional outbox of side effects."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from app.models.base import id_field, timestamp


class Rule(SQLModel, table=True):
    __tablename__ = "instance_rules"

    id: int | None = id_field()
    text: str = Field(sa_type=Text)
    hint: str = Field(default="", sa_type=Text)
    position: int = 0
    created_at: datetime = timestamp(now=True)
    deleted_at: datetime | None = timestamp()


class OutboxJob(SQLModel, table=True):
    """A side effect committed together with the change that implies it.

    app.jobs enqueues it to Dramatiq after commit; the sweeper re-enqueues rows
    whose process died first. The actor deletes the row when it has done the work.
    """

    __tablename__ = "outbox_jobs"

    id: int | None = id_field()
    actor_name: str = Field(max_length=128)
    kwargs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = timestamp(now=True)
    enqueued_at: datetime | None = timestamp()
