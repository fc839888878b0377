"""The instance actor: the server's own ActivityPub actor, which signs the requests the
server makes on nobody's behalf (fetching a profile or a post someone searched for).

    account = await ensure(session)          # created on first use, then reused
    key = await signing_key()                # SigningKey(key_id, private_key_pem)

Servers in "authorized fetch" mode answer only signed GETs, and check the signature
against the key published at `/actor`. Like Mastodon's, the account is named after the
domain, lives at `https://<domain>/actor` and has no user behind it, so it never appears
in search, directories or suggestions (those only show local accounts with a user).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.config import Settings, get_settings
from app.models import Account
from app.models.base import utcnow
from app.security import generate_key_pair

PATH = "/actor"


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private_key_pem: str


def actor_uri(settings: Settings | None = None) -> str:
    return (settings or get_settings()).base_url + PATH


def key_id(settings: Settings | None = None) -> str:
    return actor_uri(settings) + "#main-key"


async def find(session: AsyncSession) -> Account | None:
    return (await session.exec(select(Account).where(Account.uri == actor_uri()))).first()


async def ensure(session: AsyncSession) -> Account:
    """The instance actor, created (with its key pair) the first time it is needed.
    Two processes creating it at once agree on one row: the loser's insert does nothing."""
    existing = await find(session)
    if existing is not None:
        return existing
    settings = get_settings()
    base, uri = settings.base_url, actor_uri(settings)
    private_pem, public_pem = await asyncio.to_thread(generate_key_pair)
    now = utcnow()
    await session.execute(insert(Account).values(
        username=settings.domain, domain=None, display_name="", note="", note_source="", fields=[],
        uri=uri, url=f"{base}/about", inbox_url=f"{uri}/inbox", outbox_url=f"{uri}/outbox",
        shared_inbox_url=f"{base}/inbox", followers_url="", following_url="",
        public_key_pem=public_pem, private_key_pem=private_pem,
        locked=True, bot=True, group=False, discoverable=False, indexable=False, hide_collections=True,
        followers_count=0, following_count=0, statuses_count=0, created_at=now, updated_at=now,
    ).on_conflict_do_nothing())
    return (await session.exec(select(Account).where(Account.uri == uri))).one()


async def signing_key() -> SigningKey:
    """The key outgoing requests are signed with (committed before anyone can fetch it)."""
    async with db.session() as session:
        account = await ensure(session)
    return SigningKey(key_id=key_id(), private_key_pem=account.private_key_pem or "")
