"""GET /api/v1/bookmarks: the statuses the user bookmarked, newest bookmark first.

Paged by the bookmark's id, as Mastodon does: the Link header's max_id/min_id are
bookmark ids, not status ids (clients just follow the links).
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.status import render_statuses
from app.api.pagination import Page
from app.api.params import read_params
from app.api.responses import json_response
from app.services import interactions


@authenticated("read:bookmarks")
async def index(request: Request) -> Response:
    account = request.state.auth.account
    page = Page.from_params(await read_params(request))
    async with db.session() as session:
        rows = await interactions.bookmarks_of(session, account, page)
        rendered = await render_statuses(session, [status for _, status in rows], account)
    return json_response(rendered, headers=page.link_header(request, [row_id for row_id, _ in rows],
                                                                  continues=page.full(rows)))


routes = [Route("/api/v1/bookmarks", index, methods=["GET"])]
