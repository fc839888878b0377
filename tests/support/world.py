"""Factories for the fixture world: users, apps and tokens, made through the real services."""
from __future__ import annotations

from mastodon import Mastodon
from sqlalchemy import func, update
from sqlmodel import select

from app import db
from app.models import Account, Application, MediaAttachment, User
from app.security import random_token
from app.services import accounts, blocks, follows, tokens

PASSWORD = "correct horse battery staple"


async def make_user(
    username: str = "alice",
    *,
    email: str | None = None,
    password: str = PASSWORD,
    confirmed: bool = True,
    approved: bool = True,
    role: str = "user",
) -> tuple[Account, User]:
    async with db.session() as session:
        return await accounts.create_local(
            session,
            username=username,
            email=email or f"{username}@example.com",
            password=password,
            confirmed=confirmed,
            approved=approved,
            role=role,
        )


async def make_app(name: str = "Test app", scopes: str = "read write follow push",
                   redirect_uris: str = "urn:ietf:wg:oauth:2.0:oob") -> Application:
    async with db.session() as session:
        application = Application(name=name, scopes=scopes, redirect_uris=redirect_uris,
                                  client_id=random_token(), client_secret=random_token())
        session.add(application)
        await session.flush()
        return application


async def token_for(account: Account | None, scopes: str = "read write follow push",
                    application: Application | None = None) -> str:
    """A bearer token for `account` (None: an app-only token)."""
    application = application or await make_app(scopes=scopes)
    async with db.session() as session:
        issued = await tokens.issue(session, application_id=application.id,
                                    account_id=account.id if account else None, scopes=scopes.split())
        return issued.access_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def follow(follower: Account, target: Account) -> None:
    """`follower` follows `target` through the real service (a request if `target` is locked)."""
    async with db.session() as session:
        await follows.follow(session, follower.id, target.id)


async def block(blocker: Account, target: Account) -> None:
    async with db.session() as session:
        await blocks.block(session, blocker.id, target.id)


async def make_media(owner: Account, *, state: str = "ready", description: str | None = None) -> MediaAttachment:
    """An uploaded, unattached attachment row of `owner` (no file behind it: for posting tests)."""
    async with db.session() as session:
        attachment = MediaAttachment(account_id=owner.id, state=state, type="image", content_type="image/png",
                                     description=description, meta={})
        session.add(attachment)
        await session.flush()
        return attachment


async def signed_in(username: str = "alice", scopes: str = "read write follow push", *,
                    locked: bool = False) -> tuple[Account, dict[str, str]]:
    """A new confirmed user (optionally a locked account) and the Authorization header of a token with `scopes`."""
    account, _ = await make_user(username)
    if locked:
        async with db.session() as session:
            await session.execute(update(Account).where(Account.id == account.id).values(locked=True))
        account.locked = True
    return account, bearer(await token_for(account, scopes))


async def follow_counts(account: Account) -> tuple[int, int]:
    """(followers_count, following_count) as stored."""
    async with db.session() as session:
        fresh = await session.get(Account, account.id, populate_existing=True)
        return fresh.followers_count, fresh.following_count


async def count(model, *where) -> int:
    """Rows of `model` (matching `where`), for checking that a refused request changed nothing."""
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(model).where(*where))).one()


async def post_status(client, headers: dict[str, str], **data):
    """POST /api/v1/statuses with JSON `data`; the httpx response."""
    return await client.post("/api/v1/statuses", json=data, headers=headers)


def mastodon_for(base_url: str, token: str) -> Mastodon:
    """A Mastodon.py client for a running server (no version sniffing: we are not Mastodon)."""
    return Mastodon(access_token=token, api_base_url=base_url, version_check_mode="none")
