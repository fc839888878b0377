"""Fetching the page a status links to and making its preview card (the `fetch_preview_card`
actor, workers/preview_cards.py, calls `fetch_for_status` after the post commits).

    await fetch_for_status(status_id)        # the card of its first link, stored and linked
    fields = await preview(url)              # CardFields, or None when there is no card to make

Limits, so a hostile or broken page costs little and never leaves half a card:
  - only public addresses (federation/http.py, the one outgoing client), at most MAX_REDIRECTS
    redirects;
  - connect within 5 s, each read within 10 s, everything within DEADLINE seconds;
  - a 200 answer of type text/html (or XHTML) only, at most MAX_BYTES (decompressed): a bigger
    page is refused, as Mastodon does, not cut;
  - any failure means no card (a stored older card for the URL is kept and linked), and the
    job ends: a preview is not worth retrying. Decisions: docs/preview_cards.md.
The database is not held open while the page is fetched.
"""
from __future__ import annotations

import codecs
import logging
import re

from app import db
from app.config import get_settings
from app.services import preview_cards
from app.services.preview_cards import CardFields
from federation.http import FederationClient, FetchError, client_for
from federation.page_metadata import card_fields, parse

log = logging.getLogger("starling.link_preview")

MAX_BYTES = 1024 * 1024
MAX_REDIRECTS = 3
DEADLINE = 20.0  # seconds for the whole fetch, however slowly the bytes drip in
HTML_TYPES = ("text/html", "application/xhtml+xml")
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        return None


def decode(body: bytes, header_charset: str | None) -> str:
    """The page's text: the charset the server declared, else the page's own <meta>, else UTF-8;
    undecodable bytes become U+FFFD rather than failing."""
    sniffed = _META_CHARSET.search(body[:4096])
    codec = _codec(header_charset) or _codec(sniffed.group(1).decode("ascii") if sniffed else None) or "utf-8"
    return body.decode(codec, errors="replace")


def _client() -> FederationClient:
    """Unsigned GETs on the configured network (federation.http.client_for)."""
    return client_for(get_settings(), connect_timeout=5.0, read_timeout=10.0, total_timeout=DEADLINE,
                      max_bytes=MAX_BYTES, max_redirects=MAX_REDIRECTS)


async def fetch_page(url: str) -> tuple[str, str] | None:
    """(final URL, page text), or None when the URL gives no HTML page within the limits."""
    try:
        async with _client().session() as http:
            page = await http.get(url, accept=HTML_ACCEPT, signed=False)
    except FetchError as error:
        log.info("no preview for %s: %s", url, str(error) or type(error).__name__)
        return None
    if page.status_code != 200 or page.content_type not in HTML_TYPES:
        log.info("no preview for %s: status %s, type %s", url, page.status_code, page.content_type or "missing")
        return None
    return page.url, decode(page.body, page.charset)


async def preview(url: str) -> CardFields | None:
    page = await fetch_page(url)
    if page is None:
        return None
    final_url, text = page
    return card_fields(parse(text), final_url)


async def fetch_for_status(status_id: int) -> None:
    """Give the status the card of its first link: a fresh stored card is reused, otherwise
    the page is fetched. Running it again changes nothing."""
    async with db.session() as session:
        wanted = await preview_cards.link_to_fetch(session, status_id)
    if wanted is None:
        return
    fields = None
    if wanted.card is None or not preview_cards.is_fresh(wanted.card):
        fields = await preview(wanted.url)
    async with db.session() as session:
        await preview_cards.attach(session, status_id, wanted.url, fields)
