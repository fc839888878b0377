"""Polls API: view a poll, vote in it."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.poll import poll_json
from app.api.params import read_params
from app.api.responses import json_response
from app.errors import NotFound
from app.models import Account, Poll
from app.services import polls
from app.services.statuses import parse_id


def _poll_id(request: Request) -> int:
    poll_id = parse_id(request.path_params["id"])
    if poll_id is None:
        raise NotFound()
    return poll_id


async def _render(poll: Poll, viewer: Account | None) -> dict:
    viewer_id = viewer.id if viewer is not None else None
    async with db.session() as session:
        tallies = await polls.tallies(session, [poll.id])
        own = await polls.own_votes(session, [poll.id], viewer_id)
    return poll_json(poll, tallies.get(poll.id, {}), own.get(poll.id), viewer_id)


@authenticated("read:statuses", optional=True)
async def show(request: Request) -> Response:
    auth = getattr(request.state, "auth", None)
    viewer = auth.account if auth is not None else None
    async with db.session() as session:
        poll = await polls.find_visible(session, viewer, _poll_id(request))
    return json_response(await _render(poll, viewer))


@authenticated("write:statuses")
async def vote(request: Request) -> Response:
    account = request.state.auth.account
    params = await read_params(request)
    poll = await polls.vote(account, _poll_id(request), params.list("choices"))
    return json_response(await _render(poll, account))


routes = [
    Route("/api/v1/polls/{id}", show, methods=["GET"]),
    Route("/api/v1/polls/{id}/votes", vote, methods=["POST"]),
]
