"""Account and CredentialAccount, as Mastodon renders them.

    account_json(account)                     # anywhere an Account appears
    credential_account_json(account, user)    # verify_credentials / update_credentials

`Account.fields` items are {"name", "value" (HTML as shown), "source" (what a
local owner typed; absent for remote accounts), "verified_at"}.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from app.config import get_settings
from app.models import Account, User
from app.models.account import acct_of
from app.services import media_files


def iso_datetime(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as Mastodon writes every timestamp."""
    moment = _utc(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def iso_day(moment: datetime) -> str:
    """Midnight UTC of the day: Mastodon hides the exact time an account was made."""
    return f"{_utc(moment).date().isoformat()}T00:00:00.000Z"


def image_url(path: str | None, remote_url: str | None, kind: media_files.ImageKind) -> str:
    if path:
        return media_files.storage().url(path)
    if remote_url:
        return remote_url
    return get_settings().base_url + kind.default_path


def _fields(account: Account) -> list[dict[str, Any]]:
    return [{"name": f.get("name", ""), "value": f.get("value", ""), "verified_at": f.get("verified_at")}
            for f in account.fields or []]


def account_json(account: Account) -> dict[str, Any]:
    suspended = account.suspended_at is not None
    avatar = image_url(None if suspended else account.avatar_path,
                       None if suspended else account.avatar_remote_url, media_files.AVATAR)
    header = image_url(None if suspended else account.header_path,
                       None if suspended else account.header_remote_url, media_files.HEADER)
    data: dict[str, Any] = {
        "id": str(account.id),
        "username": account.username,
        "acct": acct_of(account),
        "display_name": account.display_name,
        "locked": account.locked,
        "bot": account.bot,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
        "group": account.group,
        "hide_collections": account.hide_collections,
        "created_at": iso_day(account.created_at),
        "note": account.note,
        "url": account.url or account.uri,
        "uri": account.uri,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": account.followers_count,
        "following_count": account.following_count,
        "statuses_count": account.statuses_count,
        "last_status_at": _utc(account.last_status_at).date().isoformat() if account.last_status_at else None,
        "emojis": [],
        "fields": _fields(account),
    }
    if account.domain is None:  # local (rows from app.db.rows have no `local` property)
        data["noindex"] = False
        data["roles"] = []
    if suspended:
        # Mastodon shows a suspended profile as an empty shell flagged `suspended`.
        data.update(display_name="", note="", locked=False, bot=False, discoverable=False, indexable=False,
                    fields=[], followers_count=0, following_count=0, statuses_count=0, last_status_at=None,
                    suspended=True)
    elif account.silenced_at is not None:
        data["limited"] = True
    return data


# Mastodon's permission bits (UserRole::FLAGS): administrator = 1, invite_users = 1 << 16,
# and the moderator default of dashboards, audit log, reports, users and taxonomies.
_ROLES = {
    "user": {"id": "-99", "name": "", "permissions": str(1 << 16), "color": "", "highlighted": False},
    "moderator": {"id": "1", "name": "Moderator", "permissions": str((1 << 16) | 1308), "color": "",
                  "highlighted": False},
    "admin": {"id": "2", "name": "Admin", "permissions": str((1 << 16) | 1), "color": "", "highlighted": False},
}


def role_json(user: User) -> dict[str, Any]:
    return dict(_ROLES.get(user.role, _ROLES["user"]))


def credential_account_json(account: Account, user: User, *, follow_requests_count: int = 0) -> dict[str, Any]:
    data = account_json(account)
    data["source"] = {
        "privacy": user.default_privacy,
        "sensitive": user.default_sensitive,
        "language": user.default_language,
        "note": account.note_source,
        "fields": [{"name": f.get("name", ""), "value": f.get("source", f.get("value", "")),
                    "verified_at": f.get("verified_at")} for f in account.fields or []],
        "follow_requests_count": follow_requests_count,
        "hide_collections": account.hide_collections,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
        "attribution_domains": [],
    }
    data["role"] = role_json(user)
    return data
