"""Statuses and what hangs off them: mentions, hashtags, edits, polls, tombstones."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Column, ForeignKey, Index, Text, UniqueConstraint, event, text
from sqlmodel import Field, SQLModel

from app.models.base import fk, id_field, timestamp
from app.text import hashtag_key

VISIBILITIES = ("public", "unlisted", "private", "direct")


def replies_to_another(status: "Status") -> bool:
    """A reply to someone else's post, or to a post unknown here (`reply` with no parent): kept
    off the public streams and from `notify` subscribers, as in Mastodon."""
    return status.reply and status.in_reply_to_account_id != status.account_id


class Status(SQLModel, table=True):
    __tablename__ = "statuses"
    __table_args__ = (
        Index("ix_statuses_account_id_id", "account_id", text("id DESC")),
        # One live boost per account and post.
        Index("ux_statuses_reblog", "account_id", "reblog_of_id", unique=True,
              postgresql_where=text("reblog_of_id IS NOT NULL AND deleted_at IS NULL")),
    )

    id: int | None = id_field()
    uri: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    url: str = Field(default="", sa_type=Text)
    local: bool = True
    account_id: int = fk("accounts.id", index=False)
    # No foreign key: a reply remembers its parent even after the parent is deleted (as Mastodon).
    in_reply_to_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))
    in_reply_to_account_id: int | None = fk("accounts.id", nullable=True, ondelete="SET NULL")
    # Written as a reply, even when its parent is unknown here (a remote post answering one this
    # server never saw: no in_reply_to_id, yet no top-level post either; Mastodon's `reply`).
    reply: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false")))
    reblog_of_id: int | None = fk("statuses.id", nullable=True)
    # The id of the thread's root post: muting a conversation and building context use it.
    conversation_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))
    application_id: int | None = fk("oauth_applications.id", nullable=True, index=False, ondelete="SET NULL")

    visibility: str = Field(default="public", max_length=16)
    text: str = Field(default="", sa_type=Text)  # source as typed (local posts)
    content: str = Field(default="", sa_type=Text)  # safe HTML
    spoiler_text: str = Field(default="", sa_type=Text)
    sensitive: bool = False
    language: str | None = Field(default=None, max_length=16)

    replies_count: int = 0
    reblogs_count: int = 0
    favourites_count: int = 0

    created_at: datetime = timestamp(now=True)
    updated_at: datetime = timestamp(now=True)
    edited_at: datetime | None = timestamp()
    deleted_at: datetime | None = timestamp()


class Mention(SQLModel, table=True):
    __tablename__ = "status_mentions"
    __table_args__ = (UniqueConstraint("status_id", "account_id"),)

    id: int | None = id_field()
    status_id: int = fk("statuses.id")
    account_id: int = fk("accounts.id")
    silent: bool = False  # a mention kept for addressing but not shown (e.g. after an edit removed it)


class Tag(SQLModel, table=True):
    __tablename__ = "tags"
    __table_args__ = (Index("ux_tags_key", "key", unique=True),
                      Index("ix_tags_key_prefix", "key", postgresql_ops={"key": "text_pattern_ops"}))

    id: int | None = id_field()
    name: str = Field(max_length=255)  # as first written
    # What it is matched by, whatever the spelling (app.text.hashtag_key): filled in from the name
    # when a Tag is added through the ORM (below); statements that insert tags give it themselves.
    key: str = Field(default="", max_length=255)
    created_at: datetime = timestamp(now=True)
    last_status_at: datetime | None = timestamp()


class StatusTag(SQLModel, table=True):
    __tablename__ = "status_tags"
    __table_args__ = (Index("ix_status_tags_tag_id_status_id", "tag_id", text("status_id DESC")),)

    status_id: int = Field(sa_column=Column(BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True))
    tag_id: int = Field(sa_column=Column(BigInteger, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True))


class StatusEdit(SQLModel, table=True):
    """One revision of a status, for GET /api/v1/statuses/:id/history."""

    __tablename__ = "status_edits"

    id: int | None = id_field()
    status_id: int = fk("statuses.id")
    account_id: int = fk("accounts.id", index=False)
    text: str = Field(default="", sa_type=Text)
    content: str = Field(default="", sa_type=Text)
    spoiler_text: str = Field(default="", sa_type=Text)
    sensitive: bool = False
    media_attachment_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))
    poll_options: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = timestamp(now=True)


class Poll(SQLModel, table=True):
    __tablename__ = "polls"

    id: int | None = id_field()
    status_id: int = Field(sa_column=Column(BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False, unique=True))
    account_id: int = fk("accounts.id", index=False)
    options: list[str] = Field(sa_column=Column(JSON, nullable=False))
    multiple: bool = False
    hide_totals: bool = False
    expires_at: datetime | None = timestamp()
    votes_count: int = 0
    voters_count: int = 0
    created_at: datetime = timestamp(now=True)
    updated_at: datetime = timestamp(now=True)


class PollVote(SQLModel, table=True):
    __tablename__ = "poll_votes"
    __table_args__ = (UniqueConstraint("poll_id", "account_id", "choice"),)

    id: int | None = id_field()
    poll_id: int = fk("polls.id")
    account_id: int = fk("accounts.id")
    choice: int
    uri: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = timestamp(now=True)


class Tombstone(SQLModel, table=True):
    """The URI of a deleted object, so it is never resurrected by a late fetch."""

    __tablename__ = "tombstones"

    id: int | None = id_field()
    uri: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    account_id: int | None = fk("accounts.id", nullable=True)
    created_at: datetime = timestamp(now=True)


@event.listens_for(Tag, "before_insert")
def _fill_in_key(_mapper, _connection, tag: Tag) -> None:
    if not tag.key:
        tag.key = hashtag_key(tag.name)
