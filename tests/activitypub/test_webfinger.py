"""WebFinger: addresses in, the actor's URL out; malformed input refused with WebFingerError."""
from __future__ import annotations

import json

import pytest

from activitypub.webfinger import (Acct, InvalidAccount, InvalidDocument, WebFingerError, parse_acct, parse_jrd,
                                   query_url)


@pytest.mark.parametrize("text", ["alice@example.com", "@alice@example.com", "acct:alice@example.com",
                                  "  @alice@Example.COM "])
def test_address_forms(text):
    assert parse_acct(text) == Acct("alice", "example.com")


def test_usernames_and_domains_as_mastodon_allows():
    assert parse_acct("a.b-c_d@sub.example.org:8443") == Acct("a.b-c_d", "sub.example.org:8443")
    assert parse_acct("bob@bücher.example").domain == "xn--bcher-kva.example"


@pytest.mark.parametrize("text", ["", "alice", "@alice", "alice@", "@@x@", "@a@b@c", "al ice@example.com",
                                  "alice@exa mple.com", "alice@example.com/path", ".alice@example.com",
                                  "alice.@example.com", "alice@-example.com", "alice@example..com",
                                  "alice@example.com:99999", "alice@example.com:x", "x" * 256 + "@example.com",
                                  "x" * 600 + "@example.com"])
def test_malformed_addresses(text):
    with pytest.raises(InvalidAccount):
        parse_acct(text)


def test_errors_are_value_errors():
    assert issubclass(InvalidAccount, WebFingerError) and issubclass(InvalidDocument, WebFingerError)
    assert issubclass(WebFingerError, ValueError)


def test_query_url():
    assert query_url(Acct("alice", "example.com")) == \
        "https://example.com/.well-known/webfinger?resource=acct%3Aalice%40example.com"
    assert query_url(Acct("alice", "localhost:3000"), "http").startswith("http://localhost:3000/.well-known/")


def jrd(*links, subject="acct:alice@example.com"):
    return {"subject": subject, "links": list(links)}


PROFILE = {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": "https://example.com/@alice"}


@pytest.mark.parametrize("media_type", ["application/activity+json",
                                        'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
                                        "application/ld+json;profile=\"https://www.w3.org/ns/activitystreams\""])
def test_self_link(media_type):
    found = parse_jrd(json.dumps(jrd(PROFILE, {"rel": "self", "type": media_type,
                                               "href": "https://example.com/users/alice"})).encode())
    assert found.self_href == "https://example.com/users/alice"
    assert found.subject == Acct("alice", "example.com")


def test_subject_may_be_missing_or_another_scheme():
    link = {"rel": "self", "type": "application/activity+json", "href": "https://example.com/users/alice"}
    assert parse_jrd({"links": [link]}).subject is None
    assert parse_jrd(jrd(link, subject="https://example.com/users/alice")).subject is None


@pytest.mark.parametrize("document", [
    b"<html>not json</html>",
    b"[1, 2]",
    b'"text"',
    json.dumps({"subject": "acct:alice@example.com"}).encode(),  # no links
    json.dumps(jrd(PROFILE)).encode(),  # no self link
    json.dumps(jrd({"rel": "self", "type": "text/html", "href": "https://example.com/@alice"})).encode(),
    json.dumps(jrd({"rel": "self", "type": "application/activity+json"})).encode(),  # no href
    json.dumps(jrd({"rel": "self", "type": "application/activity+json", "href": "javascript:alert(1)"})).encode(),
    json.dumps(jrd({"rel": "self", "type": "application/activity+json", "href": "https://example.com/u"},
                   subject="acct:@@example.com")).encode(),
    b"\xff\xfe",
])
def test_malformed_documents(document):
    with pytest.raises(InvalidDocument):
        parse_jrd(document)
