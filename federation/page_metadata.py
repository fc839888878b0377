"""What a web page says about itself -> the fields of a preview card.

    meta = parse(html_text)                        # PageMeta: <meta> values, <title>, <html lang>
    fields = card_fields(meta, page_url)           # CardFields, or None when the page has no title

Read with the standard library's html.parser, which never gives up on broken markup: whatever
was read before a hopeless spot is kept. Sources, first found wins:
  title        og:title, twitter:title, <title>
  description  og:description, twitter:description, <meta name="description">
  image        og:image (:url, :secure_url), twitter:image (:src), resolved against the page URL
  video        twitter:player (an http(s) URL) -> type "video" and an <iframe> we build ourselves
  provider     og:site_name; author: <meta name="author"> or article:author (a URL -> author_url)
  language     og:locale, else <html lang>; published_at: article:published_time
No oEmbed: it would cost another request, and Mastodon only trusts it for a few providers.
Text is whitespace-collapsed, control characters dropped, and cut to a sensible length.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from app.services.preview_cards import MAX_URL_BYTES, CardFields

TITLE_CHARS = 255
DESCRIPTION_CHARS = 1000
NAME_CHARS = 255
MAX_DIMENSION = 10_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACE = re.compile(r"\s+")
_LANGUAGE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_][A-Za-z0-9]{2,8})*$")


@dataclass
class PageMeta:
    values: dict[str, str] = field(default_factory=dict)  # property or name (lower case) -> content
    title: str = ""
    lang: str = ""


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.meta = PageMeta()
        self._title: list[str] | None = None
        self._title_done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value for name, value in attrs if value is not None}
        if tag == "meta":
            content = values.get("content")
            keys = (values.get("property", "") + " " + values.get("name", "")).lower().split()
            if content is not None:
                for key in keys:
                    self.meta.values.setdefault(key, content)
        elif tag == "title" and not self._title_done:
            self._title = []
        elif tag == "html" and not self.meta.lang:
            self.meta.lang = values.get("lang", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._title is not None:
            self.meta.title = "".join(self._title)
            self._title, self._title_done = None, True

    def handle_data(self, data: str) -> None:
        if self._title is not None:
            self._title.append(data)


def parse(text: str) -> PageMeta:
    reader = _Reader()
    try:
        reader.feed(text)
        reader.close()
    except (AssertionError, ValueError):  # html.parser's last resort on hopeless markup
        pass
    if reader._title is not None and not reader.meta.title:  # <title> never closed
        reader.meta.title = "".join(reader._title)
    return reader.meta


def _text(value: str | None, limit: int) -> str:
    cleaned = _SPACE.sub(" ", _CONTROL.sub("", value or "")).strip()
    return cleaned[:limit].rstrip()


def _url(value: str | None, base: str) -> str | None:
    """An absolute http(s) URL from a page's (possibly relative) reference, or None."""
    raw = (value or "").strip()
    if not raw or _CONTROL.search(raw) or any(c.isspace() for c in raw):
        return None
    try:
        absolute = urljoin(base, raw)
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(absolute.encode()) > MAX_URL_BYTES:
        return None
    return absolute


def _dimension(value: str | None) -> int:
    try:
        number = int((value or "").strip())
    except ValueError:
        return 0
    return number if 0 < number <= MAX_DIMENSION else 0


def _first(meta: PageMeta, *keys: str) -> str | None:
    for key in keys:
        value = meta.values.get(key)
        if value and value.strip():
            return value
    return None


def _language(meta: PageMeta) -> str | None:
    for raw in (meta.values.get("og:locale"), meta.lang):
        match = _LANGUAGE.match((raw or "").strip())
        if match:
            return match.group(1).lower()
    return None


def _published(value: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _player(url: str, width: int, height: int) -> str:
    return (f'<iframe src="{html.escape(url)}" width="{width}" height="{height}" '
            'allowfullscreen="true" frameborder="0" scrolling="no"></iframe>')


def card_fields(meta: PageMeta, page_url: str) -> CardFields | None:
    """The card for a page (page_url: where it was finally fetched from, for relative URLs);
    None when it names no title (Mastodon shows no card then either)."""
    title = _text(_first(meta, "og:title", "twitter:title") or meta.title, TITLE_CHARS)
    if not title:
        return None
    image = _url(_first(meta, "og:image", "og:image:url", "og:image:secure_url", "twitter:image",
                        "twitter:image:src"), page_url)
    author = _first(meta, "author", "article:author")
    author_url = _url(author, page_url) if author and author.strip().lower().startswith(("http:", "https:")) else None
    player = _url(_first(meta, "twitter:player"), page_url)
    if player is not None:
        width, height = _dimension(meta.values.get("twitter:player:width")), _dimension(meta.values.get("twitter:player:height"))
        kind, markup = "video", _player(player, width, height)
    else:
        width, height = _dimension(meta.values.get("og:image:width")), _dimension(meta.values.get("og:image:height"))
        kind, markup = "link", ""
    return CardFields(
        title=title,
        description=_text(_first(meta, "og:description", "twitter:description", "description"), DESCRIPTION_CHARS),
        type=kind,
        author_name="" if author_url else _text(author, NAME_CHARS),
        author_url=author_url or "",
        provider_name=_text(_first(meta, "og:site_name"), NAME_CHARS),
        html=markup,
        width=width if image or player else 0,
        height=height if image or player else 0,
        image_url=image,
        language=_language(meta),
        published_at=_published(_first(meta, "article:published_time")),
    )
