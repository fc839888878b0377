"""Finding the ActivityPub document behind an HTML page.

    href = alternate_link(page_html, page_url)   # None when the page names none

A profile or post page of most fediverse servers carries
`<link rel="alternate" type="application/activity+json" href="...">`; following it is how a
pasted browser URL becomes an object (Mastodon does the same).
"""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

from activitypub.vocabulary import is_activitypub_media_type

MAX_SCAN = 256 * 1024  # the <head> is near the top; no need to parse a whole large page


class _LinkFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.href: str | None = None

    def handle_starttag(self, tag, attrs):
        if self.href is not None or tag != "link":
            return
        values = {k.lower(): (v or "") for k, v in attrs}
        if "alternate" in values.get("rel", "").lower().split() and is_activitypub_media_type(values.get("type")):
            self.href = values.get("href") or None


def alternate_link(page: bytes | str, base_url: str) -> str | None:
    text = page[:MAX_SCAN].decode("utf-8", "replace") if isinstance(page, bytes) else page[:MAX_SCAN]
    finder = _LinkFinder()
    try:
        finder.feed(text)
    except Exception:  # html.parser is lenient; anything it still chokes on means "no link"
        return None
    return urljoin(base_url, finder.href) if finder.href else None
