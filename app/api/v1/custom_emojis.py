"""Custom emojis: none yet, and an empty list is the honest answer."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.api.responses import json_response


async def index(request: Request) -> Response:
    return json_response([])


routes = [Route("/api/v1/custom_emojis", index, methods=["GET"])]
