"""POST /api/v1/media (processed before answering), GET and PUT /api/v1/media/:id."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.api.auth import authenticated
from app.api.entities.media_attachment import media_attachment_json
from app.api.params import Params, read_params
from app.api.responses import json_response
from app.models import MediaAttachment
from app.services import media
from app.services.instance import LIMITS


async def read_upload(params: Params, name: str) -> bytes | None:
    upload = params.file(name)
    if upload is None:
        return None
    # One byte past the limit is enough to know it is too large.
    return await upload.read(LIMITS.image_size_limit + 1)


def _focus(params: Params):
    """"x,y" as a string, or the two numbers as a list (JSON bodies)."""
    value = params.get("focus")
    return value if isinstance(value, list) else params.str("focus")


async def new_media(request: Request) -> media.NewMedia:
    """The upload parameters shared by v1 and v2."""
    params = await read_params(request)
    return media.NewMedia(
        file=await read_upload(params, "file"),
        thumbnail=await read_upload(params, "thumbnail"),
        description=params.str("description"),
        focus=_focus(params),
    )


def _status(attachment: MediaAttachment) -> int:
    """Mastodon answers 206 Partial Content while the full-size file is still processing."""
    return 206 if attachment.state == "processing" else 200


@authenticated("write:media")
async def create(request: Request) -> Response:
    attachment = await media.upload(request.state.auth.account.id, await new_media(request), inline=True)
    return json_response(media_attachment_json(attachment))


@authenticated("write:media")
async def show(request: Request) -> Response:
    attachment = await media.find_own(request.state.auth.account.id, request.path_params["id"])
    return json_response(media_attachment_json(attachment), status_code=_status(attachment))


@authenticated("write:media")
async def update(request: Request) -> Response:
    params = await read_params(request)
    changes = media.MediaChanges(description=params.str("description"), focus=_focus(params),
                                 thumbnail=await read_upload(params, "thumbnail"))
    attachment = await media.update(request.state.auth.account.id, request.path_params["id"], changes)
    return json_response(media_attachment_json(attachment), status_code=_status(attachment))


routes = [
    Route("/api/v1/media", create, methods=["POST"]),
    Route("/api/v1/media/{id:int}", show, methods=["GET"]),
    Route("/api/v1/media/{id:int}", update, methods=["PUT"]),
]
