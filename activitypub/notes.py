"""AS2 objects that become statuses -> a plain `Note`.

    note = parse_note(document)                            # ParseError when unusable
    visibility = note.visibility(author_followers_url)     # public | unlisted | private | direct

Note and Question (a poll, kept as its text for now) are statuses; other types are
refused. `attributedTo` must be on the same server as the object's `id`: a server may
only speak for its own actors. HTML is returned as received: the storing side sanitises it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from activitypub.vocabulary import (ParseError, PUBLIC_ALIASES, as_list, flag, host_of, id_of, ids_of,
                                    is_http_url, link_url, mapped_text, required_url, same_server_url,
                                    timestamp, type_of)

STATUS_TYPES = ("Note", "Question")
MAX_TAGS = 64
MAX_AUDIENCE = 10_000


@dataclass(frozen=True)
class TagRef:
    type: str          # Mention | Hashtag | Emoji | ...
    name: str          # "@alice@example.com", "#cats"
    href: str | None


@dataclass(frozen=True)
class Note:
    id: str
    type: str
    attributed_to: str
    content: str        # HTML
    summary: str        # content warning (HTML or text)
    sensitive: bool
    published: datetime | None
    updated: datetime | None
    in_reply_to: str | None
    url: str | None
    language: str | None
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    tags: list[TagRef] = field(default_factory=list)

    def visibility(self, followers_url: str | None) -> str:
        """Mastodon's reading of the audience: the Public collection in `to` is public, in
        `cc` unlisted; the author's followers collection is private; anything else direct."""
        if PUBLIC_ALIASES & set(self.to):
            return "public"
        if PUBLIC_ALIASES & set(self.cc):
            return "unlisted"
        if followers_url and followers_url in self.to + self.cc:
            return "private"
        return "direct"

    @property
    def mentions(self) -> list[str]:
        """The actor URLs this note mentions."""
        return [t.href for t in self.tags if t.type == "Mention" and t.href]

    @property
    def hashtags(self) -> list[str]:
        """Hashtag names without the `#`."""
        return [t.name.lstrip("#") for t in self.tags if t.type == "Hashtag" and t.name.lstrip("#")]


def _tags(document: dict) -> list[TagRef]:
    found = []
    for item in as_list(document.get("tag"))[:MAX_TAGS]:
        if not isinstance(item, dict):
            continue
        kinds = type_of(item)
        name = item.get("name")
        href = id_of(item.get("href"))
        if not kinds or not isinstance(name, str) or len(name) > 255:
            continue
        found.append(TagRef(type=sorted(kinds)[0], name=name, href=href if is_http_url(href) else None))
    return found


def parse_note(document: dict) -> Note:
    if not isinstance(document, dict):
        raise ParseError("the object is not a JSON object")
    kinds = type_of(document) & set(STATUS_TYPES)
    if not kinds:
        raise ParseError("the object is not a Note")
    note_id = required_url(document, "id")
    authors = [a for a in ids_of(document.get("attributedTo")) if is_http_url(a)]
    if not authors:
        raise ParseError("the Note has no attributedTo")
    author = authors[0]
    if host_of(author) != host_of(note_id):
        raise ParseError("the Note is attributed to an actor on another server")
    content, language = mapped_text(document, "content")
    summary, _ = mapped_text(document, "summary")
    to, cc = ids_of(document.get("to")), ids_of(document.get("cc"))
    if len(to) + len(cc) > MAX_AUDIENCE:
        raise ParseError("the Note's audience is too long")
    in_reply_to = id_of(document.get("inReplyTo"))
    return Note(
        id=note_id,
        type=next(t for t in STATUS_TYPES if t in kinds),
        attributed_to=author,
        content=content,
        summary=summary,
        sensitive=flag(document, "sensitive"),
        published=timestamp(document, "published"),
        updated=timestamp(document, "updated"),
        in_reply_to=in_reply_to if is_http_url(in_reply_to) else None,
        url=same_server_url(link_url(document.get("url")), note_id),
        language=language,
        to=to,
        cc=cc,
        tags=_tags(document),
    )
