"""JSON responses as Mastodon sends them."""
from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response


class JSON(Response):
    media_type = "application/json; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(content: Any, status_code: int = 200, headers: dict | None = None) -> JSON:
    return JSON(content, status_code=status_code, headers=headers)
