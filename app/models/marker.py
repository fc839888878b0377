"""Markers: where a user stopped reading a timeline (home, notifications)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import fk, id_field, timestamp

TIMELINES = ("home", "notifications")


class Marker(SQLModel, table=True):
    __tablename__ = "markers"
    __table_args__ = (UniqueConstraint("account_id", "timeline"),)

    id: int | None = id_field()
    account_id: int = fk("accounts.id", index=False)  # the unique index covers it
    timeline: str = Field(max_length=32)
    last_read_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    version: int = 0  # goes up by one on every save, as Mastodon's lock_version
    updated_at: datetime = timestamp(now=True)
