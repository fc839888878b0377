"""Preview cards in the database: which link of a status gets a card, storing cards, linking them.

    status_posted(session, status)              # statuses hooks: defer the fetch of its first link
    await status_edited(session, status)        # ... and drop a card whose link the edit removed
    wanted = await link_to_fetch(session, status_id)     # LinkToFetch(url, card) or None
    card = await attach(session, status_id, url, fields) # store (or reuse) the card, link it
    cards = await cards_by_status(session, status_ids)   # {status_id: PreviewCard}, one query

Fetching the page is talking to another server, so it lives in federation/link_preview.py; the
`fetch_preview_card` actor (workers/preview_cards.py) runs it after the post commits.

A status gets the card of its first link that is not a mention, a hashtag or a link to this
instance, as Mastodon: public, unlisted and followers-only posts; never direct messages (the
linked site would learn that the link was shared privately), never boosts (they show the
original's card). A card is shared by every status linking to the same URL and fetched again
when older than FRESH_FOR. Decisions: docs/preview_cards.md.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import jobs
from app.config import get_settings
from app.models import PreviewCard, Status, StatusPreviewCard
from app.models.base import utcnow

FETCH_ACTOR = "fetch_preview_card"
PREVIEWED = ("public", "unlisted", "private")
FRESH_FOR = timedelta(days=14)  # as Mastodon: an older card is fetched again when linked anew
MAX_URL_BYTES = 2000  # longer links get no card (the unique index has a size limit)
# Microformats on links that are not "the link of the post": mentions and hashtags.
SKIPPED_CLASSES = {"mention", "hashtag", "u-url", "h-card"}


@dataclass(frozen=True)
class CardFields:
    """What a page says about itself, cleaned up (see federation/page_metadata.py)."""

    title: str
    description: str = ""
    type: str = "link"
    author_name: str = ""
    author_url: str = ""
    provider_name: str = ""
    provider_url: str = ""
    html: str = ""
    width: int = 0
    height: int = 0
    image_url: str | None = None
    embed_url: str = ""
    language: str | None = None
    published_at: datetime | None = None


@dataclass(frozen=True)
class LinkToFetch:
    url: str
    card: PreviewCard | None  # the stored card for that URL, fresh or not


class _Links(HTMLParser):
    """The href of each <a> in a status's HTML that is not a mention or a hashtag."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        values = {name: value or "" for name, value in attrs}
        if "tag" in values.get("rel", "").lower().split():
            return
        if SKIPPED_CLASSES & set(values.get("class", "").lower().split()):
            return
        if values.get("href"):
            self.hrefs.append(values["href"].strip())


_HREF = re.compile("href", re.IGNORECASE)


def _own_host(netloc: str) -> bool:
    return netloc.rsplit("@", 1)[-1].lower() == get_settings().domain.lower()


def first_link(status: Status) -> str | None:
    """The URL that gets a card: the first http(s) link of the content, mentions, hashtags and
    links to this instance left out; None when there is none."""
    content = status.content or ""
    if not _HREF.search(content):
        return None  # no link at all (most posts): no parsing (every uncached render asks)
    parser = _Links()
    try:
        parser.feed(content)
        parser.close()
    except (AssertionError, ValueError):  # html.parser's last resort on hopeless markup
        pass
    for href in parser.hrefs:
        try:
            parts = urlsplit(href)
        except ValueError:
            continue
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname or _own_host(parts.netloc):
            continue
        if len(href.encode()) > MAX_URL_BYTES or any(c.isspace() or ord(c) < 32 for c in href):
            continue
        return href
    return None


def _wants_card(status: Status) -> bool:
    return status.visibility in PREVIEWED and status.reblog_of_id is None and status.deleted_at is None


async def _linked_url(session: AsyncSession, status_id: int) -> str | None:
    """The URL of the card the status shows now, if any."""
    return (await session.exec(
        select(PreviewCard.url).join(StatusPreviewCard, StatusPreviewCard.preview_card_id == PreviewCard.id)
        .where(StatusPreviewCard.status_id == status_id))).first()


def status_posted(session: AsyncSession, status: Status) -> None:
    """In the posting transaction: fetch the card of its first link after commit."""
    if _wants_card(status) and first_link(status) is not None:
        jobs.defer(session, FETCH_ACTOR, status_id=status.id)


async def status_edited(session: AsyncSession, status: Status) -> None:
    """In the editing transaction: a card whose link the edit removed goes now; a new first
    link is fetched after commit. An unchanged first link keeps its card."""
    url = first_link(status) if _wants_card(status) else None
    current = await _linked_url(session, status.id)
    if current is not None and current == url:
        return
    if current is not None:
        await session.execute(delete(StatusPreviewCard).where(StatusPreviewCard.status_id == status.id))
    if url is not None:
        jobs.defer(session, FETCH_ACTOR, status_id=status.id)


def is_fresh(card: PreviewCard) -> bool:
    return card.fetched_at > utcnow() - FRESH_FOR


async def link_to_fetch(session: AsyncSession, status_id: int) -> LinkToFetch | None:
    """What the fetch job has to do for a status: None when it has nothing to do (the status
    is gone, has no link any more, or already shows the card of its first link)."""
    status = await session.get(Status, status_id)
    if status is None or not _wants_card(status):
        return None
    url = first_link(status)
    if url is None:
        return None
    linked = await _linked_url(session, status_id)
    if linked == url:
        return None
    card = (await session.exec(select(PreviewCard).where(PreviewCard.url == url))).first()
    return LinkToFetch(url, card)


async def attach(session: AsyncSession, status_id: int, url: str, fields: CardFields | None) -> PreviewCard | None:
    """Store the card for `url` (new fields replace an older card's), or reuse the stored one
    when `fields` is None, and make it the status's card. Nothing is written when the status
    no longer links there first: an edit won the race (its row lock makes us wait for it)."""
    status = (await session.exec(select(Status).where(Status.id == status_id).with_for_update(read=True))).first()
    if status is None or not _wants_card(status) or first_link(status) != url:
        return None
    if fields is not None:
        values = {**asdict(fields), "fetched_at": utcnow()}
        statement = (insert(PreviewCard).values(url=url, created_at=utcnow(), trendable=True, **values)
                     .on_conflict_do_update(index_elements=["url"], set_=values).returning(PreviewCard.id))
        card_id = (await session.execute(statement)).scalar_one()
    else:
        card_id = (await session.exec(select(PreviewCard.id).where(PreviewCard.url == url))).first()
        if card_id is None:
            return None
    await session.execute(
        insert(StatusPreviewCard).values(status_id=status_id, preview_card_id=card_id)
        .on_conflict_do_update(index_elements=["status_id"], set_={"preview_card_id": card_id}))
    card = await session.get(PreviewCard, card_id, populate_existing=True)
    return card


async def cards_by_status(session: AsyncSession, status_ids: list[int]) -> dict[int, PreviewCard]:
    """The card of each of `status_ids` that has one."""
    if not status_ids:
        return {}
    query = (select(StatusPreviewCard.status_id, PreviewCard)
             .join(PreviewCard, PreviewCard.id == StatusPreviewCard.preview_card_id)
             .where(StatusPreviewCard.status_id.in_(status_ids)))
    return {status_id: card for status_id, card in (await session.exec(query)).all()}
