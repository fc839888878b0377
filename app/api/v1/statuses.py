"""Statuses API: post, view (one, several, a thread), edit with history and source, delete."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.status import render_status, render_statuses
from app.api.entities.status_edit import render_history, status_source_json
from app.api.params import Params, read_params
from app.api.responses import json_response
from app.errors import ApiError
from app.models import Account
from app.services import polls, statuses
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
    # A 429 past the posting budget carries its X-RateLimit-* headers (RateLimited.headers).
    status = await statuses.create(poster, draft, idempotency_key=request.headers.get("idempotency-key") or None)
    async with db.session() as session:
        return json_response(await render_status(session, status, auth.account))


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
    async with db.session() as session:
        status = await statuses.find_visible(session, viewer, request.path_params["id"])
        return json_response(await render_status(session, status, viewer))


@authenticated("write:statuses")
async def update(request: Request) -> Response:
    account = request.state.auth.account
    draft = _draft(await read_params(request))
    status = await statuses.edit(account, request.path_params["id"], draft)
    async with db.session() as session:
        return json_response(await render_status(session, status, account))


@authenticated("write:statuses")
async def destroy(request: Request) -> Response:
    account = request.state.auth.account
    deleted = await statuses.delete(account, request.path_params["id"])
    async with db.session() as session:
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


routes = [
    Route("/api/v1/statuses", create, methods=["POST"]),
    Route("/api/v1/statuses", index, methods=["GET"]),
    Route("/api/v1/statuses/{id}", show, methods=["GET"]),
    Route("/api/v1/statuses/{id}", update, methods=["PUT"]),
    Route("/api/v1/statuses/{id}", destroy, methods=["DELETE"]),
    Route("/api/v1/statuses/{id}/context", context, methods=["GET"]),
    Route("/api/v1/statuses/{id}/history", history, methods=["GET"]),
    Route("/api/v1/statuses/{id}/source", source, methods=["GET"]),
]
