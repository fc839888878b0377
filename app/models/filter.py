"""Filters: a user's named groups of keywords and statuses to warn about, hide or blur
where they read (Mastodon's CustomFilter, CustomFilterKeyword, CustomFilterStatus)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from app.models.base import fk, id_field, timestamp

# Where a filter applies: home (and lists), notifications, public (and hashtags), thread, account.
FILTER_CONTEXTS = ("home", "notifications", "public", "thread", "account")
FILTER_ACTIONS = ("warn", "hide", "blur")


class CustomFilter(SQLModel, table=True):
    __tablename__ = "custom_filters"

    id: int | None = id_field()
    account_id: int = fk("accounts.id")  # the owner
    title: str = Field(sa_type=Text)
    context: list[str] = Field(sa_column=Column(ARRAY(Text), nullable=False))
    filter_action: str = Field(default="warn", max_length=16)
    expires_at: datetime | None = timestamp()
    created_at: datetime = timestamp(now=True)
    updated_at: datetime = timestamp(now=True)


class CustomFilterKeyword(SQLModel, table=True):
    __tablename__ = "custom_filter_keywords"

    id: int | None = id_field()
    custom_filter_id: int = fk("custom_filters.id")
    keyword: str = Field(sa_type=Text)
    whole_word: bool = True
    created_at: datetime = timestamp(now=True)
    updated_at: datetime = timestamp(now=True)


class CustomFilterStatus(SQLModel, table=True):
    __tablename__ = "custom_filter_statuses"
    __table_args__ = (UniqueConstraint("custom_filter_id", "status_id"),)

    id: int | None = id_field()
    custom_filter_id: int = fk("custom_filters.id", index=False)  # the unique index covers it
    status_id: int = fk("statuses.id")  # indexed: a deleted status takes its rows along
    created_at: datetime = timestamp(now=True)
