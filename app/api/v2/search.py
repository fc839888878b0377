"""GET /api/v2/search: accounts, statuses and hashtags matching a query (app.services.search)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.account import account_json
from app.api.entities.status import render_statuses
from app.api.entities.tag import tag_json
from app.api.pagination import Page
from app.api.params import read_params
from app.api.responses import json_response
from app.errors import ApiError
from app.services import search as search_service
from app.services.search import resolve as resolving
from app.services.statuses import parse_id


@authenticated("read:search", optional=True)
async def search(request: Request) -> Response:
    params = await read_params(request)
    auth = getattr(request.state, "auth", None)
    viewer = auth.account if auth is not None else None
    text = search_service.check_text(params.str("q"))
    page = Page.from_params(params)  # limit: default 20, at most 40; max_id/min_id checked
    offset = params.int("offset", 0, minimum=0)
    resolve = params.bool("resolve", False)
    if viewer is None and offset:
        raise ApiError("Search queries pagination is not supported without authentication", 401)
    if viewer is None and resolve:
        raise ApiError("Search queries that resolve remote resources are not supported without authentication", 401)
    if offset > search_service.MAX_OFFSET:
        raise ApiError(f"offset must be at most {search_service.MAX_OFFSET}", 422)
    kind = params.str("type") or None
    raw_account = params.str("account_id")
    account_id = parse_id(raw_account) if raw_account else None
    if raw_account and account_id is None:
        raise ApiError("account_id must be a numeric ID", 422)
    request_ = search_service.SearchRequest(
        text=text, kind=kind, following=bool(params.bool("following", False)), account_id=account_id,
        max_id=page.max_id, min_id=page.min_id,
        offset=offset if kind else 0,  # as Mastodon: offset applies only with a type
        limit=page.limit,
    )
    params.bool("exclude_unreviewed", False)  # validated; tags are not reviewed here (docs/search.md)
    # Remote look-ups happen before the search opens its session (docs/federation.md).
    resolved = await resolving.lookup(viewer, text, kind) if resolve and viewer is not None and offset == 0 else None
    async with db.session() as session:
        results = await resolving.search(session, viewer, request_, resolved)
        statuses = await render_statuses(session, results.statuses, viewer)
    return json_response({
        "accounts": [account_json(a) for a in results.accounts],
        "statuses": statuses,
        "hashtags": [tag_json(t, results.history.get(t.id), following=(t.id in results.followed_tags) if viewer else None)
                     for t in results.hashtags],
    })


routes = [Route("/api/v2/search", search, methods=["GET"])]
