"""NotificationRequest, as Mastodon renders it: the filtered mentions of one sender.

    items = await render_requests(session, rows, viewer)   # rows: notification_requests.Pending

{id, created_at, updated_at, notifications_count (a string, as Mastodon), account,
last_status}: senders and last statuses are loaded in one query each, the statuses
rendered in one render_statuses batch, and shown only while the viewer may see them.
"""
from __future__ import annotations

from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.api.entities.account import account_json, iso_datetime
from app.api.entities.status import render_statuses
from app.models import Account, Status
from app.services import visibility
from app.services.notification_requests import Pending


async def render_requests(session: AsyncSession, rows: list[Pending], viewer: Account) -> list[dict[str, Any]]:
    if not rows:
        return []
    senders = {a.id: a for a in (await session.exec(select(Account).where(
        Account.id.in_({row.request.from_account_id for row in rows})))).all()}
    status_ids = [row.last_status_id for row in rows if row.last_status_id is not None]
    shown = (await session.exec(select(Status).where(
        Status.id.in_(status_ids), visibility.visible_to(viewer.id)))).all() if status_ids else []
    rendered = {int(item["id"]): item for item in await render_statuses(session, shown, viewer)}
    return [{
        "id": str(row.request.id),
        "created_at": iso_datetime(row.request.created_at),
        "updated_at": iso_datetime(row.request.updated_at),
        "notifications_count": str(row.notifications_count),
        "account": account_json(senders[row.request.from_account_id]),
        "last_status": rendered.get(row.last_status_id),
    } for row in rows if row.request.from_account_id in senders]
