"""Lists: named groups of followed accounts with their own timeline."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import fk, id_field, timestamp

REPLIES_POLICIES = ("followed", "list", "none")


class List(SQLModel, table=True):
    __tablename__ = "lists"

    id: int | None = id_field()
    account_id: int = fk("accounts.id")  # the owner
    title: str = Field(max_length=255)
    replies_policy: str = Field(default="list", max_length=16)
    # Members' posts leave the home timeline (they are read in this list instead).
    exclusive: bool = False
    created_at: datetime = timestamp(now=True)
    updated_at: datetime = timestamp(now=True)


class ListAccount(SQLModel, table=True):
    """A member of a list. Tied to the owner's follow of the member, or to the owner's pending
    request to follow them (moved to the follow when it is accepted), as in Mastodon:
    unfollowing, or the request being withdrawn or rejected, removes the account from every
    list of the owner (the row's delete cascades). The owner may be a member of their own list,
    with neither."""

    __tablename__ = "list_accounts"
    __table_args__ = (UniqueConstraint("list_id", "account_id"),)

    id: int | None = id_field()
    list_id: int = fk("lists.id", index=False)  # the unique index covers it
    account_id: int = fk("accounts.id")
    follow_id: int | None = Field(default=None, sa_column=Column(
        BigInteger, ForeignKey("follows.id", ondelete="CASCADE"), nullable=True, index=True))
    follow_request_id: int | None = Field(default=None, sa_column=Column(
        BigInteger, ForeignKey("follow_requests.id", ondelete="CASCADE"), nullable=True, index=True))
    created_at: datetime = timestamp(now=True)
