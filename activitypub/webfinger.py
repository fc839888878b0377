"""WebFinger (RFC 7033) as the fediverse uses it: `acct:` URIs in, the actor's URL out.

    acct = parse_acct("@alice@example.com")          # Acct("alice", "example.com")
    url = query_url(acct)                             # https://example.com/.well-known/webfinger?resource=acct%3A...
    found = parse_jrd(body)                           # JRD(subject=Acct(...), self_href="https://...")

Errors (all ValueErrors, so a caller may catch them together):

    WebFingerError
    ├── InvalidAccount    the text is not a `user@domain` address
    └── InvalidDocument   the JRD is not JSON, not an object, or has no usable `self` link
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from activitypub.vocabulary import is_activitypub_media_type

MAX_ACCT = 512  # characters; nobody's address is longer, and it bounds the work on bad input
MAX_USERNAME = 255

# Usernames as Mastodon accepts them from remote servers: word characters, with dots and
# dashes allowed inside (not at either end).
USERNAME = re.compile(r"^[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*$", re.IGNORECASE)
LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class WebFingerError(ValueError):
    """Anything that keeps a WebFinger lookup from naming an actor."""


class InvalidAccount(WebFingerError):
    """The text is not a `user@domain` address."""


class InvalidDocument(WebFingerError):
    """The JRD is malformed or has no ActivityPub `self` link."""


@dataclass(frozen=True)
class Acct:
    username: str
    domain: str  # lower case, IDNA (punycode), may carry a :port

    def __str__(self) -> str:
        return f"{self.username}@{self.domain}"

    @property
    def uri(self) -> str:
        return f"acct:{self}"

    def same_as(self, other: "Acct") -> bool:
        return self.username.lower() == other.username.lower() and self.domain == other.domain


@dataclass(frozen=True)
class JRD:
    subject: Acct | None  # None when the subject is not an acct: URI (or absent)
    self_href: str        # the actor document's URL


def normalize_domain(raw: str) -> str:
    """Lower-case IDNA form of `host[:port]`; InvalidAccount if it is not a plausible host."""
    host, sep, port = raw.strip().rpartition(":") if ":" in raw else (raw.strip(), "", "")
    if sep and not (port.isdigit() and 0 < int(port) < 65536):
        raise InvalidAccount(f"invalid port in domain {raw!r}")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise InvalidAccount(f"invalid domain {raw!r}") from None
    labels = host.split(".")
    if not host or len(host) > 253 or not all(LABEL.match(label) for label in labels):
        raise InvalidAccount(f"invalid domain {raw!r}")
    return f"{host}:{port}" if sep else host


def parse_acct(text: str) -> Acct:
    """`user@domain`, `@user@domain` or `acct:user@domain` -> Acct (InvalidAccount otherwise)."""
    if not isinstance(text, str) or len(text) > MAX_ACCT:
        raise InvalidAccount("not an account address")
    value = text.strip()
    if value.lower().startswith("acct:"):
        value = value[5:]
    elif value.startswith("@"):
        value = value[1:]
    username, at, domain = value.partition("@")
    if not at or "@" in domain:
        raise InvalidAccount(f"{text!r} is not of the form user@domain")
    if len(username) > MAX_USERNAME or not USERNAME.match(username):
        raise InvalidAccount(f"invalid username in {text!r}")
    return Acct(username, normalize_domain(domain))


def query_url(acct: Acct, scheme: str = "https") -> str:
    """The WebFinger URL that asks `acct`'s server about it."""
    return f"{scheme}://{acct.domain}/.well-known/webfinger?resource={quote(acct.uri, safe='')}"


def parse_jrd(document: bytes | str | dict) -> JRD:
    """The subject and ActivityPub `self` link of a JRD (InvalidDocument when there is none)."""
    if isinstance(document, (bytes, str)):
        try:
            document = json.loads(document)
        except (ValueError, UnicodeDecodeError):
            raise InvalidDocument("the WebFinger response is not JSON") from None
    if not isinstance(document, dict):
        raise InvalidDocument("the WebFinger response is not a JSON object")
    links = document.get("links")
    if not isinstance(links, list):
        raise InvalidDocument("the WebFinger response has no links")
    href = None
    for link in links:
        if isinstance(link, dict) and link.get("rel") == "self" and is_activitypub_media_type(link.get("type")):
            href = link.get("href")
            break
    if not isinstance(href, str) or urlsplit(href).scheme not in ("http", "https") or not urlsplit(href).hostname:
        raise InvalidDocument("the WebFinger response has no ActivityPub self link")
    subject = None
    raw_subject = document.get("subject")
    if isinstance(raw_subject, str) and raw_subject.lower().startswith("acct:"):
        try:
            subject = parse_acct(raw_subject)
        except InvalidAccount:
            raise InvalidDocument(f"the WebFinger subject {raw_subject!r} is not a valid account") from None
    return JRD(subject=subject, self_href=href)
