"""Local accounts: creation (with the validation Mastodon applies) and lookups."""
from __future__ import annotations

import asyncio
import re

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import get_settings
from app.errors import Validation, ValidationFailed
from app.models import Account, User
from app.models.base import utcnow
from app.security import generate_key_pair, hash_password

USERNAME = re.compile(r"^[a-z0-9_]+$", re.IGNORECASE)
USERNAME_MAX = 30
# An address with one @, no spaces, and a dotted domain; deliverability is proven by confirmation.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
PASSWORD_MAX = 72  # argon2 takes more, but Mastodon clients expect this bound
RESERVED = {
    "admin", "administrator", "root", "support", "help", "moderator", "mod", "postmaster", "webmaster",
    "hostmaster", "abuse", "security", "staff", "system", "starling", "instance", "null", "undefined",
}
# The passwords every leak list starts with; refusing them costs nothing.
COMMON_PASSWORDS = {
    "password", "password1", "password123", "12345678", "123456789", "1234567890", "qwertyuiop", "11111111",
    "iloveyou", "sunshine", "princess", "football", "baseball", "welcome1", "abc12345", "qwerty123",
    "00000000", "87654321", "passw0rd", "letmein1", "trustno1", "superman", "starling",
}


def password_problems(password: str, *, username: str = "", email: str = "") -> list[tuple[str, str]]:
    settings = get_settings()
    if not password:
        return [("ERR_BLANK", "can't be blank")]
    if len(password) < settings.min_password_length:
        return [("ERR_TOO_SHORT", f"is too short (minimum is {settings.min_password_length} characters)")]
    if len(password) > PASSWORD_MAX:
        return [("ERR_TOO_LONG", f"is too long (maximum is {PASSWORD_MAX} characters)")]
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(password)) < 3:
        return [("ERR_INVALID", "is too common or too simple; choose a stronger password")]
    if (username and username.lower() in lowered) or (email and email.split("@")[0].lower() == lowered):
        return [("ERR_INVALID", "must not contain your username or e-mail address")]
    return []


async def find_local(session: AsyncSession, username: str) -> Account | None:
    return (
        await session.exec(
            select(Account).where(func.lower(Account.username) == username.lower(), Account.domain.is_(None))
        )
    ).first()


async def find_user_by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.exec(select(User).where(func.lower(User.email) == email.strip().lower()))).first()


async def validate_new(session: AsyncSession, username: str, email: str, password: str) -> Validation:
    problems = Validation()
    if not username:
        problems.add("username", "ERR_BLANK", "can't be blank")
    elif len(username) > USERNAME_MAX:
        problems.add("username", "ERR_TOO_LONG", f"is too long (maximum is {USERNAME_MAX} characters)")
    elif not USERNAME.match(username):
        problems.add("username", "ERR_INVALID", "must contain only letters, numbers and underscores")
    elif username.lower() in RESERVED:
        problems.add("username", "ERR_RESERVED", "is reserved")
    elif await find_local(session, username):
        problems.add("username", "ERR_TAKEN", "is already taken")

    if not email:
        problems.add("email", "ERR_BLANK", "can't be blank")
    elif len(email) > 320 or not EMAIL.match(email):
        problems.add("email", "ERR_INVALID", "is not a valid e-mail address")
    elif await find_user_by_email(session, email):
        problems.add("email", "ERR_TAKEN", "is already taken")

    for code, text in password_problems(password, username=username, email=email):
        problems.add("password", code, text)
    return problems


async def create_local(
    session: AsyncSession,
    *,
    username: str,
    email: str,
    password: str,
    locale: str = "en",
    reason: str = "",
    confirmed: bool = False,
    approved: bool = True,
    role: str = "user",
) -> tuple[Account, User]:
    """Validate and insert an account with its user and key pair (raises ValidationFailed)."""
    username, email = (username or "").strip(), (email or "").strip()
    problems = await validate_new(session, username, email, password or "")
    problems.raise_if_any()
    base = get_settings().base_url
    uri = f"{base}/users/{username}"
    # RSA generation and argon2 take tens of milliseconds: keep them off the event loop.
    private_pem, public_pem = await asyncio.to_thread(generate_key_pair)
    password_hash = await asyncio.to_thread(hash_password, password)
    account = Account(
        username=username,
        uri=uri,
        url=f"{base}/@{username}",
        inbox_url=f"{uri}/inbox",
        outbox_url=f"{uri}/outbox",
        shared_inbox_url=f"{base}/inbox",
        followers_url=f"{uri}/followers",
        following_url=f"{uri}/following",
        public_key_pem=public_pem,
        private_key_pem=private_pem,
    )
    session.add(account)
    try:
        await session.flush()
    except IntegrityError:  # lost a race with a concurrent sign-up for the same name
        raise ValidationFailed({"username": [("ERR_TAKEN", "is already taken")]}) from None
    user = User(
        account_id=account.id,
        email=email,
        password_hash=password_hash,
        locale=locale or "en",
        reason=reason or "",
        approved=approved,
        role=role,
        confirmed_at=utcnow() if confirmed else None,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        raise ValidationFailed({"email": [("ERR_TAKEN", "is already taken")]}) from None
    return account, user
