"""Notification and GroupedNotificationsResults, as Mastodon renders them.

    items = await render_notifications(session, notifications, viewer)          # v1 list / one
    body = await render_groups(session, groups, viewer, expand_accounts="full")  # v2

Senders and statuses are loaded in a fixed number of queries and the statuses
rendered in one render_statuses batch. A reblog notification shows the boosted
post, as Mastodon does. A notification whose status cannot be loaded is left out.
"""
from __future__ import annotations

from typing import Any, Iterable

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.api.entities.account import account_json, iso_datetime
from app.api.entities.status import render_statuses
from app.models import Account, Notification, Status
from app.services.notifications import STATUS_TYPES, Group, target_status_ids


def group_key(notification: Notification) -> str:
    return notification.group_key or f"ungrouped-{notification.id}"


async def _accounts(session: AsyncSession, ids: Iterable[int]) -> dict[int, Account]:
    ids = set(ids)
    if not ids:
        return {}
    return {a.id: a for a in (await session.exec(select(Account).where(Account.id.in_(ids)))).all()}


async def _shown_statuses(session: AsyncSession, notifications: list[Notification],
                          viewer: Account) -> tuple[dict[int, int], dict[int, Status], dict[int, dict]]:
    """(notification id -> shown status id, shown statuses, their JSON by id)."""
    ids = {n.status_id for n in notifications if n.status_id}
    rows = {s.id: s for s in (await session.exec(select(Status).where(Status.id.in_(ids)))).all()} if ids else {}
    shown = target_status_ids(notifications, rows)
    missing = set(shown.values()) - set(rows)
    if missing:
        rows.update({s.id: s for s in (await session.exec(select(Status).where(Status.id.in_(missing)))).all()})
    ordered = [rows[i] for i in dict.fromkeys(shown.values()) if i in rows]
    rendered = dict(zip((s.id for s in ordered), await render_statuses(session, ordered, viewer)))
    return shown, rows, rendered


async def render_notifications(session: AsyncSession, notifications: Iterable[Notification],
                               viewer: Account) -> list[dict[str, Any]]:
    """Mastodon Notification JSON for each notification, in order; ones that can no longer
    be shown (sender or status gone) are skipped."""
    notifications = list(notifications)
    if not notifications:
        return []
    senders = await _accounts(session, (n.from_account_id for n in notifications))
    shown, _, rendered = await _shown_statuses(session, notifications, viewer)
    items = []
    for n in notifications:
        sender = senders.get(n.from_account_id)
        if sender is None:
            continue
        data: dict[str, Any] = {"id": str(n.id), "type": n.type, "created_at": iso_datetime(n.created_at),
                                "group_key": group_key(n), "account": account_json(sender)}
        if n.filtered:  # held back by the notification policy; the key is absent otherwise, as Mastodon's
            data["filtered"] = True
        if n.type in STATUS_TYPES:
            status_json = rendered.get(shown.get(n.id))
            if status_json is None:
                continue
            data["status"] = status_json
        items.append(data)
    return items


def partial_account_json(account: Account) -> dict[str, Any]:
    full = account_json(account)
    return {key: full[key] for key in ("id", "acct", "locked", "bot", "url", "avatar", "avatar_static")}


async def render_groups(session: AsyncSession, groups: list[Group], viewer: Account, *,
                        expand_accounts: str = "full", paginated: bool = True) -> dict[str, Any]:
    """GroupedNotificationsResults: groups that refer to accounts and statuses listed once each.
    With expand_accounts=partial_avatars only each group's newest sender and the statuses'
    authors are full accounts; the other senders come as partial_accounts."""
    shown, rows, rendered = await _shown_statuses(session, [g.notification for g in groups], viewer)
    account_ids = [a for g in groups for a in g.sample_account_ids]
    authors = [rows[shown[g.notification.id]].account_id for g in groups if shown.get(g.notification.id) in rows]
    accounts = await _accounts(session, [*account_ids, *authors])

    newest_senders = {g.sample_account_ids[0] for g in groups if g.sample_account_ids}
    full_ids = set(authors) | (newest_senders if expand_accounts == "partial_avatars" else set(account_ids))
    listed: list[int] = list(dict.fromkeys([*account_ids, *authors]))
    body: dict[str, Any] = {
        "accounts": [account_json(accounts[a]) for a in listed if a in accounts and a in full_ids],
        "statuses": [],
        "notification_groups": [],
    }
    if expand_accounts == "partial_avatars":
        body["partial_accounts"] = [partial_account_json(accounts[a]) for a in listed
                                    if a in accounts and a not in full_ids]
    statuses_listed = []
    for g in groups:
        n = g.notification
        item: dict[str, Any] = {
            "group_key": g.key,
            "notifications_count": g.count,
            "type": n.type,
            "most_recent_notification_id": g.most_recent_id,
            "sample_account_ids": [str(a) for a in g.sample_account_ids if a in accounts],
        }
        if paginated:
            item["page_min_id"] = str(g.page_min_id)
            item["page_max_id"] = str(g.page_max_id)
            item["latest_page_notification_at"] = iso_datetime(g.latest_at)
        if n.type in STATUS_TYPES:
            status_id = shown.get(n.id)
            if status_id not in rendered:
                continue
            item["status_id"] = str(status_id)
            statuses_listed.append(status_id)
        body["notification_groups"].append(item)
    body["statuses"] = [rendered[i] for i in dict.fromkeys(statuses_listed)]
    return body
