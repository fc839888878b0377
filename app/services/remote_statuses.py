"""Statuses of other servers: storing a post federation fetched.

    status = await find_known(session, "https://example.com/@alice/1")   # by uri or url
    status = await upsert(session, author, RemotePost(...))             # insert once per uri

The caller (federation/dereference) has checked that the post comes from its own server
and that `author` is its (stored) author. Here the post gets an id from its published time
(`starling_id(published)`, so paging stays chronological), sanitised HTML, the mentions of
accounts we already know (they decide who may see a private or direct post), its hashtags,
and the counters a local post would bump. A post already stored is returned as it is:
changes arrive later as `Update` activities (the inbox, not built yet). A deleted post's
tombstone keeps it from coming back.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import Account, Mention, Status, StatusTag, Tombstone
from app.models.base import utcnow
from app.models.status import VISIBILITIES
from app.services import remote_html, search, statuses
from app.text import TAG_WORD, hashtag_key

HASHTAG = re.compile(rf"^{TAG_WORD}{{1,255}}$")
MAX_CONTENT = 200_000  # characters of HTML read (cut before sanitising, so the markup stays whole)
MAX_SUMMARY = 5_000  # characters of a content warning
COUNTED = ("public", "unlisted", "private")  # what counts towards statuses_count (not direct)
REPLY_COUNTED = ("public", "unlisted")  # as local replies: only the ones everyone may see


class Unstorable(Exception):
    """The post cannot be stored: deleted before (tombstone), its author is suspended, or
    its uri belongs to another author."""


@dataclass(frozen=True)
class RemotePost:
    uri: str
    url: str | None
    content_html: str
    visibility: str
    summary: str = ""
    sensitive: bool = False
    published: datetime | None = None
    language: str | None = None
    in_reply_to_uri: str | None = None
    mention_uris: list[str] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)


async def find_known(session: AsyncSession, address: str) -> Status | None:
    """The stored status whose uri, or else url, is `address` (live ones only)."""
    found = (await session.exec(select(Status).where(
        or_(Status.uri == address, Status.url == address), Status.deleted_at.is_(None), Status.reblog_of_id.is_(None),
    ).order_by((Status.uri == address).desc()).limit(1))).first()
    return found


async def upsert(session: AsyncSession, author: Account, post: RemotePost) -> Status:
    """The status for `post.uri`, inserted if new (in the caller's transaction)."""
    if post.visibility not in VISIBILITIES:
        raise ValueError(f"unknown visibility {post.visibility!r}")
    if author.suspended_at is not None:
        raise Unstorable(f"{author.uri} is suspended")
    existing = (await session.exec(select(Status).where(Status.uri == post.uri))).first()
    if existing is not None:
        if existing.account_id != author.id:
            raise Unstorable(f"{post.uri} belongs to another account")
        return existing
    if (await session.exec(select(Tombstone.id).where(Tombstone.uri == post.uri))).first() is not None:
        raise Unstorable(f"{post.uri} was deleted")
    now = utcnow()
    created = min(post.published or now, now)  # a date in the future would sort above everything
    if created.year < 1970:
        created = now  # before the epoch the id would be negative: unreachable, unpageable
    status_id = (await session.execute(text("SELECT starling_id(:at)"), {"at": created})).scalar_one()
    parent = None
    if post.in_reply_to_uri:
        parent = (await session.exec(select(Status).where(Status.uri == post.in_reply_to_uri))).first()
    summary = remote_html.plain(post.summary[:MAX_CONTENT])[:MAX_SUMMARY]
    status = Status(
        id=status_id, uri=post.uri, url=post.url or post.uri, local=False, account_id=author.id,
        in_reply_to_id=parent.id if parent else None,
        in_reply_to_account_id=parent.account_id if parent else None,
        reply=bool(post.in_reply_to_uri),  # a reply even to a post unknown here
        conversation_id=(parent.conversation_id or parent.id) if parent else status_id,
        visibility=post.visibility, text="", content=remote_html.sanitize(post.content_html[:MAX_CONTENT]),
        spoiler_text=summary, sensitive=post.sensitive or bool(summary), language=post.language,
        created_at=created, updated_at=now,
    )
    try:
        async with session.begin_nested():  # a concurrent fetch of the same post may win the insert
            session.add(status)
            await session.flush()
    except IntegrityError:
        winner = (await session.exec(select(Status).where(Status.uri == post.uri))).first()
        if winner is None or winner.account_id != author.id:
            raise Unstorable(f"{post.uri} could not be stored") from None
        return winner
    await _mention(session, status, post.mention_uris)
    await _tag(session, status, post.hashtags, created)
    await _count(session, author, status, parent)
    search.status_changed(session, status)
    return status


async def _mention(session: AsyncSession, status: Status, uris: list[str]) -> None:
    """Mentions of accounts we know; unknown ones are not fetched (yet)."""
    if not uris:
        return
    ids = (await session.exec(select(Account.id).where(Account.uri.in_(list(dict.fromkeys(uris)))))).all()
    for account_id in ids:
        session.add(Mention(status_id=status.id, account_id=account_id))


async def _tag(session: AsyncSession, status: Status, names: list[str], at: datetime) -> None:
    wanted = {}
    for name in names:
        if HASHTAG.match(name):
            if key := hashtag_key(name):
                wanted.setdefault(key, name)
    if not wanted:
        return
    for tag_id in await statuses.upsert_tags(session, list(wanted.values()), at):
        session.add(StatusTag(status_id=status.id, tag_id=tag_id))


async def _count(session: AsyncSession, author: Account, status: Status, parent: Status | None) -> None:
    if status.visibility in COUNTED:
        await session.exec(update(Account).where(Account.id == author.id).values(
            statuses_count=Account.statuses_count + 1,
            last_status_at=func.greatest(func.coalesce(Account.last_status_at, status.created_at), status.created_at)))
    if parent is not None and status.visibility in REPLY_COUNTED:
        await session.exec(update(Status).where(Status.id == parent.id).values(replies_count=Status.replies_count + 1))
    await session.flush()
