"""Reading AS2 values as servers actually send them.

Documents are read in their compacted form with the ActivityStreams context (what every
fediverse server sends), not expanded as JSON-LD: a property may be a string, an object
with an `id` or `href`, or a list of either, and these helpers take each shape.

    ParseError            a document that cannot be used (a ValueError)
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_ALIASES = {PUBLIC, "as:Public", "Public"}
AS2_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
# The two media types an ActivityPub document is served as.
ACTIVITY_JSON = "application/activity+json"
LD_JSON_AS2 = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
MAX_TEXT = 500_000  # characters of HTML kept from one property; more is refused, not cut


class ParseError(ValueError):
    """The document is not a usable object of the expected kind."""


def is_activitypub_media_type(media_type: Any) -> bool:
    if not isinstance(media_type, str):
        return False
    value = media_type.strip().lower()
    if value == ACTIVITY_JSON:
        return True
    # application/ld+json; profile="https://www.w3.org/ns/activitystreams" (spacing and quotes vary)
    kind, _, params = value.partition(";")
    return kind.strip() == "application/ld+json" and AS2_CONTEXT in params


def as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def id_of(value: Any) -> str | None:
    """The id of a value that is a URL string or an object with an `id` (None otherwise)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return None


def ids_of(value: Any) -> list[str]:
    return [i for i in (id_of(v) for v in as_list(value)) if i]


def is_http_url(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > 2048:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def host_of(url: str) -> str:
    """`host[:port]`, lower case (what two URLs must share to come from the same server)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # an unclosed IPv6 bracket, a port that is not a number
        raise ParseError(f"not a URL: {url[:200]}") from None
    host = (parts.hostname or "").lower()
    return f"{host}:{port}" if port else host


def required_url(document: dict, key: str) -> str:
    value = id_of(document.get(key))
    if not is_http_url(value):
        raise ParseError(f"{key} must be an http(s) URL")
    return value


def optional_url(document: dict, key: str) -> str | None:
    value = id_of(document.get(key))
    return value if is_http_url(value) else None


def same_server_url(url: str | None, object_id: str) -> str | None:
    """`url` when it is on the server of `object_id`, else None: an object's `url` is where
    people find it, and one on another server could claim someone else's address (lookups by
    URL would then find the wrong object)."""
    if url is None:
        return None
    try:
        return url if host_of(url) == host_of(object_id) else None
    except ParseError:
        return None


def link_url(value: Any, prefer_type: str = "text/html", *, _depth: int = 0) -> str | None:
    """The first http(s) URL of a `url`/`icon`-like value: a string, a Link or Image object
    (`href` or `url`, itself possibly a Link), or a list of those; a Link of `prefer_type` wins."""
    found: list[tuple[bool, str]] = []
    for item in as_list(value):
        url, preferred = None, False
        if isinstance(item, str):
            url = item
        elif isinstance(item, dict):
            inner = item.get("href") or item.get("url")
            preferred = item.get("mediaType") == prefer_type
            url = inner if isinstance(inner, str) else (link_url(inner, prefer_type, _depth=1) if _depth == 0 else None)
        if is_http_url(url):
            found.append((preferred, url))
    found.sort(key=lambda f: not f[0])  # stable: preferred first, otherwise document order
    return found[0][1] if found else None


def text(document: dict, key: str) -> str:
    value = document.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ParseError(f"{key} must be text")
    if len(value) > MAX_TEXT:
        raise ParseError(f"{key} is too long")
    return value


def mapped_text(document: dict, key: str) -> tuple[str, str | None]:
    """`content` or, failing that, the first entry of `contentMap`: (text, language or None)."""
    plain = text(document, key)
    mapping = document.get(f"{key}Map")
    if isinstance(mapping, dict):
        for language, value in mapping.items():
            if isinstance(value, str) and isinstance(language, str):
                if not plain or value == plain:
                    if len(value) > MAX_TEXT:
                        raise ParseError(f"{key} is too long")
                    return value, language[:16]
    return plain, None


def flag(document: dict, key: str, default: bool = False) -> bool:
    value = document.get(key)
    return value if isinstance(value, bool) else default


def timestamp(document: dict, key: str) -> datetime | None:
    """An ISO 8601 property as an aware UTC datetime (None when absent or unreadable)."""
    value = document.get(key)
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:  # "0001-01-01T00:00:00+14:00" lies before the first representable moment
        return None


def type_of(document: dict) -> set[str]:
    return {t for t in as_list(document.get("type")) if isinstance(t, str)}
