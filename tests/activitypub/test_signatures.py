"""HTTP Signatures as Mastodon speaks them: what we sign verifies, and every kind of
tampering or omission is refused with a SignatureError."""
from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from activitypub.signatures import (DigestMismatch, ExpiredSignature, InvalidSignature, MalformedSignature,
                                    SignatureError, digest_header, key_id_of, load_private_key, parse_signature,
                                    sign_request, signing_string, verify_request)
from app.security import generate_key_pair

KEY_ID = "https://local.example/actor#main-key"
URL = "https://remote.example/users/alice?page=1"


@pytest.fixture(scope="module")
def keys():
    return generate_key_pair()


@pytest.fixture(scope="module")
def other_keys():
    return generate_key_pair()


def test_signed_get_verifies(keys):
    private, public = keys
    headers = sign_request("GET", URL, KEY_ID, private)
    assert headers["Host"] == "remote.example"
    assert "Digest" not in headers
    params = parse_signature(headers["Signature"])
    assert params == {"keyId": KEY_ID, "algorithm": "rsa-sha256", "headers": "(request-target) host date",
                      "signature": params["signature"]}
    assert verify_request("GET", "/users/alice?page=1", headers, public) == KEY_ID
    assert key_id_of({"signature": headers["Signature"]}) == KEY_ID


def test_signing_string_is_the_drafts():
    text = signing_string("GET", "/users/alice", {"Host": "remote.example", "Date": "Tue, 07 Jun 2024 20:51:35 GMT"},
                          ["(request-target)", "host", "date"])
    assert text == "(request-target): get /users/alice\nhost: remote.example\ndate: Tue, 07 Jun 2024 20:51:35 GMT"


def test_signature_made_elsewhere_verifies(keys):
    """A signature computed by hand over the same text (as another server would) verifies."""
    private, public = keys
    headers = {"Host": "remote.example", "Date": sign_request("GET", URL, KEY_ID, private)["Date"]}
    text = signing_string("GET", "/inbox", headers, ["(request-target)", "host", "date"])
    raw = load_private_key(private).sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    headers["Signature"] = (f'keyId="{KEY_ID}", algorithm="hs2019", headers="(request-target) host date", '
                            f'signature="{base64.b64encode(raw).decode()}"')
    assert verify_request("GET", "/inbox", headers, public) == KEY_ID


def test_signed_post_carries_a_digest(keys):
    private, public = keys
    body = b'{"type":"Follow"}'
    headers = sign_request("POST", "https://remote.example/inbox", KEY_ID, private, body=body)
    assert headers["Digest"] == digest_header(body)
    assert "digest" in parse_signature(headers["Signature"])["headers"].split()
    verify_request("POST", "/inbox", headers, public, body=body)
    with pytest.raises(DigestMismatch):
        verify_request("POST", "/inbox", headers, public, body=b'{"type":"Block"}')


def test_tampering_is_refused(keys, other_keys):
    private, public = keys
    headers = sign_request("GET", URL, KEY_ID, private)
    with pytest.raises(InvalidSignature):
        verify_request("GET", "/users/bob?page=1", headers, public)  # another path
    with pytest.raises(InvalidSignature):
        verify_request("GET", "/users/alice?page=1", {**headers, "Host": "evil.example"}, public)
    with pytest.raises(InvalidSignature):
        verify_request("GET", "/users/alice?page=1", headers, other_keys[1])  # another key
    with pytest.raises(InvalidSignature):
        verify_request("DELETE", "/users/alice?page=1", headers, public)  # another method


def test_old_or_undated_requests_are_refused(keys):
    private, public = keys
    old = sign_request("GET", URL, KEY_ID, private, date=datetime.now(timezone.utc) - timedelta(hours=13))
    with pytest.raises(ExpiredSignature):
        verify_request("GET", "/users/alice?page=1", old, public)
    headers = sign_request("GET", URL, KEY_ID, private)
    with pytest.raises(ExpiredSignature):
        verify_request("GET", "/users/alice?page=1", {**headers, "Date": "yesterday"}, public)


@pytest.mark.parametrize("signature", [
    "", "garbage", 'keyId="x"', 'signature="abc"', 'keyId="x",signature="abc",headers="date"',
    'keyId="x",signature="abc",headers="(request-target) host date",algorithm="rsa-sha512"',
    'keyId="x",signature="not base64!",headers="(request-target) host date"',
    'keyId="x",signature="abc",headers="(request-target) host date content-type"',
])
def test_malformed_signature_headers(keys, signature):
    private, public = keys
    headers = sign_request("GET", URL, KEY_ID, private)
    with pytest.raises(MalformedSignature):
        verify_request("GET", "/users/alice?page=1", {**headers, "Signature": signature}, public)


def test_a_post_must_sign_its_digest(keys):
    private, public = keys
    headers = sign_request("GET", "https://remote.example/inbox", KEY_ID, private)  # no digest signed
    with pytest.raises(MalformedSignature):
        verify_request("POST", "/inbox", headers, public, body=b"{}")


def test_errors_share_a_base():
    for error in (MalformedSignature, ExpiredSignature, DigestMismatch, InvalidSignature):
        assert issubclass(error, SignatureError)
