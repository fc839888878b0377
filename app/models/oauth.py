"""OAuth applications, authorization codes, access tokens and web sessions.

Secrets (client secrets, codes, tokens, session cookies) are stored only as
SHA-256 hashes; the plain value is shown once, when it is made.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Text
from sqlmodel import Field, SQLModel

from app.models.base import fk, id_field, timestamp


class Application(SQLModel, table=True):
    __tablename__ = "oauth_applications"

    id: int | None = id_field()
    name: str = Field(max_length=255)
    website: str | None = Field(default=None, sa_type=Text)
    redirect_uris: str = Field(sa_type=Text)  # newline-separated, as Mastodon keeps them
    scopes: str = Field(default="read", sa_type=Text)  # space-separated
    client_id: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    client_secret: str = Field(sa_type=Text)  # kept plain: Mastodon apps read it back from the API
    created_at: datetime = timestamp(now=True)

    @property
    def redirect_uri_list(self) -> list[str]:
        return [u for u in self.redirect_uris.split() if u]


class AuthorizationCode(SQLModel, table=True):
    __tablename__ = "oauth_authorization_codes"

    id: int | None = id_field()
    application_id: int = fk("oauth_applications.id")
    account_id: int = fk("accounts.id")
    code_hash: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    redirect_uri: str = Field(sa_type=Text)
    scopes: str = Field(sa_type=Text)
    code_challenge: str | None = Field(default=None, sa_type=Text)
    code_challenge_method: str | None = Field(default=None, max_length=16)
    expires_at: datetime = timestamp(nullable=False)
    used_at: datetime | None = timestamp()
    created_at: datetime = timestamp(now=True)


class AccessToken(SQLModel, table=True):
    __tablename__ = "oauth_access_tokens"

    id: int | None = id_field()
    application_id: int | None = fk("oauth_applications.id", nullable=True)
    account_id: int | None = fk("accounts.id", nullable=True)  # None for client_credentials
    token_hash: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    refresh_token_hash: str | None = Field(default=None, sa_column=Column(Text, nullable=True, unique=True))
    # The authorization code this token (or the token it was refreshed from) came from:
    # a replayed code revokes them all (RFC 6749 4.1.2). No foreign key: codes may be pruned.
    authorization_code_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))
    scopes: str = Field(sa_type=Text)
    created_at: datetime = timestamp(now=True)
    last_used_at: datetime | None = timestamp()
    revoked_at: datetime | None = timestamp()


class WebSession(SQLModel, table=True):
    """A browser sign-in (login page, OAuth consent, settings pages)."""

    __tablename__ = "web_sessions"

    id: int | None = id_field()
    user_id: int = fk("users.id")
    token_hash: str = Field(sa_column=Column(Text, nullable=False, unique=True))
    user_agent: str = Field(default="", sa_type=Text)
    ip: str = Field(default="", max_length=64)
    created_at: datetime = timestamp(now=True)
    last_seen_at: datetime = timestamp(now=True)
    revoked_at: datetime | None = timestamp()
