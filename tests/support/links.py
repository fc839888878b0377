"""The Link pagination header as a client reads it: which rels it gives, on which cursor."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx

CURSORS = ("max_id", "since_id", "min_id")


def cursors(response: httpx.Response) -> dict[str, tuple[str, str]]:
    """{"next": ("max_id", "12"), "prev": ("since_id", "34")}: each rel the Link header has,
    with the one cursor parameter its URL carries; {} without a Link header."""
    found = {}
    for rel, link in response.links.items():
        keys = [(key, value) for key, value in parse_qsl(urlsplit(link["url"]).query) if key in CURSORS]
        assert len(keys) == 1, link
        found[rel] = keys[0]
    return found
