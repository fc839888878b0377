"""Notifications: one row per (recipient, type, activity), made by the notify worker.

The activity that caused a notification is named twice on purpose:
- `activity_id` with `type` and `account_id` is the idempotency key (unique), so a
  job that runs twice inserts one row;
- the nullable foreign keys (`follow_id`, `favourite_id`...) cascade: when the
  follow, favourite, request or mention row goes (unfollow, unfavourite, request
  accepted or rejected), its notification goes with it, as in Mastodon.
`status_id` is the status the notification is about (for a reblog: the boost
itself, whose `reblog_of_id` is the boosted post), used to hide notifications
whose status the recipient may no longer see.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.models.base import fk, id_field, timestamp

TYPES = ("mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update")


def _cascading(target: str):
    return Field(default=None, sa_column=Column(BigInteger, ForeignKey(target, ondelete="CASCADE"), nullable=True))


class Notification(SQLModel, table=True):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("account_id", "type", "activity_id", name="ux_notifications_activity"),
        Index("ix_notifications_account_id_id", "account_id", text("id DESC")),
        Index("ix_notifications_account_id_from_account_id_id", "account_id", "from_account_id", text("id DESC")),
        Index("ix_notifications_account_id_group_key", "account_id", "group_key",
              postgresql_where=text("group_key IS NOT NULL")),
        # Cascading deletes look rows up by these.
        *(Index(f"ix_notifications_{column}", column, postgresql_where=text(f"{column} IS NOT NULL"))
          for column in ("status_id", "mention_id", "follow_id", "follow_request_id", "favourite_id", "poll_id")),
    )

    id: int | None = id_field()
    account_id: int = fk("accounts.id", index=False)  # the recipient
    from_account_id: int = fk("accounts.id")
    type: str = Field(max_length=32)
    activity_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    status_id: int | None = _cascading("statuses.id")
    mention_id: int | None = _cascading("status_mentions.id")
    follow_id: int | None = _cascading("follows.id")
    follow_request_id: int | None = _cascading("follow_requests.id")
    favourite_id: int | None = _cascading("favourites.id")
    poll_id: int | None = _cascading("polls.id")
    group_key: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = timestamp(now=True)


class NotificationSweep(SQLModel, table=True):
    """How far a periodic check has looked (poll expiry: every poll that ended up to
    `swept_until` has had its notifications deferred)."""

    __tablename__ = "notification_sweeps"

    name: str = Field(sa_column=Column(Text, primary_key=True))
    swept_until: datetime = timestamp(now=True)
