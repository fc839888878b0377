"""Statuses API: post, view (one, several, a thread), edit with history and source, delete;
and what others do to a status: favourite, boost, bookmark, pin, mute its thread, who
favourited or boosted it (app/services/interactions.py)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.account import account_json
from app.api.entities.status import render_status, render_statuses
from app.api.entities.status_edit import render_history, status_source_json
from app.api.pagination import Page
from app.api.params import Params, read_params
from app.api.responses import json_response
from app.errors import ApiError
from app.models import Account
from app.services import interactions, polls, statuses
from app.services.polls import NewPoll

MAX_IDS = 20  # GET /api/v1/statuses?id[]=...


def _viewer(request: Request) -> Account | None:
    auth = getattr(request.state, "auth", None)
    return auth.account if auth is not None else None


def _poll(params: Params) -> NewPoll | None:
    raw = params.get("poll")
    if raw in (None, "", {}):
        return None
    if not isinstance(raw, dict):
        raise ApiError("poll must be an object with options and expires_in", 422)
    poll = Params(raw)
    return NewPoll(options=polls.clean_options(poll.list("options")), expires_in=poll.int("expires_in"),
                   multiple=bool(poll.bool("multiple", False)), hide_totals=bool(poll.bool("hide_totals", False)))


def _draft(params: Params) -> statuses.Draft:
    return statuses.Draft(
        text=params.str("status"),
        spoiler_text=params.str("spoiler_text"),
        sensitive=params.bool("sensitive"),
        visibility=params.str("visibility") or None,
        language=params.str("language"),
        in_reply_to_id=params.str("in_reply_to_id"),
        media_ids=params.list("media_ids"),
        poll=_poll(params),
        scheduled_at=params.str("scheduled_at"),
    )


@authenticated("write:statuses")
async def create(request: Request) -> Response:
    auth = request.state.auth
    draft = _draft(await read_params(request))
    poster = statuses.Poster(auth.account, auth.user, auth.application.id if auth.application else None)
    # A 429 past the posting budget carries its X-RateLimit-* headers (rate_limits.RateLimited).
    status = await statuses.create(poster, draft, idempotency_key=request.headers.get("idempotency-key") or None)
    async with db.reading() as session:
        return json_response(await render_status(session, status, auth.account, fresh=True))


@authenticated("read:statuses", optional=True)
async def index(request: Request) -> Response:
    params = await read_params(request)
    ids = params.list("id")
    if len(ids) > MAX_IDS:
        raise ApiError(f"Too many IDs: at most {MAX_IDS} at a time", 422)
    viewer = _viewer(request)
    async with db.session() as session:
        found = await statuses.find_many(session, viewer, ids)
        return json_response(await render_statuses(session, found, viewer))


@authenticated("read:statuses", optional=True)
async def show(request: Request) -> Response:
    viewer = _viewer(request)
    async with db.reading() as session:
        status = await statuses.find_visible(session, viewer, request.path_params["id"])
        return json_response(await render_status(session, status, viewer))


@authenticated("write:statuses")
async def update(request: Request) -> Response:
    account = request.state.auth.account
    draft = _draft(await read_params(request))
    status = await statuses.edit(account, request.path_params["id"], draft)
    async with db.reading() as session:
        return json_response(await render_status(session, status, account))


@authenticated("write:statuses")
async def destroy(request: Request) -> Response:
    account = request.state.auth.account
    deleted = await statuses.delete(account, request.path_params["id"])
    async with db.reading() as session:
        return json_response(await render_status(session, deleted.status, account, with_source=True,
                                                 media=deleted.media))


@authenticated("read:statuses", optional=True)
async def context(request: Request) -> Response:
    viewer = _viewer(request)
    async with db.session() as session:
        status = await statuses.find_visible(session, viewer, request.path_params["id"])
        ancestors, descendants = await statuses.context(session, viewer, status)
        rendered = await render_statuses(session, ancestors + descendants, viewer)
        return json_response({"ancestors": rendered[:len(ancestors)], "descendants": rendered[len(ancestors):]})


@authenticated("read:statuses", optional=True)
async def history(request: Request) -> Response:
    viewer = _viewer(request)
    async with db.session() as session:
        status = await statuses.find_visible(session, viewer, request.path_params["id"])
        return json_response(await render_history(session, status, await statuses.history(session, status)))


@authenticated("read:statuses", user=False)
async def source(request: Request) -> Response:
    viewer = _viewer(request)
    async with db.session() as session:
        status = await statuses.find_visible(session, viewer, request.path_params["id"])
        return json_response(status_source_json(status))


# -- interactions -------------------------------------------------------------------------------

def _interaction(scope: str, action):
    """POST /api/v1/statuses/:id/<action>: the service call, then the Status it returns."""
    @authenticated(scope)
    async def handler(request: Request) -> Response:
        account = request.state.auth.account
        status = await action(account, request.path_params["id"])
        async with db.reading() as session:
            return json_response(await render_status(session, status, account))

    handler.__name__ = action.__name__
    return handler


@authenticated("write:statuses")
async def reblog(request: Request) -> Response:
    auth = request.state.auth
    params = await read_params(request)
    boost = await interactions.reblog(auth.account, auth.user, request.path_params["id"], params.str("visibility"))
    async with db.reading() as session:
        return json_response(await render_status(session, boost, auth.account))


def _who(lister):
    """GET /api/v1/statuses/:id/favourited_by | reblogged_by: Accounts, paged by the row ids."""
    @authenticated("read:accounts", optional=True)  # accounts are listed: as Mastodon
    async def handler(request: Request) -> Response:
        viewer = _viewer(request)
        page = Page.from_params(await read_params(request), default=40, maximum=80)
        async with db.session() as session:
            status = await statuses.find_visible(session, viewer, request.path_params["id"])
            rows = await lister(session, viewer, status, page)
        return json_response([account_json(account) for _, account in rows],
                             headers=page.link_header(request, [row_id for row_id, _ in rows],
                                                      continues=page.full(rows), prev_key="since_id"))

    handler.__name__ = lister.__name__
    return handler


routes = [
    Route("/api/v1/statuses", create, methods=["POST"]),
    Route("/api/v1/statuses", index, methods=["GET"]),
    Route("/api/v1/statuses/{id}", show, methods=["GET"]),
    Route("/api/v1/statuses/{id}", update, methods=["PUT"]),
    Route("/api/v1/statuses/{id}", destroy, methods=["DELETE"]),
    Route("/api/v1/statuses/{id}/context", context, methods=["GET"]),
    Route("/api/v1/statuses/{id}/history", history, methods=["GET"]),
    Route("/api/v1/statuses/{id}/source", source, methods=["GET"]),
    Route("/api/v1/statuses/{id}/favourite", _interaction("write:favourites", interactions.favourite), methods=["POST"]),
    Route("/api/v1/statuses/{id}/unfavourite", _interaction("write:favourites", interactions.unfavourite),
          methods=["POST"]),
    Route("/api/v1/statuses/{id}/reblog", reblog, methods=["POST"]),
    Route("/api/v1/statuses/{id}/unreblog", _interaction("write:statuses", interactions.unreblog), methods=["POST"]),
    Route("/api/v1/statuses/{id}/bookmark", _interaction("write:bookmarks", interactions.bookmark), methods=["POST"]),
    Route("/api/v1/statuses/{id}/unbookmark", _interaction("write:bookmarks", interactions.unbookmark),
          methods=["POST"]),
    Route("/api/v1/statuses/{id}/pin", _interaction("write:accounts", interactions.pin), methods=["POST"]),
    Route("/api/v1/statuses/{id}/unpin", _interaction("write:accounts", interactions.unpin), methods=["POST"]),
    Route("/api/v1/statuses/{id}/mute", _interaction("write:mutes", interactions.mute_conversation),
          methods=["POST"]),
    Route("/api/v1/statuses/{id}/unmute", _interaction("write:mutes", interactions.unmute_conversation),
          methods=["POST"]),
    Route("/api/v1/statuses/{id}/favourited_by", _who(interactions.favourited_by), methods=["GET"]),
    Route("/api/v1/statuses/{id}/reblogged_by", _who(interactions.reblogged_by), methods=["GET"]),
]
