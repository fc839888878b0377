"""Admin::Account: what moderators see about a local account and its user."""
from __future__ import annotations

from typing import Any

from app.api.entities.account import account_json, iso_datetime, role_json
from app.models import Account, User


def admin_account_json(account: Account, user: User) -> dict[str, Any]:
    return {
        "id": str(account.id),
        "username": account.username,
        "domain": account.domain,
        "created_at": iso_datetime(account.created_at),
        "email": user.email,
        "ip": None,  # sign-in IPs are not kept per user yet
        "ips": [],
        "role": role_json(user),
        "confirmed": user.confirmed,
        "suspended": account.suspended_at is not None,
        "silenced": account.silenced_at is not None,
        "sensitized": False,
        "disabled": user.disabled,
        "approved": user.approved,
        "locale": user.locale,
        "invite_request": user.reason or None,
        "invited_by_account_id": None,
        "created_by_application_id": str(user.created_by_application_id) if user.created_by_application_id else None,
        "account": account_json(account),
    }
