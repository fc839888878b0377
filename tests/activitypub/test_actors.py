"""AS2 actors and notes -> plain objects; documents that cannot be trusted or used are refused."""
from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest

from activitypub.actors import parse_actor
from activitypub.notes import parse_note
from activitypub.vocabulary import PUBLIC, ParseError

PEM = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"
ALICE = "https://remote.example/users/alice"


def actor(**changes) -> dict:
    document = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": ALICE, "type": "Person", "preferredUsername": "alice", "name": "Alice A.",
        "summary": "<p>Hi <script>x</script></p>", "url": "https://remote.example/@alice",
        "inbox": f"{ALICE}/inbox", "outbox": f"{ALICE}/outbox", "followers": f"{ALICE}/followers",
        "following": f"{ALICE}/following", "endpoints": {"sharedInbox": "https://remote.example/inbox"},
        "publicKey": {"id": f"{ALICE}#main-key", "owner": ALICE, "publicKeyPem": PEM},
        "icon": {"type": "Image", "mediaType": "image/png", "url": "https://remote.example/a.png"},
        "image": {"type": "Image", "url": "https://remote.example/h.png"},
        "manuallyApprovesFollowers": True, "discoverable": True, "indexable": False,
        "published": "2023-04-01T10:00:00Z",
        "attachment": [{"type": "PropertyValue", "name": "Site", "value": "<a href=\"https://a.example\">a</a>"},
                       {"type": "IdentityProof", "name": "x"}],
    }
    document.update(changes)
    return {k: v for k, v in document.items() if v is not None}


def test_a_person():
    parsed = parse_actor(actor())
    assert (parsed.id, parsed.type, parsed.preferred_username, parsed.name) == (ALICE, "Person", "alice", "Alice A.")
    assert parsed.summary == "<p>Hi <script>x</script></p>"  # raw: the storing side sanitises
    assert parsed.url == "https://remote.example/@alice"
    assert (parsed.inbox, parsed.outbox, parsed.shared_inbox) == (f"{ALICE}/inbox", f"{ALICE}/outbox",
                                                                  "https://remote.example/inbox")
    assert (parsed.followers, parsed.following) == (f"{ALICE}/followers", f"{ALICE}/following")
    assert parsed.public_key.id == f"{ALICE}#main-key" and parsed.public_key.owner == ALICE
    assert parsed.public_key.pem == PEM
    assert (parsed.icon_url, parsed.image_url) == ("https://remote.example/a.png", "https://remote.example/h.png")
    assert parsed.manually_approves_followers and parsed.discoverable and not parsed.indexable
    assert parsed.published == datetime(2023, 4, 1, 10, tzinfo=timezone.utc)
    assert [(f.name, f.value) for f in parsed.fields] == [("Site", "<a href=\"https://a.example\">a</a>")]
    assert not parsed.bot and not parsed.group


@pytest.mark.parametrize("kind,bot,group", [("Service", True, False), ("Application", True, False),
                                            ("Group", False, True), ("Organization", False, False)])
def test_other_actor_types(kind, bot, group):
    parsed = parse_actor(actor(type=kind))
    assert (parsed.type, parsed.bot, parsed.group) == (kind, bot, group)


def test_shapes_servers_send():
    parsed = parse_actor(actor(
        url=[{"type": "Link", "mediaType": "application/activity+json", "href": ALICE},
             {"type": "Link", "mediaType": "text/html", "href": "https://remote.example/@alice"}],
        icon=["https://remote.example/a.png"], discoverable=None, indexable=None, manuallyApprovesFollowers=None,
        endpoints=None, publicKey=[{"id": "https://remote.example/k", "owner": "https://other.example/x",
                                    "publicKeyPem": PEM},
                                   {"id": f"{ALICE}#main-key", "owner": ALICE, "publicKeyPem": PEM}]))
    assert parsed.url == "https://remote.example/@alice"
    assert parsed.icon_url == "https://remote.example/a.png"
    assert not parsed.discoverable and not parsed.indexable and not parsed.manually_approves_followers
    assert parsed.shared_inbox is None
    assert parsed.public_key.id == f"{ALICE}#main-key"


