"""Conversation, as Mastodon renders it, for any number of conversations of one viewer.

    items = await render_conversations(session, rows, viewer)   # rows: AccountConversation

{id, unread, accounts (the other participants; the viewer alone in a conversation with
oneself), last_status}: participants and last
statuses are loaded in one query each, the statuses rendered in one render_statuses batch.
"""
from __future__ import annotations

from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.api.entities.account import account_json
from app.api.entities.status import render_statuses
from app.models import Account, AccountConversation, Status
from app.services import visibility


async def render_conversations(session: AsyncSession, rows: list[AccountConversation],
                               viewer: Account) -> list[dict[str, Any]]:
    if not rows:
        return []
    account_ids = {a for row in rows for a in row.participant_account_ids or [viewer.id]}
    accounts = {a.id: a for a in (await session.exec(select(Account).where(Account.id.in_(account_ids)))).all()}
    # The last status only while the viewer may see it (a block since, a suspended author).
    # A mute does not hide it (as in Mastodon): a mute that leaves notifications on lets
    # the author's direct posts in, and one made later leaves the conversation as it was.
    found = (await session.exec(select(Status).where(
        Status.id.in_([row.last_status_id for row in rows]), visibility.visible_to(viewer.id)))).all()
    statuses = {s.id: s for s in found}
    ordered = [statuses[row.last_status_id] for row in rows if row.last_status_id in statuses]
    rendered = {int(item["id"]): item for item in await render_statuses(session, ordered, viewer)}
    return [{
        "id": str(row.id),
        "unread": row.unread,
        # A conversation with oneself (a direct post mentioning nobody) lists the viewer, as Mastodon.
        "accounts": [account_json(accounts[a]) for a in row.participant_account_ids or [viewer.id] if a in accounts],
        "last_status": rendered.get(row.last_status_id),
    } for row in rows]
