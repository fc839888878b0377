"""The account lifecycle around sign-in: sign-up, e-mail confirmation, password reset.

Both the Mastodon API (POST /api/v1/accounts, POST /api/v1/emails/confirmations)
and the web pages (app/web/auth.py) call these.

Links in mail are signed JWTs (app.security.sign_link) rather than stored tokens:
- confirmation: purpose "confirm", bound to the address it was sent to, so a
  link to an address the user has since replaced is refused;
- password reset: purpose "reset", bound to ``password_changed_at``, so the link
  dies once it has been used or the password has changed any other way.

Registration mode comes from settings at call time: "open", "approval" (new
users wait for a moderator, see app.services.admin_accounts) or "closed".
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from urllib.parse import urlencode

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.config import get_settings
from app.errors import ApiError, Forbidden, Validation
from app.models import Account, Rule, User
from app.models.base import utcnow
from app.security import LinkError, LinkExpired, hash_password, read_link, sign_link
from app.services import accounts, mail, notifications, streaming, tokens
from app.services.tokens import IssuedToken

REASON_MAX = 1000
LOCALE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")


class RegistrationsClosed(Forbidden):
    """Mastodon answers a sign-up on a closed server with its generic 403."""

    def __init__(self) -> None:
        super().__init__("This action is not allowed")


class BadLink(ApiError):
    """A confirmation or reset link that cannot be used; `kind` is expired, invalid or used."""

    status_code = 400

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass
class SignUp:
    """What a person submits to register, from the API or the sign-up page."""

    username: str = ""
    email: str = ""
    password: str = ""
    agreement: bool = False
    locale: str = "en"
    reason: str = ""
    date_of_birth: str | None = None
    # Only the web form asks for it; the API has no such parameter.
    password_confirmation: str | None = None


def mode() -> str:
    return get_settings().registrations


async def server_rules() -> list[Rule]:
    """The rules a person agrees to when signing up."""
    async with db.session() as session:
        result = await session.exec(select(Rule).where(Rule.deleted_at.is_(None)).order_by(Rule.position, Rule.id))
        return list(result.all())


# --- sign-up ---------------------------------------------------------------------------------------

def _check_extras(problems: Validation, form: SignUp, registration_mode: str) -> None:
    """The checks Mastodon makes beyond username, e-mail and password."""
    if form.password_confirmation is not None and form.password_confirmation != form.password:
        problems.add("password_confirmation", "ERR_INVALID", "doesn't match the password")
    if not form.agreement:
        problems.add("agreement", "ERR_ACCEPTED", "must be accepted")
    if form.locale and not LOCALE.match(form.locale):
        problems.add("locale", "ERR_INCLUSION", "is not a supported language")
    reason = (form.reason or "").strip()
    if registration_mode == "approval" and not reason:
        problems.add("reason", "ERR_BLANK", "can't be blank: tell the moderators why you want to join")
    elif len(reason) > REASON_MAX:
        problems.add("reason", "ERR_TOO_LONG", f"is too long (maximum is {REASON_MAX} characters)")
    if form.date_of_birth:
        try:
            born = date.fromisoformat(str(form.date_of_birth))
        except ValueError:
            problems.add("date_of_birth", "ERR_INVALID", "is not a valid date (use YYYY-MM-DD)")
        else:
            if born > date.today():
                problems.add("date_of_birth", "ERR_INVALID", "is in the future")


async def _create(session: AsyncSession, form: SignUp, application_id: int | None) -> tuple[Account, User]:
    registration_mode = mode()
    if registration_mode == "closed":
        raise RegistrationsClosed()
    username, email = (form.username or "").strip(), (form.email or "").strip()
    problems = await accounts.validate_new(session, username, email, form.password or "")
    _check_extras(problems, form, registration_mode)
    problems.raise_if_any()
    account, user = await accounts.create_local(
        session,
        username=username,
        email=email,
        password=form.password,
        locale=(form.locale or "en").replace("_", "-"),
        reason=(form.reason or "").strip(),
        approved=registration_mode != "approval",
    )
    user.created_by_application_id = application_id
    _send_confirmation(session, user, account)
    return account, user


async def register_from_app(application_id: int | None, scopes: list[str], form: SignUp) -> IssuedToken:
    """POST /api/v1/accounts: the new user and a token for them, issued to the calling app.

    The token is refused by the API until the address is confirmed (and, in
    approval mode, the account approved): app.api.auth checks both.
    """
    async with db.session() as session:
        account, _ = await _create(session, form, application_id)
        return await tokens.issue(session, application_id=application_id, account_id=account.id, scopes=scopes)


async def register_from_web(form: SignUp) -> User:
    async with db.session() as session:
        _, user = await _create(session, form, None)
        return user


# --- e-mail confirmation ---------------------------------------------------------------------------

def confirmation_link(user: User) -> str:
    settings = get_settings()
    token = sign_link(settings.secret_key, "confirm", str(user.id), settings.confirmation_link_hours,
                      email=user.email.lower())
    return f"{settings.base_url}/auth/confirmation?{urlencode({'confirmation_token': token})}"


def _send_confirmation(session: AsyncSession, user: User, account: Account) -> None:
    user.confirmation_sent_at = utcnow()
    session.add(user)
    mail.confirmation(session, user, account, confirmation_link(user))


def _read(purpose: str, token: str, what: str) -> dict:
    try:
        return read_link(get_settings().secret_key, purpose, token or "")
    except LinkExpired:
        raise BadLink("expired", f"This {what} link has expired") from None
    except LinkError:
        raise BadLink("invalid", f"This {what} link is invalid") from None


async def _user_for_update(session: AsyncSession, payload: dict) -> User | None:
    try:
        user_id = int(payload["sub"])
    except (KeyError, ValueError):
        return None
    return (await session.exec(select(User).where(User.id == user_id).with_for_update())).first()


async def confirm_email(token: str) -> tuple[str, User]:
    """Follow a confirmation link: ("confirmed" | "already_confirmed", user), or raise BadLink."""
    payload = _read("confirm", token, "confirmation")
    async with db.session() as session:
        user = await _user_for_update(session, payload)
        if user is None:
            raise BadLink("invalid", "This confirmation link is invalid")
        if payload.get("email") != user.email.lower():
            raise BadLink("invalid", "This confirmation link was sent to an address that is no longer on the account")
        if user.confirmed:
            return "already_confirmed", user
        await mark_confirmed(session, user)
        return "confirmed", user


async def mark_confirmed(session: AsyncSession, user: User) -> None:
    """The address is confirmed now (its link followed, or `starling accounts confirm`). As
    Mastodon, someone still waiting for approval is approved at once if sign-ups have been opened
    since; whoever can now use their account is announced to staff (admin.sign_up)."""
    user.confirmed_at = utcnow()
    if not user.approved and mode() == "open":
        user.approved = True
    session.add(user)
    if user.approved:
        await notifications.signed_up(session, user.account_id)


async def resend_confirmation(email: str) -> None:
    """The web resend form. Says nothing about whether the address has an account."""
    async with db.session() as session:
        user = await accounts.find_user_by_email(session, email or "")
        if user is None or user.confirmed or user.disabled:
            return
        account = await session.get(Account, user.account_id)
        _send_confirmation(session, user, account)


async def resend_from_app(user_id: int, application_id: int | None, new_email: str | None) -> None:
    """POST /api/v1/emails/confirmations, optionally moving an unconfirmed user to a new address."""
    async with db.session() as session:
        user = (await session.exec(select(User).where(User.id == user_id).with_for_update())).one()
        if user.created_by_application_id is None or user.created_by_application_id != application_id:
            raise Forbidden("This method is only available to the application the user originally signed-up with")
        if user.confirmed:
            raise Forbidden("This method is only available while the e-mail is awaiting confirmation")
        if new_email is not None:
            new_email = new_email.strip()
            problems = Validation()
            if not new_email:
                problems.add("email", "ERR_BLANK", "can't be blank")
            elif len(new_email) > 320 or not accounts.EMAIL.match(new_email):
                problems.add("email", "ERR_INVALID", "is not a valid e-mail address")
            else:
                holder = await accounts.find_user_by_email(session, new_email)
                if holder is not None and holder.id != user.id:
                    problems.add("email", "ERR_TAKEN", "is already taken")
            problems.raise_if_any()
            user.email = new_email
        account = await session.get(Account, user.account_id)
        _send_confirmation(session, user, account)


# --- password reset --------------------------------------------------------------------------------

def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def reset_link(user: User) -> str:
    settings = get_settings()
    token = sign_link(settings.secret_key, "reset", str(user.id), settings.reset_link_hours,
                      pwc=_stamp(user.password_changed_at))
    return f"{settings.base_url}/auth/password/edit?{urlencode({'reset_password_token': token})}"


async def request_password_reset(email: str) -> None:
    """Mail a reset link if the address has an account; the caller answers the same either way."""
    async with db.session() as session:
        user = await accounts.find_user_by_email(session, email or "")
        if user is None or user.disabled:
            return
        account = await session.get(Account, user.account_id)
        mail.password_reset(session, user, account, reset_link(user))


async def _usable_reset(session: AsyncSession, token: str) -> User:
    payload = _read("reset", token, "password reset")
    user = await _user_for_update(session, payload)
    if user is None:
        raise BadLink("invalid", "This password reset link is invalid")
    if payload.get("pwc") != _stamp(user.password_changed_at):
        raise BadLink("used", "This password reset link has already been used, or the password has changed since it was sent")
    return user


async def check_reset_link(token: str) -> User:
    """The user a reset link is for, or BadLink (to refuse before showing the form)."""
    async with db.session() as session:
        return await _usable_reset(session, token)


async def reset_password(token: str, password: str, confirmation: str) -> User:
    """Set a new password from a reset link and sign the user out everywhere, in one transaction."""
    async with db.session() as session:
        user = await _usable_reset(session, token)
        account = await session.get(Account, user.account_id)
        problems = Validation()
        for code, text in accounts.password_problems(password or "", username=account.username, email=user.email):
            problems.add("password", code, text)
        if (password or "") != (confirmation or ""):
            problems.add("password_confirmation", "ERR_INVALID", "doesn't match the password")
        problems.raise_if_any()
        # argon2 takes tens of milliseconds: keep it off the event loop.
        user.password_hash = await asyncio.to_thread(hash_password, password)
        user.password_changed_at = utcnow()
        session.add(user)
        # Every browser session and every app token dies with the old password.
        await tokens.revoke_web_sessions(session, user.id)
        streaming.disconnect_after_commit(session, await tokens.revoke_for_account(session, account.id))
        return user
