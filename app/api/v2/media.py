"""POST /api/v2/media: stored now, processed by the `process_media` worker; 202 until then."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.api.auth import authenticated
from app.api.entities.media_attachment import media_attachment_json
from app.api.responses import json_response
from app.api.v1.media import new_media
from app.services import media


@authenticated("write:media")
async def create(request: Request) -> Response:
    attachment = await media.upload(request.state.auth.account.id, await new_media(request), inline=False)
    return json_response(media_attachment_json(attachment), status_code=202)


routes = [Route("/api/v2/media", create, methods=["POST"])]
