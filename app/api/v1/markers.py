"""Markers API: read and save the last read position of home and notifications."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.marker import markers_json
from app.api.params import read_params
from app.api.responses import json_response
from app.errors import Validation
from app.models.marker import TIMELINES
from app.services import markers
from app.services.statuses import parse_id


@authenticated("read:statuses")
async def index(request: Request) -> Response:
    params = await read_params(request)
    wanted = params.get("timeline") or []
    wanted = [str(t) for t in (wanted if isinstance(wanted, list) else [wanted]) if isinstance(t, str)]
    async with db.session() as session:
        found = await markers.fetch(session, request.state.auth.account, wanted)
    return json_response(markers_json(found))


def _positions(params) -> dict[str, int]:
    """{timeline: last_read_id}; a 422 with `details` (as the spec describes) for bad input."""
    problems = Validation()
    positions = {}
    for timeline in TIMELINES:
        given = params.get(timeline)
        if given is None:
            continue
        raw = given.get("last_read_id") if isinstance(given, dict) else None
        last_read_id = parse_id(raw) if isinstance(raw, (str, int)) else None
        if last_read_id is None:
            problems.add(f"{timeline}[last_read_id]", "ERR_INVALID", "must be a status or notification ID")
        else:
            positions[timeline] = last_read_id
    if not positions and not problems.problems:
        problems.add("timeline", "ERR_BLANK", "give home[last_read_id] or notifications[last_read_id]")
    problems.raise_if_any()
    return positions


@authenticated("write:statuses")
async def create(request: Request) -> Response:
    positions = _positions(await read_params(request))
    async with db.session() as session:
        saved = await markers.save(session, request.state.auth.account, positions)
    return json_response(markers_json(saved))


routes = [
    Route("/api/v1/markers", index, methods=["GET"]),
    Route("/api/v1/markers", create, methods=["POST"]),
]
