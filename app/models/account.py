"""Accounts (local and remote in one table) and users (local sign-in data)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, text
from sqlmodel import Field, SQLModel

from app.models.base import fk, id_field, timestamp


class Account(SQLModel, table=True):
    __tablename__ = "accounts"
    __table_args__ = (
        # Usernames are unique per domain, case-insensitively ('' stands for local).
        Index(
            "ix_accounts_username_domain",
            text("lower(username)"),
            text("lower(coalesce(domain, ''))"),
            unique=True,
        ),
    )

    id: int | None = id_field()
    username: str = Field(max_length=255)
    domain: str | None = Field(default=None, max_length=255)  # NULL for local accounts
    display_name: str = Field(default="", max_length=255)
    note: str = Field(default="", sa_type=Text)  # rendered HTML
    note_source: str = Field(default="", sa_type=Text)  # what the owner typed (local only)
    fields: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]"))

    uri: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    url: str = Field(default="", sa_type=Text)
    inbox_url: str = Field(default="", sa_type=Text)
    outbox_url: str = Field(default="", sa_type=Text)
    shared_inbox_url: str = Field(default="", sa_type=Text)
    followers_url: str = Field(default="", sa_type=Text)
    following_url: str = Field(default="", sa_type=Text)
    public_key_pem: str = Field(default="", sa_type=Text)
    private_key_pem: str | None = Field(default=None, sa_type=Text)  # local only

    avatar_path: str | None = Field(default=None, sa_type=Text)  # under media_root
    avatar_remote_url: str | None = Field(default=None, sa_type=Text)
    header_path: str | None = Field(default=None, sa_type=Text)
    header_remote_url: str | None = Field(default=None, sa_type=Text)

    locked: bool = False
    bot: bool = False
    group: bool = False
    discoverable: bool = True
    indexable: bool = True
    hide_collections: bool = False

    followers_count: int = 0
    following_count: int = 0
    statuses_count: int = 0
    last_status_at: datetime | None = timestamp()

    created_at: datetime = timestamp(now=True)
    updated_at: datetime = timestamp(now=True)
    suspended_at: datetime | None = timestamp()
    silenced_at: datetime | None = timestamp()
    moved_to_account_id: int | None = fk("accounts.id", nullable=True, index=False, ondelete="SET NULL")

    @property
    def local(self) -> bool:
        return self.domain is None

    @property
    def acct(self) -> str:
        return acct_of(self)


def acct_of(account) -> str:
    """`user` for a local account, `user@domain` for a remote one: of an Account or of any
    row with its username and domain columns (app.db.rows)."""
    return account.username if account.domain is None else f"{account.username}@{account.domain}"


ROLES = ("user", "moderator", "admin")  # in rising order: an admin outranks a moderator
STAFF_ROLES = ("moderator", "admin")  # who may manage users (Mastodon's default roles)


class User(SQLModel, table=True):
    """Sign-in data of a local account."""

    __tablename__ = "users"
    __table_args__ = (Index("ix_users_email", text("lower(email)"), unique=True),)

    id: int | None = id_field()
    account_id: int = fk("accounts.id")
    email: str = Field(max_length=320)
    password_hash: str = Field(sa_type=Text)
    locale: str = Field(default="en", max_length=16)
    role: str = Field(default="user", max_length=32)  # one of ROLES
    reason: str = Field(default="", sa_type=Text)  # why they want to join (approval mode)

    confirmed_at: datetime | None = timestamp()
    confirmation_sent_at: datetime | None = timestamp()
    approved: bool = True
    disabled: bool = False
    # The app that registered this user through POST /api/v1/accounts (only it may resend confirmation).
    created_by_application_id: int | None = fk("oauth_applications.id", nullable=True, index=False, ondelete="SET NULL")
    # Changing the password moves this forward; links and sessions minted earlier die.
    password_changed_at: datetime = timestamp(now=True)

    default_privacy: str = Field(default="public", max_length=16)
    default_sensitive: bool = False
    default_language: str | None = Field(default=None, max_length=16)

    created_at: datetime = timestamp(now=True)
    last_sign_in_at: datetime | None = timestamp()
    last_active_at: datetime | None = timestamp()

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None
