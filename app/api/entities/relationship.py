"""Relationship, and the account shapes that come with the social graph.

    relationship_json(rel)                      # app.services.relationships.Relationship
    muted_account_json(account, mute)           # GET /api/v1/mutes
    familiar_followers_json(account_id, accounts)

Domain blocks, endorsements and private notes are not supported yet, so
`domain_blocking` and `endorsed` are false and `note` is empty.
"""
from __future__ import annotations

from typing import Any

from app.api.entities.account import account_json, iso_datetime
from app.models import Account, Mute
from app.services.relationships import Relationship


def relationship_json(rel: Relationship) -> dict[str, Any]:
    return {
        "id": str(rel.id),
        "following": rel.following,
        "showing_reblogs": rel.showing_reblogs,
        "notifying": rel.notifying,
        "languages": rel.languages,
        "followed_by": rel.followed_by,
        "blocking": rel.blocking,
        "blocked_by": rel.blocked_by,
        "muting": rel.muting,
        "muting_notifications": rel.muting_notifications,
        "muting_expires_at": iso_datetime(rel.muting_expires_at) if rel.muting_expires_at else None,
        "requested": rel.requested,
        "requested_by": rel.requested_by,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


def muted_account_json(account: Account, mute: Mute) -> dict[str, Any]:
    data = account_json(account)
    data["mute_expires_at"] = iso_datetime(mute.expires_at) if mute.expires_at else None
    return data


def familiar_followers_json(account_id: int, accounts: list[Account]) -> dict[str, Any]:
    return {"id": str(account_id), "accounts": [account_json(a) for a in accounts]}
