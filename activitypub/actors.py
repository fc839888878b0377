"""AS2 actor documents -> a plain `Actor`.

    actor = parse_actor(document)     # ParseError when it is not a usable actor

An actor must have an http(s) `id`, a `preferredUsername`, an `inbox`, and a `publicKey`
whose `owner` is the actor itself (a key claimed by someone else would let one actor sign
for another). HTML (`summary`, field values) is returned as received: sanitising it is
the storing side's job.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from activitypub.vocabulary import (ParseError, as_list, flag, id_of, link_url, optional_url, required_url,
                                    same_server_url, text, timestamp, type_of)

ACTOR_TYPES = ("Person", "Service", "Application", "Group", "Organization")
MAX_FIELDS = 16  # profile fields kept; Mastodon shows at most 4 of its own, others send a few more
MAX_NAME = 255


@dataclass(frozen=True)
class PublicKey:
    id: str
    owner: str
    pem: str


@dataclass(frozen=True)
class Field:
    name: str
    value: str  # HTML


@dataclass(frozen=True)
class Actor:
    id: str
    type: str
    preferred_username: str
    name: str
    summary: str  # HTML
    url: str | None
    inbox: str
    outbox: str | None
    followers: str | None
    following: str | None
    shared_inbox: str | None
    public_key: PublicKey
    icon_url: str | None
    image_url: str | None
    manually_approves_followers: bool
    discoverable: bool
    indexable: bool
    published: datetime | None
    fields: list[Field] = field(default_factory=list)

    @property
    def bot(self) -> bool:
        return self.type in ("Service", "Application")

    @property
    def group(self) -> bool:
        return self.type == "Group"


def _public_key(document: dict, actor_id: str) -> PublicKey:
    raw = document.get("publicKey")
    if isinstance(raw, list):  # some servers send several; the one owned by the actor counts
        owned = [k for k in raw if isinstance(k, dict) and id_of(k.get("owner")) == actor_id]
        raw = (owned or raw or [None])[0]
    if not isinstance(raw, dict):
        raise ParseError("the actor has no publicKey")
    pem = raw.get("publicKeyPem")
    key_id = id_of(raw)
    owner = id_of(raw.get("owner"))
    if not isinstance(pem, str) or "BEGIN PUBLIC KEY" not in pem or len(pem) > 16_384 or not key_id:
        raise ParseError("the actor's publicKey is malformed")
    if owner != actor_id:
        raise ParseError("the actor's publicKey belongs to someone else")
    return PublicKey(id=key_id, owner=owner, pem=pem)


def _fields(document: dict) -> list[Field]:
    found = []
    for item in as_list(document.get("attachment")):
        if not isinstance(item, dict) or "PropertyValue" not in type_of(item):
            continue
        name, value = item.get("name"), item.get("value")
        if isinstance(name, str) and isinstance(value, str):
            found.append(Field(name=name[:MAX_NAME], value=value[:2048]))
        if len(found) == MAX_FIELDS:
            break
    return found


def parse_actor(document: dict) -> Actor:
    if not isinstance(document, dict):
        raise ParseError("the actor document is not a JSON object")
    kinds = type_of(document) & set(ACTOR_TYPES)
    if not kinds:
        raise ParseError("the document is not an actor")
    actor_id = required_url(document, "id")
    username = document.get("preferredUsername")
    if not isinstance(username, str) or not username.strip() or len(username) > MAX_NAME:
        raise ParseError("the actor has no preferredUsername")
    endpoints = document.get("endpoints") if isinstance(document.get("endpoints"), dict) else {}
    return Actor(
        id=actor_id,
        type=next(t for t in ACTOR_TYPES if t in kinds),
        preferred_username=username.strip(),
        name=text(document, "name")[:MAX_NAME],
        summary=text(document, "summary"),
        url=same_server_url(link_url(document.get("url")), actor_id),
        inbox=required_url(document, "inbox"),
        outbox=optional_url(document, "outbox"),
        followers=optional_url(document, "followers"),
        following=optional_url(document, "following"),
        shared_inbox=optional_url(endpoints, "sharedInbox"),
        public_key=_public_key(document, actor_id),
        icon_url=link_url(document.get("icon"), prefer_type=""),
        image_url=link_url(document.get("image"), prefer_type=""),
        manually_approves_followers=flag(document, "manuallyApprovesFollowers"),
        # Absent means no, as Mastodon reads them: a server that never heard of the
        # opt-ins has not opted its users in.
        discoverable=flag(document, "discoverable"),
        indexable=flag(document, "indexable"),
        published=timestamp(document, "published"),
        fields=_fields(document),
    )
