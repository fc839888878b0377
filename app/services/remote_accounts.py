"""Accounts of other servers: storing what federation learned about them.

    account = await find_by_uri(session, "https://example.com/users/alice")
    account = await find_by_acct(session, "alice", "example.com")
    if account is None or is_stale(account): ... fetch it again ...
    account = await upsert(session, RemoteProfile(...))      # insert or refresh, one row per uri

The caller (federation/dereference) has already checked that the profile really is the
actor at `uri` and that WebFinger names it `username@domain`; this module sanitises the
HTML and writes the row. HTML comes in raw and is stored sanitised (remote_html).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import Account
from app.models.base import utcnow
from app.services import remote_html

STALE_AFTER = timedelta(days=1)  # as Mastodon: a profile older than a day is fetched again when asked for
MAX_NOTE = 50_000  # characters of HTML read (cut before sanitising, so the markup stays whole)


class ConflictingAccount(Exception):
    """Another actor already holds this `username@domain` (a server that renamed its
    actors, or one trying to take over a name): the row is left alone."""


@dataclass(frozen=True)
class RemoteProfile:
    uri: str
    username: str
    domain: str
    url: str
    display_name: str = ""
    note_html: str = ""
    fields: list[tuple[str, str]] = field(default_factory=list)  # (name, value HTML)
    inbox_url: str = ""
    outbox_url: str = ""
    shared_inbox_url: str = ""
    followers_url: str = ""
    following_url: str = ""
    public_key_pem: str = ""
    avatar_url: str | None = None
    header_url: str | None = None
    locked: bool = False
    bot: bool = False
    group: bool = False
    discoverable: bool = False
    indexable: bool = False
    published: datetime | None = None


async def find_by_uri(session: AsyncSession, uri: str) -> Account | None:
    return (await session.exec(select(Account).where(Account.uri == uri))).first()


async def find_by_acct(session: AsyncSession, username: str, domain: str) -> Account | None:
    return (await session.exec(select(Account).where(
        func.lower(Account.username) == username.lower(),
        func.lower(func.coalesce(Account.domain, "")) == domain.lower(),
    ))).first()


def is_stale(account: Account) -> bool:
    return account.updated_at is None or utcnow() - account.updated_at > STALE_AFTER


def _values(profile: RemoteProfile) -> dict:
    return dict(
        display_name=remote_html.plain(profile.display_name)[:255],
        note=remote_html.sanitize(profile.note_html[:MAX_NOTE]),
        fields=[{"name": remote_html.plain(name)[:255], "value": remote_html.sanitize(value), "verified_at": None}
                for name, value in profile.fields],
        url=profile.url or profile.uri,
        inbox_url=profile.inbox_url,
        outbox_url=profile.outbox_url,
        shared_inbox_url=profile.shared_inbox_url,
        followers_url=profile.followers_url,
        following_url=profile.following_url,
        public_key_pem=profile.public_key_pem,
        avatar_remote_url=profile.avatar_url,
        header_remote_url=profile.header_url,
        locked=profile.locked,
        bot=profile.bot,
        group=profile.group,
        discoverable=profile.discoverable,
        indexable=profile.indexable,
        updated_at=utcnow(),
    )


async def upsert(session: AsyncSession, profile: RemoteProfile) -> Account:
    """The account row for `profile.uri`, inserted or brought up to date (in the caller's
    transaction). Raises ConflictingAccount when the name belongs to another actor."""
    account = await find_by_uri(session, profile.uri)
    if account is None:
        holder = await find_by_acct(session, profile.username, profile.domain)
        if holder is not None:
            raise ConflictingAccount(f"{profile.username}@{profile.domain} already names {holder.uri}")
        account = Account(uri=profile.uri, username=profile.username, domain=profile.domain,
                          created_at=min(profile.published or utcnow(), utcnow()))
    elif account.domain is None:
        raise ConflictingAccount(f"{profile.uri} is a local account")
    _apply(account, profile)
    try:
        async with session.begin_nested():  # a concurrent fetch of the same actor may win the insert
            session.add(account)
            await session.flush()
    except IntegrityError:
        account = await find_by_uri(session, profile.uri)
        if account is None or account.domain is None:
            raise ConflictingAccount(f"{profile.username}@{profile.domain} is taken") from None
        _apply(account, profile)
        await session.flush()
    return account


def _apply(account: Account, profile: RemoteProfile) -> None:
    for name, value in _values(profile).items():
        setattr(account, name, value)
