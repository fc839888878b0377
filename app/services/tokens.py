"""Access tokens: issue, look up, revoke. The OAuth flows and sign-up both issue here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import AccessToken, Account, Application, User, WebSession
from app.models.base import utcnow
from app.security import hash_token, random_token

# Writing last_used_at on every request would be a write per read; once a minute is plenty.
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass
class IssuedToken:
    row: AccessToken
    access_token: str
    refresh_token: str | None


@dataclass
class TokenOwner:
    """Who is behind a bearer token. account and user are None for app-only tokens."""

    token: AccessToken
    application: Application | None
    account: Account | None
    user: User | None

    @property
    def scopes(self) -> list[str]:
        return self.token.scopes.split()


async def issue(
    session: AsyncSession,
    *,
    application_id: int | None,
    account_id: int | None,
    scopes: list[str],
    with_refresh: bool = False,
) -> IssuedToken:
    access = random_token()
    refresh = random_token() if with_refresh else None
    row = AccessToken(
        application_id=application_id,
        account_id=account_id,
        token_hash=hash_token(access),
        refresh_token_hash=hash_token(refresh) if refresh else None,
        scopes=" ".join(scopes),
    )
    session.add(row)
    await session.flush()
    return IssuedToken(row=row, access_token=access, refresh_token=refresh)


# Built once: every API request runs it.
_LOOKUP = (select(AccessToken, Application, Account, User)
           .join(Application, AccessToken.application_id == Application.id, isouter=True)
           .join(Account, AccessToken.account_id == Account.id, isouter=True)
           .join(User, User.account_id == Account.id, isouter=True)
           .where(AccessToken.token_hash == bindparam("token_hash"), AccessToken.revoked_at.is_(None)))


async def lookup(session: AsyncSession, bearer: str) -> TokenOwner | None:
    """The live token behind `bearer`, or None if unknown or revoked. Requests find it through
    app.services.token_owners, which keeps what this finds."""
    return await lookup_hashed(session, hash_token(bearer))


async def lookup_hashed(session: AsyncSession, token_hash: str) -> TokenOwner | None:
    found = (await session.exec(_LOOKUP, params={"token_hash": token_hash})).first()
    if found is None:
        return None
    token, application, account, user = found
    now = utcnow()
    if touch_due(token.last_used_at, now):
        await touch(session, token.id, user.id if user is not None else None, now)
    return TokenOwner(token=token, application=application, account=account, user=user)


def touch_due(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at > _TOUCH_EVERY


async def touch(session: AsyncSession, token_id: int, user_id: int | None, now: datetime) -> None:
    """Record a token's use (and its user's activity, which decides who gets fanned out to)."""
    await session.execute(update(AccessToken).where(AccessToken.id == token_id).values(last_used_at=now))
    if user_id is not None:
        await session.execute(update(User).where(User.id == user_id).values(last_active_at=now))


async def revoke_for_account(session: AsyncSession, account_id: int) -> list[int]:
    """Revoke every token of an account (password reset, suspension); the ids revoked now."""
    result = await session.execute(
        update(AccessToken)
        .where(AccessToken.account_id == account_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(timezone.utc))
        .returning(AccessToken.id)
        .execution_options(accounts_changed=[account_id])  # see token_owners
    )
    return list(result.scalars().all())


async def revoke_web_sessions(session: AsyncSession, user_id: int) -> None:
    """Sign a user out of every browser (password reset)."""
    await session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=datetime.now(timezone.utc))
    )
