"""HTML from other servers, made safe to store and show (nh3), as Mastodon keeps it.

    content = sanitize(note_html)       # the tags Mastodon keeps; links get rel and target
    text = plain(summary_html)          # no tags at all (content warnings, names)

Kept: p br span a abbr del pre blockquote code b strong u i em ul ol li; `href` on links
(absolute only: http, https and a few other link schemes Mastodon allows), `class` only with the
microformats prefixes and Mastodon's own link classes (mention, hashtag, ellipsis,
invisible), so a remote post cannot restyle the page.
"""
from __future__ import annotations

import html
import re

import nh3

TAGS = {"p", "br", "span", "a", "abbr", "del", "pre", "blockquote", "code", "b", "strong", "u", "i", "em",
        "ul", "ol", "li"}
ATTRIBUTES = {"a": {"href", "class", "translate"}, "span": {"class", "translate"}, "p": {"class"},
              "abbr": {"title"}, "ol": {"start", "reversed"}, "li": {"value"}}
URL_SCHEMES = {"http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet", "gemini"}
CLASS = re.compile(r"^(?:(?:h|p|u|dt|e)-[\w-]+|mention|hashtag|ellipsis|invisible)$")


def _filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "class":
        kept = " ".join(c for c in value.split() if CLASS.match(c))
        return kept or None
    if attribute == "href":
        # Only absolute links: a relative or scheme-relative one (`/oauth/authorize...`, `//x`)
        # would point at whatever server shows the post, this one included.
        scheme, colon, _ = value.partition(":")
        return value if colon and scheme.strip().lower() in URL_SCHEMES else None
    return value


def sanitize(fragment: str) -> str:
    if not fragment:
        return ""
    return nh3.clean(
        fragment, tags=TAGS, attributes=ATTRIBUTES, attribute_filter=_filter, url_schemes=URL_SCHEMES,
        clean_content_tags={"script", "style"}, link_rel="nofollow noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )


def plain(fragment: str) -> str:
    """The text of an HTML fragment: tags dropped, entities decoded (shown as text by clients)."""
    if not fragment:
        return ""
    return html.unescape(nh3.clean(fragment, tags=set(), clean_content_tags={"script", "style"})).strip()
