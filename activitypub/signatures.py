"""HTTP Signatures (draft-cavage-http-signatures-12) and Digest, as Mastodon speaks them.

    headers = sign_request("GET", url, key_id, private_pem)                  # Host, Date, Signature
    headers = sign_request("POST", url, key_id, private_pem, body=payload)   # + Digest
    verify_request("GET", "/users/alice?page=1", headers, public_pem)        # raises SignatureError

Signatures are rsa-sha256 (`hs2019` is accepted when verifying: it names the same
computation for an RSA key) over `(request-target) host date`, plus `digest` when there
is a body. Mastodon refuses a signed request without `(request-target)`, without `digest`
on a POST, or dated more than 12 hours away, and so does `verify_request`.

Errors:

    SignatureError
    ├── MalformedSignature   the Signature header cannot be parsed or lacks a required part
    ├── ExpiredSignature     the Date header is missing, unreadable or too far from now
    ├── DigestMismatch       the Digest header does not match the body
    └── InvalidSignature     the signature does not verify against the key
"""
from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Mapping
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature as _CryptoInvalid
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

GET_HEADERS = ("(request-target)", "host", "date")
POST_HEADERS = ("(request-target)", "host", "date", "digest")
MAX_AGE = timedelta(hours=12)  # Mastodon's window either side of now
_PARAM = re.compile(r'\s*([a-zA-Z]+)\s*=\s*"([^"]*)"\s*(?:,|$)')


class SignatureError(Exception):
    """A request's signature cannot be trusted."""


class MalformedSignature(SignatureError):
    pass


class ExpiredSignature(SignatureError):
    pass


class DigestMismatch(SignatureError):
    pass


class InvalidSignature(SignatureError):
    pass


def digest_header(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def http_date(moment: datetime | None = None) -> str:
    return format_datetime((moment or datetime.now(timezone.utc)).astimezone(timezone.utc), usegmt=True)


def _request_target(method: str, path: str) -> str:
    return f"{method.lower()} {path}"


def signing_string(method: str, path: str, headers: Mapping[str, str], names: tuple[str, ...] | list[str]) -> str:
    """The text that is signed: one `name: value` line per signed header, in order.
    `path` includes the query string; `headers` keys are matched case-insensitively."""
    lowered = {k.lower(): v for k, v in headers.items()}
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {_request_target(method, path)}")
        elif name in lowered:
            lines.append(f"{name}: {lowered[name]}")
        else:
            raise MalformedSignature(f"signed header {name!r} is missing from the request")
    return "\n".join(lines)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2]


def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("only RSA keys sign HTTP requests")
    return key


def sign_request(method: str, url: str, key_id: str, private_key_pem: str, *, body: bytes | None = None,
                 date: datetime | None = None) -> dict[str, str]:
    """The headers to send with the request: Host, Date, (Digest,) Signature."""
    headers = {"Host": _host(url), "Date": http_date(date)}
    names = GET_HEADERS
    if body is not None:
        headers["Digest"] = digest_header(body)
        names = POST_HEADERS
    text = signing_string(method, _path(url), headers, names)
    signature = load_private_key(private_key_pem).sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    headers["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
        f'signature="{base64.b64encode(signature).decode()}"'
    )
    return headers


def parse_signature(header: str) -> dict[str, str]:
    """The parameters of a Signature header: keyId, signature, headers (default `date`), algorithm."""
    if not isinstance(header, str) or len(header) > 8192:
        raise MalformedSignature("the Signature header is missing or too long")
    params: dict[str, str] = {}
    position = 0
    while position < len(header):
        match = _PARAM.match(header, position)
        if match is None:
            raise MalformedSignature("the Signature header cannot be parsed")
        params[match.group(1)] = match.group(2)
        position = match.end()
    if not params.get("keyId") or not params.get("signature"):
        raise MalformedSignature("the Signature header lacks keyId or signature")
    params.setdefault("headers", "date")
    return params


def key_id_of(headers: Mapping[str, str]) -> str:
    """The keyId a request claims to be signed with (to look the key up before verifying)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    return parse_signature(lowered.get("signature", ""))["keyId"]


def verify_request(method: str, path: str, headers: Mapping[str, str], public_key_pem: str, *,
                   body: bytes | None = None, now: datetime | None = None) -> str:
    """Check a signed request against the signer's public key; returns the keyId.

    `path` is the request path with its query string. Raises a SignatureError subclass."""
    lowered = {k.lower(): v for k, v in headers.items()}
    params = parse_signature(lowered.get("signature", ""))
    if params.get("algorithm", "rsa-sha256").lower() not in ("rsa-sha256", "hs2019"):
        raise MalformedSignature(f"unsupported algorithm {params['algorithm']!r}")
    names = params["headers"].lower().split()
    required = POST_HEADERS if method.upper() == "POST" else GET_HEADERS
    missing = [n for n in required if n not in names]
    if missing:
        raise MalformedSignature(f"the signature does not cover {', '.join(missing)}")
    _check_date(lowered.get("date"), now or datetime.now(timezone.utc))
    if body is not None and "digest" in names:
        if not _digest_matches(lowered.get("digest", ""), body):
            raise DigestMismatch("the Digest header does not match the body")
    try:
        signature = base64.b64decode(params["signature"], validate=True)
        key = serialization.load_pem_public_key(public_key_pem.encode())
    except ValueError:
        raise MalformedSignature("the signature or the key cannot be decoded") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise MalformedSignature("only RSA keys are supported")
    text = signing_string(method, path, lowered, names)
    try:
        key.verify(signature, text.encode(), padding.PKCS1v15(), hashes.SHA256())
    except _CryptoInvalid:
        raise InvalidSignature("the signature does not match") from None
    return params["keyId"]


def _check_date(raw: str | None, now: datetime) -> None:
    try:
        moment = parsedate_to_datetime(raw) if raw else None
    except (TypeError, ValueError):
        moment = None
    if moment is None:
        raise ExpiredSignature("the Date header is missing or unreadable")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if abs(now - moment) > MAX_AGE:
        raise ExpiredSignature("the request is dated too far from now")


def _digest_matches(header: str, body: bytes) -> bool:
    # Digest may list several algorithms (`SHA-256=...,SHA-512=...`); we check SHA-256.
    for part in header.split(","):
        algorithm, _, value = part.strip().partition("=")
        if algorithm.upper() == "SHA-256":
            return value == digest_header(body).partition("=")[2]
    return False
