"""The server's self-description, version 2 (what current Mastodon clients read)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.api.entities.instance import instance_v2_json
from app.api.responses import json_response
from app.api.v1.instance import facts


async def show(request: Request) -> Response:
    return json_response(instance_v2_json(await facts()))


routes = [Route("/api/v2/instance", show, methods=["GET"])]
