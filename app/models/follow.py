"""The social graph: follows, follow requests, blocks and mutes (account -> target account)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import fk, id_field, timestamp


class Follow(SQLModel, table=True):
    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("account_id", "target_account_id"),)

    id: int | None = id_field()
    account_id: int = fk("accounts.id", index=False)  # the follower (the unique index covers it)
    target_account_id: int = fk("accounts.id")
    show_reblogs: bool = True
    notify: bool = False
    languages: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
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
    languages: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
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
