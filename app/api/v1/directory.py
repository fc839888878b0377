"""GET /api/v1/directory: the profile directory (app.services.directory); public, as Mastodon."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.account import account_json
from app.api.params import read_params
from app.api.responses import json_response
from app.errors import ApiError
from app.services import directory

MAX_OFFSET = 10_000  # deeper pages are not a directory anyone reads, and cost a long scan


@authenticated("read", optional=True)
async def index(request: Request) -> Response:
    params = await read_params(request)
    order = params.str("order") or "active"
    if order not in directory.ORDERS:
        raise ApiError("order must be active or new", 422)
    auth = getattr(request.state, "auth", None)
    viewer = auth.account if auth is not None else None
    async with db.reading() as session:
        found = await directory.page(
            session, viewer.id if viewer else None, order=order, local=bool(params.bool("local", False)),
            offset=params.int("offset", 0, minimum=0, maximum=MAX_OFFSET),
            limit=params.int("limit", 40, minimum=1, maximum=80))
    return json_response([account_json(a) for a in found])


routes = [Route("/api/v1/directory", index, methods=["GET"])]
