"""GET /api/v1/tags/:name: one hashtag with its seven days of history.

Following hashtags (/follow, /unfollow, /api/v1/followed_tags) is not built yet: docs/search.md."""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.tag import tag_json
from app.api.responses import json_response
from app.errors import NotFound
from app.models import Tag
from app.services.search.tags import NAME, usage_history


@authenticated(optional=True)
async def show(request: Request) -> Response:
    name = request.path_params["name"]
    if not NAME.match(name) or len(name) > 255:
        raise NotFound()
    async with db.session() as session:
        tag = (await session.exec(select(Tag).where(func.lower(Tag.name) == name.lower()))).first()
        if tag is None:
            raise NotFound()
        history = (await usage_history(session, [tag.id]))[tag.id]
    signed_in = getattr(request.state, "auth", None) is not None
    return json_response(tag_json(tag, history, following=False if signed_in else None))


routes = [Route("/api/v1/tags/{name}", show, methods=["GET"])]
