"""Administering local accounts: the approval queue, manual confirmation and roles.

In "approval" registration mode new users start with ``approved=False``: they
may confirm their address but cannot sign in or use the API until a moderator
approves them (which mails them a welcome) or rejects them (which deletes the
pending account, freeing the username and address).

The `starling accounts ...` command calls the username-based functions, each in
its own transaction, returning a line to print; the Mastodon admin API calls the
id-based ones.
"""
from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.errors import ApiError, Forbidden, NotFound
from app.models import Account, User
from app.models.account import ROLES, STAFF_ROLES as STAFF
from app.services import accounts, mail, notifications, registrations


class NotPending(Forbidden):
    def __init__(self, username: str):
        super().__init__(f"@{username} is not pending approval")


async def _by_username(session: AsyncSession, username: str | None) -> tuple[Account, User]:
    if not username:
        raise ApiError("Which account? Give its username.", 422)
    account = await accounts.find_local(session, username.lstrip("@"))
    user = None
    if account is not None:
        user = (await session.exec(select(User).where(User.account_id == account.id).with_for_update())).first()
    if account is None or user is None:
        raise NotFound(f"There is no local account @{username}")
    return account, user


async def _by_id(session: AsyncSession, account_id: int) -> tuple[Account, User]:
    found = (
        await session.exec(select(Account, User).join(User, User.account_id == Account.id)
                           .where(Account.id == account_id).with_for_update(of=User))
    ).first()
    if found is None:
        raise NotFound()
    return found[0], found[1]


async def _approve(session: AsyncSession, account: Account, user: User) -> None:
    if user.approved:
        raise NotPending(account.username)
    user.approved = True
    session.add(user)
    mail.approved(session, user, account)
    if user.confirmed:
        await notifications.signed_up(session, account.id)


async def _reject(session: AsyncSession, account: Account, user: User) -> None:
    if user.approved:
        raise NotPending(account.username)
    # The database cascades to the user, its tokens and sessions.
    await session.execute(delete(Account).where(Account.id == account.id))


# --- the command line ------------------------------------------------------------------------------

async def approve(username: str) -> str:
    async with db.session() as session:
        account, user = await _by_username(session, username)
        await _approve(session, account, user)
    note = "" if user.confirmed else " (their e-mail address is still unconfirmed)"
    return f"Approved @{account.username}; a welcome mail is on its way to {user.email}{note}."


async def reject(username: str) -> str:
    async with db.session() as session:
        account, user = await _by_username(session, username)
        await _reject(session, account, user)
    return f"Rejected @{account.username}: the pending account is deleted and the username is free again."


async def confirm(username: str) -> str:
    async with db.session() as session:
        account, user = await _by_username(session, username)
        if user.confirmed:
            return f"@{account.username} had already confirmed {user.email}."
        await registrations.mark_confirmed(session, user)
    return f"Confirmed the e-mail address of @{account.username} ({user.email})."


async def set_role(username: str, role: str) -> str:
    if role not in ROLES:
        raise ApiError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}", 422)
    async with db.session() as session:
        account, user = await _by_username(session, username)
        user.role = role
        session.add(user)
    return f"@{account.username} is now {'an' if role == 'admin' else 'a'} {role}."


async def list_pending() -> str:
    async with db.session() as session:
        rows = (
            await session.exec(select(Account, User).join(User, User.account_id == Account.id)
                               .where(User.approved.is_(False)).order_by(Account.id))
        ).all()
    if not rows:
        return "No accounts are waiting for approval."
    lines = [f"{len(rows)} account(s) waiting for approval:"]
    for account, user in rows:
        confirmed = "confirmed" if user.confirmed else "unconfirmed"
        reason = " ".join(user.reason.split()) or "(no reason given)"
        lines.append(f"  @{account.username} <{user.email}> {confirmed}, signed up {user.created_at:%Y-%m-%d %H:%M} UTC: {reason}")
    return "\n".join(lines)


# --- the Mastodon admin API ------------------------------------------------------------------------

def require_staff(user: User | None) -> None:
    if user is None or user.role not in STAFF:
        raise Forbidden()


async def approve_by_id(account_id: int) -> tuple[Account, User]:
    async with db.session() as session:
        account, user = await _by_id(session, account_id)
        await _approve(session, account, user)
        return account, user


async def reject_by_id(account_id: int) -> tuple[Account, User]:
    """Returns the rejected (now deleted) account as it was, for the response."""
    async with db.session() as session:
        account, user = await _by_id(session, account_id)
        await _reject(session, account, user)
        return account, user