@pytest.mark.parametrize("changes", [
    {"type": "Note"},
    {"type": None},
    {"id": None},
    {"id": "javascript:alert(1)"},
    {"preferredUsername": None},
    {"preferredUsername": 42},
    {"inbox": None},
    {"name": {"not": "text"}},
    {"publicKey": None},
    {"publicKey": {"id": f"{ALICE}#main-key", "owner": ALICE}},
    {"publicKey": {"id": f"{ALICE}#main-key", "owner": "https://evil.example/users/mallory", "publicKeyPem": PEM}},
    {"publicKey": {"id": f"{ALICE}#main-key", "publicKeyPem": PEM}},
])
def test_unusable_actors(changes):
    with pytest.raises(ParseError):
        parse_actor(actor(**changes))


def test_not_an_object():
    for document in ([], "x", None):
        with pytest.raises(ParseError):
            parse_actor(document)


NOTE = {
    "id": f"{ALICE}/statuses/1", "type": "Note", "attributedTo": ALICE,
    "content": "<p>Hello <a href=\"https://remote.example/tags/cats\" class=\"mention hashtag\">#cats</a></p>",
    "summary": None, "sensitive": False, "published": "2024-05-01T12:00:00Z",
    "url": "https://remote.example/@alice/1", "inReplyTo": None,
    "to": [PUBLIC], "cc": [f"{ALICE}/followers"],
    "tag": [{"type": "Hashtag", "name": "#cats", "href": "https://remote.example/tags/cats"},
            {"type": "Mention", "name": "@bob@local.example", "href": "https://local.example/users/bob"}],
}


def note(**changes) -> dict:
    document = copy.deepcopy(NOTE)
    document.update(changes)
    return document


def test_a_note():
    parsed = parse_note(note())
    assert (parsed.id, parsed.attributed_to, parsed.url) == (f"{ALICE}/statuses/1", ALICE,
                                                             "https://remote.example/@alice/1")
    assert parsed.published == datetime(2024, 5, 1, 12, tzinfo=timezone.utc)
    assert parsed.hashtags == ["cats"] and parsed.mentions == ["https://local.example/users/bob"]
    assert parsed.in_reply_to is None and parsed.summary == "" and not parsed.sensitive


def test_content_map_gives_the_language():
    parsed = parse_note(note(content=None, contentMap={"de": "<p>Hallo</p>"}))
    assert (parsed.content, parsed.language) == ("<p>Hallo</p>", "de")


@pytest.mark.parametrize("to,cc,expected", [
    ([PUBLIC], [f"{ALICE}/followers"], "public"),
    (["as:Public"], [], "public"),
    ([f"{ALICE}/followers"], [PUBLIC], "unlisted"),
    ([f"{ALICE}/followers"], [], "private"),
    ([], [f"{ALICE}/followers", "https://local.example/users/bob"], "private"),
    (["https://local.example/users/bob"], [], "direct"),
    ([], [], "direct"),
])
def test_visibility_as_mastodon_reads_it(to, cc, expected):
    assert parse_note(note(to=to, cc=cc)).visibility(f"{ALICE}/followers") == expected


def test_addressing_as_objects_and_strings():
    parsed = parse_note(note(to=PUBLIC, cc=[{"id": f"{ALICE}/followers"}],
                             attributedTo=[{"id": ALICE, "type": "Person"}]))
    assert parsed.to == [PUBLIC] and parsed.cc == [f"{ALICE}/followers"] and parsed.attributed_to == ALICE


@pytest.mark.parametrize("changes", [
    {"type": "Person"},
    {"type": "Article"},
    {"id": None},
    {"attributedTo": None},
    {"attributedTo": "https://evil.example/users/mallory"},  # another server may not speak for this one
    {"content": ["not", "text"]},
    {"content": "x" * 600_000},
])
def test_unusable_notes(changes):
    with pytest.raises(ParseError):
        parse_note(note(**changes))
