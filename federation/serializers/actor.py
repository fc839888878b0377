"""An account -> its ActivityPub actor document.

    document = actor_document(account, "Application")

The key is published as `<actor id>#main-key`, owned by the actor, which is what a
server verifying our signatures fetches.
"""
from __future__ import annotations

from typing import Any

from activitypub.vocabulary import AS2_CONTEXT, SECURITY_CONTEXT
from app.models import Account

CONTEXT = [AS2_CONTEXT, SECURITY_CONTEXT, {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "toot": "http://joinmastodon.org/ns#",
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
}]


def actor_document(account: Account, actor_type: str = "Person") -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": account.uri,
        "type": actor_type,
        "preferredUsername": account.username,
        "name": account.display_name,
        "summary": account.note,
        "url": account.url or account.uri,
        "inbox": account.inbox_url,
        "outbox": account.outbox_url,
        "manuallyApprovesFollowers": account.locked,
        "discoverable": account.discoverable,
        "indexable": account.indexable,
        "publicKey": {"id": f"{account.uri}#main-key", "owner": account.uri, "publicKeyPem": account.public_key_pem},
    }
    if account.followers_url:
        document["followers"] = account.followers_url
    if account.following_url:
        document["following"] = account.following_url
    if account.shared_inbox_url:
        document["endpoints"] = {"sharedInbox": account.shared_inbox_url}
    return document
