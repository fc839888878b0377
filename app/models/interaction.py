"""What an account does to a status: favourite, bookmark, pin, mute its conversation."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import fk, id_field, timestamp


class Favourite(SQLModel, table=True):
    __tablename__ = "favourites"
    __table_args__ = (UniqueConstraint("account_id", "status_id"),)

    id: int | None = id_field()
    account_id: int = fk("accounts.id", index=False)
    status_id: int = fk("statuses.id")
    uri: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = timestamp(now=True)


class Bookmark(SQLModel, table=True):
    __tablename__ = "bookmarks"
    __table_args__ = (UniqueConstraint("account_id", "status_id"),)

    id: int | None = id_field()
    account_id: int = fk("accounts.id", index=False)
    status_id: int = fk("statuses.id")
    created_at: datetime = timestamp(now=True)


class StatusPin(SQLModel, table=True):
    __tablename__ = "status_pins"
    __table_args__ = (UniqueConstraint("account_id", "status_id"),)

    id: int | None = id_field()
    account_id: int = fk("accounts.id", index=False)
    status_id: int = fk("statuses.id")
    created_at: datetime = timestamp(now=True)


class ConversationMute(SQLModel, table=True):
    __tablename__ = "conversation_mutes"
    __table_args__ = (UniqueConstraint("account_id", "conversation_id"),)

    id: int | None = id_field()
    account_id: int = fk("accounts.id", index=False)
    conversation_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = timestamp(now=True)
