"""Trends: GET /api/v1/trends/tags (and its old alias /api/v1/trends), /trends/statuses and
/trends/links (app.services.trends). Public, as in Mastodon."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.preview_card import trends_link_json
from app.api.entities.status import render_statuses
from app.api.entities.tag import tag_json
from app.api.params import Params, read_params
from app.api.responses import json_response
from app.services import trends
from app.services.followed_tags import following_ids
from app.services.search.tags import usage_history

MAX_OFFSET = 1000


def _page(params: Params, default: int, maximum: int) -> tuple[int, int]:
    return (params.int("limit", default, minimum=1, maximum=maximum),
            params.int("offset", 0, minimum=0, maximum=MAX_OFFSET))


def _viewer(request: Request):
    auth = getattr(request.state, "auth", None)
    return auth.account if auth is not None else None


@authenticated(optional=True)
async def tags(request: Request) -> Response:
    limit, offset = _page(await read_params(request), 10, 20)
    async with db.session() as session:
        found = await trends.trending_tags(session, limit=limit, offset=offset)
        history = await usage_history(session, [t.id for t in found])
        viewer = _viewer(request)
        followed = await following_ids(session, viewer.id if viewer else None, [t.id for t in found])
    return json_response([tag_json(t, history[t.id], following=(t.id in followed) if viewer else None)
                          for t in found])


@authenticated(optional=True)
async def statuses(request: Request) -> Response:
    limit, offset = _page(await read_params(request), 20, 40)
    viewer = _viewer(request)
    async with db.session() as session:
        found = await trends.trending_statuses(session, viewer.id if viewer else None, limit=limit, offset=offset)
        rendered = await render_statuses(session, found, viewer)
    return json_response(rendered)


@authenticated(optional=True)
async def links(request: Request) -> Response:
    limit, offset = _page(await read_params(request), 10, 20)
    async with db.session() as session:
        found = await trends.trending_links(session, limit=limit, offset=offset)
        history = await trends.link_history(session, [c.id for c in found])
    return json_response([trends_link_json(c, history[c.id]) for c in found])


routes = [
    Route("/api/v1/trends", tags, methods=["GET"]),
    Route("/api/v1/trends/tags", tags, methods=["GET"]),
    Route("/api/v1/trends/statuses", statuses, methods=["GET"]),
    Route("/api/v1/trends/links", links, methods=["GET"]),
]
