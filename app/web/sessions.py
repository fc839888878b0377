"""Browser sign-in sessions: an opaque cookie whose hash is a web_sessions row."""
from __future__ import annotations

from sqlalchemy import update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from app.config import get_settings
from app.models import Account, User, WebSession
from app.models.base import utcnow
from app.security import hash_token, random_token

COOKIE = "starling_session"


async def start(session: AsyncSession, request: Request, response: Response, user: User) -> None:
    token = random_token()
    session.add(
        WebSession(
            user_id=user.id,
            token_hash=hash_token(token),
            user_agent=request.headers.get("user-agent", "")[:512],
            ip=request.client.host if request.client else "",
        )
    )
    user.last_sign_in_at = utcnow()
    session.add(user)
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="lax", secure=get_settings().scheme == "https", max_age=60 * 60 * 24 * 30
    )


async def current(session: AsyncSession, request: Request) -> tuple[User, Account] | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    found = (
        await session.exec(
            select(User, Account)
            .join(WebSession, WebSession.user_id == User.id)
            .join(Account, Account.id == User.account_id)
            .where(WebSession.token_hash == hash_token(token), WebSession.revoked_at.is_(None))
        )
    ).first()
    return tuple(found) if found else None


async def end(session: AsyncSession, request: Request, response: Response) -> None:
    token = request.cookies.get(COOKIE)
    if token:
        await session.execute(
            update(WebSession).where(WebSession.token_hash == hash_token(token)).values(revoked_at=utcnow())
        )
    response.delete_cookie(COOKIE)
