"""The profile directory (GET /api/v1/directory).

    accounts = await directory.page(session, viewer_id, order="active", local=False, offset=0, limit=40)

As Mastodon's: accounts that chose to be discoverable, neither suspended nor silenced, known
here (local ones confirmed and approved), not moved elsewhere, without the viewer's blocks
either way and mutes;
`active` puts the most recent posters first (accounts that never posted last), `new` the
newest accounts; `local` keeps this instance's own.
"""
from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import Account
from app.services.relationships import blocks_between, listable, mutes

ORDERS = ("active", "new")


async def page(session: AsyncSession, viewer_id: int | None, *, order: str, local: bool, offset: int,
               limit: int) -> list[Account]:
    query = select(Account).where(Account.discoverable.is_(True), Account.silenced_at.is_(None),
                                  Account.moved_to_account_id.is_(None), listable())
    if local:
        query = query.where(Account.domain.is_(None))
    if viewer_id is not None:
        query = query.where(~blocks_between(viewer_id, Account.id), ~mutes(viewer_id, Account.id))
    if order == "new":
        query = query.order_by(Account.created_at.desc(), Account.id.desc())
    else:
        query = query.order_by(Account.last_status_at.desc().nulls_last(), Account.id.desc())
    return list((await session.exec(query.offset(offset).limit(limit))).all())
