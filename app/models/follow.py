"""The social graph: follows, follow requests, blocks and mutes (account -> target account)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.models.base import fk, id_field, timestamp

# "All languages" is SQL NULL, not the JSON `null` SQLAlchemy writes for None by default: the
# fan-out and the home rules test `languages IS NULL`, and JSON `null` read as "no language at
# all" (a follow made without languages then got no post that had one).
ALL_LANGUAGES_IS_NULL = JSON(none_as_null=True)


class Follow(SQLModel, table=True):
    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("account_id", "target_account_id"),
        # A post's bell subscribers (notify): few, found without reading all the author's follows.
        Index("ix_follows_notify_subscribers", "target_account_id", postgresql_where=text("notify IS TRUE")),
    )

    id: int | None = id_field()
    account_id: int = fk("accounts.id", index=False)  # the follower (the unique index covers it)
    target_account_id: int = fk("accounts.id")
    show_reblogs: bool = True
    notify: bool = False
    languages: list[str] | None = Field(default=None, sa_column=Column(ALL_LANGUAGES_IS_NULL, nullable=True))
    uri: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = timestamp(now=True)


class FollowRequest(SQLModel, table=True):
    __tablename__ = "follow_requests"
    __table_args__ = (UniqueConstraint("account_id", "target_account_id"),)

    id: int | None = id_field()
    account_id: int = fk("accounts.id", index=False)
    target_account_id: int = fk("accounts.id")
    show_reblogs: bool = True
    notify: bool = False
    languages: list[str] | None = Field(default=None, sa_column=Column(ALL_LANGUAGES_IS_NULL, nullable=True))
    uri: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = timestamp(now=True)


class Block(SQLModel, table=True):
    __tablename__ = "blocks"
    __table_args__ = (UniqueConstraint("account_id", "target_account_id"),)

    id: int | None = id_field()
    account_id: int = fk("accounts.id", index=False)
    target_account_id: int = fk("accounts.id")
    uri: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = timestamp(now=True)


class Mute(SQLModel, table=True):
    __tablename__ = "mutes"
    __table_args__ = (UniqueConstraint("account_id", "target_account_id"),)

    id: int | None = id_field()
    account_id: int = fk("accounts.id", index=False)
    target_account_id: int = fk("accounts.id")
    hide_notifications: bool = True
    expires_at: datetime | None = timestamp()
    created_at: datetime = timestamp(now=True)
