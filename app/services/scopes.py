"""OAuth scopes as Mastodon defines them.

A granted scope covers itself and everything below it: ``read`` covers
``read:accounts``; ``admin:read`` covers ``admin:read:reports``. ``follow`` is
Mastodon's legacy scope for the relationship endpoints.
"""
from __future__ import annotations

READ = ["accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes",
        "notifications", "search", "statuses"]
WRITE = ["accounts", "blocks", "bookmarks", "conversations", "favourites", "filters", "follows",
         "lists", "media", "mutes", "notifications", "reports", "statuses"]
ADMIN = ["accounts", "reports", "domain_allows", "domain_blocks", "ip_blocks", "email_domain_blocks",
         "canonical_email_blocks"]

TOP_LEVEL = ["read", "write", "follow", "push", "profile"]
ALL_SCOPES = frozenset(
    TOP_LEVEL
    + [f"read:{s}" for s in READ]
    + [f"write:{s}" for s in WRITE]
    + ["admin:read", "admin:write"]
    + [f"admin:read:{s}" for s in ADMIN]
    + [f"admin:write:{s}" for s in ADMIN]
)

# Mastodon's `follow` scope, kept for old apps.
_FOLLOW_COVERS = {"read:blocks", "read:follows", "read:mutes", "write:blocks", "write:follows", "write:mutes"}

DEFAULT = "read"


def parse(raw: str | list | None, default: str = DEFAULT) -> list[str]:
    """Scopes from a space- (or plus-) separated string or a list, de-duplicated, in order."""
    if raw is None or raw == "" or raw == []:
        raw = default
    items = raw if isinstance(raw, list) else str(raw).replace("+", " ").split()
    seen: list[str] = []
    for item in items:
        for part in str(item).split():
            if part not in seen:
                seen.append(part)
    return seen


def unknown(scopes: list[str]) -> list[str]:
    return [s for s in scopes if s not in ALL_SCOPES]


def covers(granted: list[str] | str, required: str) -> bool:
    """Does a grant of `granted` allow an endpoint that needs `required`?"""
    grants = parse(granted) if isinstance(granted, str) else granted
    for grant in grants:
        if grant == required or required.startswith(grant + ":"):
            return True
        if grant == "follow" and required in _FOLLOW_COVERS:
            return True
    # verify_credentials is allowed with `profile` alone, and read:accounts implies it.
    if required == "profile":
        return covers(grants, "read:accounts")
    return False


def subset(requested: list[str], allowed: list[str]) -> bool:
    """May an app registered for `allowed` ask for `requested`?"""
    return all(covers(allowed, scope) for scope in requested)
