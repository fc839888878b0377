"""Column helpers shared by every table.

IDs are snowflakes made by the database function ``starling_id()`` (milliseconds
since the epoch << 16 | a sequence), so they sort by creation time and stay
unique across any number of processes.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, text
from sqlmodel import Field


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def id_field() -> Any:
    return Field(
        default=None,
        sa_column=Column(BigInteger, primary_key=True, server_default=text("starling_id()")),
    )


def fk(target: str, *, nullable: bool = False, index: bool = True, ondelete: str = "CASCADE") -> Any:
    return Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index),
    )


def timestamp(*, nullable: bool = True, now: bool = False) -> Any:
    if now:
        return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)
    return Field(default=None, sa_type=DateTime(timezone=True), nullable=nullable)
