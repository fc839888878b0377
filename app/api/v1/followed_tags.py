"""GET /api/v1/followed_tags: the hashtags the user follows, newest follow first, with Link paging."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.tag import tag_json
from app.api.pagination import Page
from app.api.params import read_params
from app.api.responses import json_response
from app.services import followed_tags
from app.services.search.tags import usage_history


@authenticated("read:follows")
async def index(request: Request) -> Response:
    page = Page.from_params(await read_params(request), default=100, maximum=200)
    async with db.session() as session:
        rows = await followed_tags.followed(session, request.state.auth.account.id, page)
        history = await usage_history(session, [tag.id for _, tag in rows])
    return json_response([tag_json(tag, history[tag.id], following=True) for _, tag in rows],
                         headers=page.link_header(request, [follow_id for follow_id, _ in rows],
                                                  continues=page.full(rows), prev_key="since_id"))


routes = [Route("/api/v1/followed_tags", index, methods=["GET"])]
