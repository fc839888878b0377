"""Tag -> Mastodon's Tag entity (name, url, seven days of usage history, following)."""
from __future__ import annotations

from typing import Any

from app.models import Tag
from app.services.status_text import tag_url


def tag_json(tag: Tag, history: list[tuple[int, int, int]] | None = None, *,
             following: bool | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(tag.id) if tag.id is not None else "",  # a name nobody used yet has none (as Mastodon)
        "name": tag.name,
        "url": tag_url(tag.name),
        # Mastodon renders the counts as strings, newest day first.
        "history": [{"day": str(day), "uses": str(uses), "accounts": str(accounts)}
                    for day, uses, accounts in (history or [])],
    }
    if following is not None:
        body["following"] = following
    return body
