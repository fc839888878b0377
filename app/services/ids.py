"""Ids as clients send them: snowflakes written in decimal."""
from __future__ import annotations

MAX_ID = 2**63 - 1  # the largest bigint: no id is above it


def parse_id(raw) -> int | None:
    """The id, or None for anything that is not one (so the caller answers 404 or 422)."""
    text_id = str(raw or "").strip()
    # isascii: str.isdigit also says yes to "³", which int() refuses.
    if not (text_id.isascii() and text_id.isdigit()) or len(text_id) > 19 or int(text_id) > MAX_ID:
        return None
    return int(text_id)
