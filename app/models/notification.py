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

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, ForeignKey, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.models.base import fk, id_field, timestamp

TYPES = ("mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update", "admin.sign_up")


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
    # Held back by the recipient's filtering policy (NotificationPolicy): kept, but out of the
    # lists, counts and streams until the recipient accepts the sender's request.
    filtered: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    created_at: datetime = timestamp(now=True)


POLICY_ACTIONS = ("accept", "filter", "drop")


def _policy_column(default: str):
    return Field(default=default, sa_column=Column(
        Text, nullable=False, server_default=text(f"'{default}'")))


class NotificationPolicy(SQLModel, table=True):
    """What happens to notifications from senders in each category (Mastodon's defaults):
    `accept` them, `filter` them (kept, held back), or `drop` them (never made). A recipient
    without a row has the defaults."""

    __tablename__ = "notification_policies"
    __table_args__ = tuple(
        CheckConstraint(f"{column} IN ('accept', 'filter', 'drop')", name=f"ck_notification_policies_{column}")
        for column in ("for_not_following", "for_not_followers", "for_new_accounts", "for_private_mentions",
                       "for_limited_accounts"))

    account_id: int = Field(sa_column=Column(BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"),
                                             primary_key=True))
    for_not_following: str = _policy_column("accept")
    for_not_followers: str = _policy_column("accept")
    for_new_accounts: str = _policy_column("accept")
    for_private_mentions: str = _policy_column("filter")
    for_limited_accounts: str = _policy_column("filter")
    updated_at: datetime = timestamp(now=True)


class NotificationRequest(SQLModel, table=True):
    """Filtered mentions from one sender, waiting for the recipient to accept or dismiss them.
    How many and the newest are read from the filtered notifications themselves, so a
    notification dismissed or a post deleted since is never counted; a request holding none
    any more is not shown."""

    __tablename__ = "notification_requests"
    __table_args__ = (UniqueConstraint("account_id", "from_account_id", name="ux_notification_requests_sender"),)

    id: int | None = id_field()
    account_id: int = fk("accounts.id", index=False)  # the recipient
    from_account_id: int = fk("accounts.id")
    created_at: datetime = timestamp(now=True)
    updated_at: datetime = timestamp(now=True)


class NotificationPermission(SQLModel, table=True):
    """The recipient accepted this sender's request: their notifications are never filtered."""

    __tablename__ = "notification_permissions"

    account_id: int = Field(sa_column=Column(BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"),
                                             primary_key=True))
    from_account_id: int = Field(sa_column=Column(BigInteger, ForeignKey("accounts.id", ondelete="CASCADE"),
                                                  primary_key=True, index=True))
    created_at: datetime = timestamp(now=True)


class NotificationSweep(SQLModel, table=True):
    """How far a periodic check has looked (poll expiry: every poll that ended up to
    `swept_until` has had its notifications deferred)."""

    __tablename__ = "notification_sweeps"

    name: str = Field(sa_column=Column(Text, primary_key=True))
    swept_until: datetime = timestamp(now=True)
