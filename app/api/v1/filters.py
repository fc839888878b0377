"""Filters API (v1, deprecated but still used by apps): each keyword seen as a filter of its own
(app/services/filters.py, the v1 part)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.filter import v1_filter_json
from app.api.params import Params, read_params
from app.api.responses import json_response
from app.services import filters
from app.services.filters import UNSET, V1Draft


def _draft(params: Params) -> V1Draft:
    return V1Draft(**{name: params[name] if name in params else UNSET
                      for name in ("phrase", "context", "irreversible", "whole_word", "expires_in")})


@authenticated("read:filters")
async def index(request: Request) -> Response:
    async with db.reading() as session:
        found = await filters.v1_all(session, request.state.auth.account)
    return json_response([v1_filter_json(keyword, a_filter) for keyword, a_filter in found])


@authenticated("read:filters")
async def show(request: Request) -> Response:
    async with db.reading() as session:
        keyword, a_filter = await filters.v1_find(session, request.state.auth.account, request.path_params["id"])
    return json_response(v1_filter_json(keyword, a_filter))


@authenticated("write:filters")
async def create(request: Request) -> Response:
    draft = _draft(await read_params(request))
    async with db.session() as session:
        keyword, a_filter = await filters.v1_create(session, request.state.auth.account, draft)
    return json_response(v1_filter_json(keyword, a_filter))


@authenticated("write:filters")
async def update(request: Request) -> Response:
    draft = _draft(await read_params(request))
    async with db.session() as session:
        keyword, a_filter = await filters.v1_update(session, request.state.auth.account, request.path_params["id"],
                                                    draft)
    return json_response(v1_filter_json(keyword, a_filter))


@authenticated("write:filters")
async def destroy(request: Request) -> Response:
    async with db.session() as session:
        await filters.v1_remove(session, request.state.auth.account, request.path_params["id"])
    return json_response({})


routes = [
    Route("/api/v1/filters", index, methods=["GET"]),
    Route("/api/v1/filters", create, methods=["POST"]),
    Route("/api/v1/filters/{id}", show, methods=["GET"]),
    Route("/api/v1/filters/{id}", update, methods=["PUT"]),
    Route("/api/v1/filters/{id}", destroy, methods=["DELETE"]),
]
