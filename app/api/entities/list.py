"""List, as Mastodon renders it."""
from __future__ import annotations

from typing import Any

from app.models import List


def list_json(a_list: List) -> dict[str, Any]:
    return {"id": str(a_list.id), "title": a_list.title, "replies_policy": a_list.replies_policy,
            "exclusive": a_list.exclusive}
