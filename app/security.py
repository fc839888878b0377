"""Secrets: random tokens, their stored hashes, passwords, signed links and keys."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta, timezone

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters


def random_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """Tokens are high-entropy, so a plain SHA-256 is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def sign_link(secret: str, purpose: str, subject: str, hours: float, **claims) -> str:
    now = datetime.now(timezone.utc)
    payload = {"sub": subject, "purpose": purpose, "iat": now, "exp": now + timedelta(hours=hours), **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


class LinkError(Exception):
    """A signed link that is malformed, for another purpose, or expired."""


class LinkExpired(LinkError):
    """A signed link that was valid but is past its expiry."""


def read_link(secret: str, purpose: str, token: str) -> dict:
    try:
        payload = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError:
        raise LinkExpired("This link has expired") from None
    except jwt.PyJWTError:
        raise LinkError("This link is invalid") from None
    if payload.get("purpose") != purpose:
        raise LinkError("This link is invalid")
    return payload


def generate_key_pair() -> tuple[str, str]:
    """RSA 2048 as Mastodon uses for HTTP Signatures: (private PEM, public PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private_pem, public_pem


def vapid_public_key(secret_key: str) -> str:
    """The server's Web Push (VAPID) public key, as Mastodon shows it: an uncompressed
    P-256 point in URL-safe base64. Derived from the secret key so that every process
    agrees on it without configuration; push delivery signs with the matching private key."""
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # of the P-256 group
    seed = int.from_bytes(hmac.new(secret_key.encode(), b"vapid", hashlib.sha256).digest(), "big")
    key = ec.derive_private_key(seed % (order - 1) + 1, ec.SECP256R1())
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).decode()
