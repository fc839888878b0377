"""Timelines API: home, public, hashtag, list and trending link, each paginated by Link header."""
from __future__ import annotations

import dataclasses

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.status import render_statuses
from app.api.pagination import Page
from app.api.params import Params, read_params
from app.api.responses import json_response
from app.errors import ApiError, NotFound, Unauthorized
from app.services import feed_access, timelines, trends
from app.services.timelines import PublicFilter, TagFilter


def _viewer(request: Request):
    auth = getattr(request.state, "auth", None)
    return auth.account if auth is not None else None


def _readable(request: Request, kind: str, options: PublicFilter) -> PublicFilter | None:
    """`options` narrowed to the parts of the `kind` ("live" or "topic") feeds the reader may
    read (app.services.feed_access); None when that leaves nothing. A visitor asking for a
    part that is not public is answered 401 (as Mastodon's documentation says), an app token
    without a user 422 (Mastodon's require_user!)."""
    auth = getattr(request.state, "auth", None)
    user = auth.user if auth is not None and auth.account is not None else None
    if user is None and feed_access.needs_user(kind, local=options.local, remote=options.remote):
        if auth is not None:
            raise ApiError("This method requires an authenticated user", 422)
        raise Unauthorized()
    parts = feed_access.granted(kind, user, local=options.local, remote=options.remote)
    if not parts.local and not parts.remote:
        return None
    # Both flags set, as both unset, mean everything.
    return dataclasses.replace(options, local=parts.local, remote=parts.remote)


def _names(params: Params, name: str) -> list[str]:
    """The tag names of any[], all[] or none[] (timelines.tag takes the first few of each)."""
    value = params.get(name)
    if value is None or value == "":
        return []
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values if isinstance(v, (str, int))]


async def _answer(request: Request, session, statuses, page: Page, viewer) -> Response:
    return json_response(await render_statuses(session, statuses, viewer),
                         headers=page.link_header(request, [s.id for s in statuses]))


@authenticated("read:statuses")
async def home(request: Request) -> Response:
    page = Page.from_params(await read_params(request))
    viewer = request.state.auth.account
    async with db.reading() as session:
        found = await timelines.home(session, viewer, page)
        return await _answer(request, session, found, page, viewer)


def _public_filter(params: Params, kind=PublicFilter):
    return kind(local=bool(params.bool("local", False)), remote=bool(params.bool("remote", False)),
                only_media=bool(params.bool("only_media", False)))


@authenticated("read:statuses", optional=True)
async def public(request: Request) -> Response:
    params = await read_params(request)
    page = Page.from_params(params)
    viewer = _viewer(request)
    options = _readable(request, "live", _public_filter(params))
    if options is None:
        return json_response([])
    async with db.reading() as session:
        found = await timelines.public(session, viewer, page, options)
        return await _answer(request, session, found, page, viewer)


@authenticated("read:statuses", optional=True)
async def tag(request: Request) -> Response:
    params = await read_params(request)
    page = Page.from_params(params)
    options = _public_filter(params, TagFilter)
    options.any, options.all, options.none = _names(params, "any"), _names(params, "all"), _names(params, "none")
    viewer = _viewer(request)
    options = _readable(request, "topic", options)
    if options is None:
        return json_response([])
    async with db.reading() as session:
        found = await timelines.tag(session, viewer, request.path_params["hashtag"], page, options)
        return await _answer(request, session, found, page, viewer)


@authenticated("read:lists")
async def list_timeline(request: Request) -> Response:
    page = Page.from_params(await read_params(request))
    viewer = request.state.auth.account
    async with db.reading() as session:
        found = await timelines.listed(session, viewer, request.path_params["list_id"], page)
        return await _answer(request, session, found, page, viewer)


@authenticated("read:statuses", optional=True)
async def link(request: Request) -> Response:
    params = await read_params(request)
    url = params.str("url")
    page = Page.from_params(params)
    viewer = _viewer(request)
    options = _readable(request, "topic", PublicFilter())
    async with db.reading() as session:
        # Only a link trending now has a timeline; any other URL (or none) is not found, as Mastodon.
        card = await trends.trending_link(session, url) if url else None
        if card is None:
            raise NotFound()
        if options is None:
            return json_response([])
        found = await timelines.link(session, viewer, card, page, options)
        return await _answer(request, session, found, page, viewer)


routes = [
    Route("/api/v1/timelines/home", home, methods=["GET"]),
    Route("/api/v1/timelines/public", public, methods=["GET"]),
    Route("/api/v1/timelines/tag/{hashtag}", tag, methods=["GET"]),
    Route("/api/v1/timelines/list/{list_id}", list_timeline, methods=["GET"]),
    Route("/api/v1/timelines/link", link, methods=["GET"]),
]
