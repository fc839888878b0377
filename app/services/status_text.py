"""Post text typed by local users: entities, length as Mastodon counts it, safe HTML.

    entities = extract("hi @bob@example.com see #Cats https://x.org/a")
    countable_length(text, spoiler_text)   # links count 23, @bob@example.com counts as "@bob"
    render(text, accounts, tag_url)        # <p>, <br />, mention/hashtag/URL links; all else escaped

Mentions and hashtags follow Mastodon's patterns: a mention is ``@user`` or
``@user@domain`` not preceded by a word character, ``/`` or ``=`` (so e-mail
addresses and URLs are not mentions); a hashtag is ``#`` plus word characters
with at least one letter. Links are found first and win over anything inside
them (``https://x.org/#tag`` is one link, not a hashtag).
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from typing import Callable
from urllib.parse import quote

from app.config import get_settings
from app.models import Account
from app.text import TAG_WORD, URL, URL_LENGTH, hashtag_key, linkify, normalize_newlines

USERNAME = r"[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*"
# A port is allowed so "@alice@localhost:8000" names a local account on a development instance.
DOMAIN = r"[\w-]+(?:\.[\w-]+)*(?::\d{1,5})?"
MENTION = re.compile(rf"(?<![=/\w@])@({USERNAME})(?:@({DOMAIN}))?", re.IGNORECASE)
_TAG_CHARS = rf"(?:{TAG_WORD}|[\u00b7\u30fb\u200c])"
HASHTAG = re.compile(rf"(?<![=/)\w])#({_TAG_CHARS}*[^\W\d_]{_TAG_CHARS}*)", re.IGNORECASE)
TAG_MAX = 255
_TRAILING = ".,:;!?'\""  # punctuation that ends a sentence rather than a link
LINK_REL = "nofollow noopener"


@dataclass(frozen=True)
class Entity:
    kind: str  # url | mention | hashtag
    start: int
    end: int
    value: str  # the URL, the username, or the tag name
    domain: str | None = None  # mentions only


def _trim_url(url: str) -> str:
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


def extract(text: str) -> list[Entity]:
    """Links, mentions and hashtags in order of appearance, never overlapping."""
    text = normalize_newlines(text)
    found: list[Entity] = []
    for match in URL.finditer(text):
        url = _trim_url(match.group(0))
        if re.fullmatch(r"https?://", url, re.IGNORECASE) or not url:
            continue
        found.append(Entity("url", match.start(), match.start() + len(url), url))
    taken = [(e.start, e.end) for e in found]

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e in taken)

    for match in MENTION.finditer(text):
        domain = match.group(2)
        end = match.end()
        if domain and domain[-1] in ".-":  # "@bob@example.com." ends a sentence
            domain = domain.rstrip(".-")
            end = match.start(2) + len(domain)
        if free(match.start(), end):
            found.append(Entity("mention", match.start(), end, match.group(1), domain or None))
    for match in HASHTAG.finditer(text):
        if len(match.group(1)) <= TAG_MAX and free(match.start(), match.end()):
            found.append(Entity("hashtag", match.start(), match.end(), match.group(1)))
    found.sort(key=lambda e: e.start)
    return found


def mentions(text: str) -> list[tuple[str, str | None]]:
    """(username, domain or None) of every mention, first appearance first, without repeats."""
    seen: dict[tuple[str, str | None], tuple[str, str | None]] = {}
    for e in extract(text):
        if e.kind == "mention":
            seen.setdefault((e.value.lower(), (e.domain or "").lower() or None), (e.value, e.domain))
    return list(seen.values())


def hashtags(text: str) -> list[str]:
    """Tag names as first written, without repeats of one tag however spelt (app.text.hashtag_key)."""
    seen: dict[str, str] = {}
    for e in extract(text):
        if e.kind == "hashtag":
            if key := hashtag_key(e.value):  # (a name of nothing a hashtag can hold is none)
                seen.setdefault(key, e.value)
    return list(seen.values())


def _graphemes(text: str) -> int:
    """User-perceived characters, close to Ruby's grapheme clusters without a dependency:
    combining marks, variation selectors and skin tones join the character before them,
    a zero-width joiner glues two emoji, and two regional indicators make one flag."""
    count = 0
    join_next = False
    pending_flag = False
    for char in text:
        code = ord(char)
        if join_next:
            join_next = False
            continue
        if code == 0x200D:
            join_next = True
            continue
        if unicodedata.combining(char) or 0xFE00 <= code <= 0xFE0F or 0x1F3FB <= code <= 0x1F3FF \
                or 0xE0020 <= code <= 0xE007F:
            continue
        if 0x1F1E6 <= code <= 0x1F1FF:
            if pending_flag:
                pending_flag = False
                continue
            pending_flag = True
        else:
            pending_flag = False
        count += 1
    return count


def countable_text(text: str) -> str:
    """The text as Mastodon measures it: each link is 23 characters, each mention only "@user"."""
    text = normalize_newlines(text)
    out: list[str] = []
    position = 0
    for e in extract(text):
        if e.kind == "hashtag":
            continue
        out.append(text[position:e.start])
        out.append("x" * URL_LENGTH if e.kind == "url" else "@" + e.value)
        position = e.end
    out.append(text[position:])
    return "".join(out)


def countable_length(text: str, spoiler_text: str = "") -> int:
    """What counts against the post length limit: the content warning plus the text."""
    return _graphemes((spoiler_text or "") + countable_text(text or ""))


def tag_url(name: str) -> str:
    # By the tag's key, as Mastodon's URLs name a tag by its normalised name (#Café: /tags/cafe),
    # percent-encoded as Rails' route helpers do: /tags/%E6%97%A5 is a URI, /tags/日 is not.
    return f"{get_settings().base_url}/tags/{quote(hashtag_key(name), safe='')}"


def mention_key(username: str, domain: str | None) -> tuple[str, str | None]:
    return username.lower(), (domain or "").lower() or None


def _mention_html(account: Account) -> str:
    return (f'<span class="h-card" translate="no"><a href="{html.escape(account.url or account.uri)}" '
            f'class="u-url mention">@<span>{html.escape(account.username)}</span></a></span>')


def _hashtag_html(name: str, url: str) -> str:
    return f'<a href="{html.escape(url)}" class="mention hashtag" rel="tag">#<span>{html.escape(name)}</span></a>'


def _render_line(line: str, accounts: dict[tuple[str, str | None], Account], tag_url: Callable[[str], str]) -> str:
    out: list[str] = []
    position = 0
    for e in extract(line):
        out.append(html.escape(line[position:e.start]))
        original = line[e.start:e.end]
        if e.kind == "url":
            out.append(linkify(e.value, rel=LINK_REL))
        elif e.kind == "hashtag":
            out.append(_hashtag_html(e.value, tag_url(e.value)))
        else:
            account = accounts.get(mention_key(e.value, e.domain))
            out.append(_mention_html(account) if account is not None else html.escape(original))
        position = e.end
    out.append(html.escape(line[position:]))
    return "".join(out)


def render(text: str, accounts: dict[tuple[str, str | None], Account], tag_url: Callable[[str], str]) -> str:
    """Safe HTML: a <p> per paragraph, <br /> per line break, links for resolved mentions,
    hashtags and URLs. `accounts` maps `mention_key(username, domain)` to the account a
    mention resolved to; unresolved mentions stay plain text."""
    text = normalize_newlines(text).strip()
    if not text:
        return ""
    paragraphs = [p for p in re.split(r"\n{2,}", text) if p.strip()]
    return "".join(
        "<p>" + "<br />".join(_render_line(line, accounts, tag_url) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )

