"""Fetching the page a status links to and making its preview card (the `fetch_preview_card`
actor, workers/preview_cards.py, calls `fetch_for_status` after the post commits).

    await fetch_for_status(status_id)        # the card of its first link, stored and linked
    fields = await preview(url)              # CardFields, or None when there is no card to make

Limits, so a hostile or broken page costs little and never leaves half a card:
  - only public addresses (federation/outgoing.py), at most MAX_REDIRECTS redirects;
  - connect within 5 s, each read within 10 s, everything within DEADLINE seconds;
  - a 200 answer of type text/html (or XHTML) only, at most MAX_BYTES (decompressed): a bigger
    page is refused, as Mastodon does, not cut;
  - any failure means no card (a stored older card for the URL is kept and linked), and the
    job ends: a preview is not worth retrying. Decisions: docs/preview_cards.md.
The database is not held open while the page is fetched.
"""
from __future__ import annotations

import asyncio
import codecs
import logging
import re

import httpx

from app import db
from app.services import preview_cards
from app.services.preview_cards import CardFields
from federation import outgoing
from federation.page_metadata import card_fields, parse

log = logging.getLogger("starling.link_preview")

MAX_BYTES = 1024 * 1024
MAX_REDIRECTS = 3
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEADLINE = 20.0  # seconds for the whole fetch, however slowly the bytes drip in
HTML_TYPES = ("text/html", "application/xhtml+xml")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)


class _NotAPage(Exception):
    """The answer is not an HTML page we read (status, type or size)."""


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


async def _read(response: httpx.Response) -> bytes:
    if response.status_code != 200:
        raise _NotAPage(f"status {response.status_code}")
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in HTML_TYPES:
        raise _NotAPage(f"type {content_type or 'missing'}")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BYTES:
        raise _NotAPage(f"declared size {declared}")
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > MAX_BYTES:
            raise _NotAPage(f"larger than {MAX_BYTES} bytes")
    return bytes(body)


async def fetch_page(url: str) -> tuple[str, str] | None:
    """(final URL, page text), or None when the URL gives no HTML page within the limits."""
    try:
        async with asyncio.timeout(DEADLINE):
            async with outgoing.client(timeout=TIMEOUT, max_redirects=MAX_REDIRECTS) as http:
                headers = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"}
                async with http.stream("GET", url, headers=headers) as response:
                    body = await _read(response)
                    return str(response.url), decode(body, response.charset_encoding)
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, TimeoutError, _NotAPage) as error:
        log.info("no preview for %s: %s", url, str(error) or type(error).__name__)
        return None


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
