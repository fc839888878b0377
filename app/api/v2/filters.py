"""Filters API (v2): filters, their keywords and their statuses (app/services/filters.py)."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.filter import filter_json, filter_status_json, keyword_json
from app.api.params import Params, read_params
from app.api.responses import json_response
from app.errors import ApiError
from app.services import filters
from app.services.filters import UNSET, FilterDraft, KeywordDraft


def _sent(params: Params, name: str) -> Any:
    return params[name] if name in params else UNSET


def _keyword(raw: Any) -> KeywordDraft:
    if not isinstance(raw, dict):
        raise ApiError("keywords_attributes must list objects with keyword, whole_word, id or _destroy", 422)
    item = Params(raw)
    return KeywordDraft(keyword=_sent(item, "keyword"), whole_word=_sent(item, "whole_word"), id=item.get("id"),
                        destroy=bool(item.bool("_destroy", False)))


def _draft(params: Params) -> FilterDraft:
    return FilterDraft(title=_sent(params, "title"), context=_sent(params, "context"),
                       filter_action=_sent(params, "filter_action"), expires_in=_sent(params, "expires_in"),
                       keywords=[_keyword(raw) for raw in params.list("keywords_attributes")])


def _keyword_draft(params: Params) -> KeywordDraft:
    return KeywordDraft(keyword=_sent(params, "keyword"), whole_word=_sent(params, "whole_word"))


@authenticated("read:filters")
async def index(request: Request) -> Response:
    async with db.reading() as session:
        found = await filters.all_of(session, request.state.auth.account)
    return json_response([filter_json(group) for group in found])


@authenticated("read:filters")
async def show(request: Request) -> Response:
    async with db.reading() as session:
        found = await filters.group(session, request.state.auth.account, request.path_params["id"])
    return json_response(filter_json(found))


@authenticated("write:filters")
async def create(request: Request) -> Response:
    draft = _draft(await read_params(request))
    async with db.session() as session:
        created = await filters.create(session, request.state.auth.account, draft)
    return json_response(filter_json(created))


@authenticated("write:filters")
async def update(request: Request) -> Response:
    draft = _draft(await read_params(request))
    async with db.session() as session:
        updated = await filters.update(session, request.state.auth.account, request.path_params["id"], draft)
    return json_response(filter_json(updated))


@authenticated("write:filters")
async def destroy(request: Request) -> Response:
    async with db.session() as session:
        await filters.remove(session, request.state.auth.account, request.path_params["id"])
    return json_response({})


@authenticated("read:filters")
async def keywords(request: Request) -> Response:
    async with db.reading() as session:
        found = await filters.keywords_of(session, request.state.auth.account, request.path_params["filter_id"])
    return json_response([keyword_json(k) for k in found])


@authenticated("write:filters")
async def add_keyword(request: Request) -> Response:
    draft = _keyword_draft(await read_params(request))
    async with db.session() as session:
        added = await filters.add_keyword(session, request.state.auth.account, request.path_params["filter_id"],
                                          draft)
    return json_response(keyword_json(added))


@authenticated("read:filters")
async def show_keyword(request: Request) -> Response:
    async with db.reading() as session:
        found = await filters.find_keyword(session, request.state.auth.account, request.path_params["id"])
    return json_response(keyword_json(found))


@authenticated("write:filters")
async def update_keyword(request: Request) -> Response:
    draft = _keyword_draft(await read_params(request))
    async with db.session() as session:
        updated = await filters.update_keyword(session, request.state.auth.account, request.path_params["id"],
                                               draft)
    return json_response(keyword_json(updated))


@authenticated("write:filters")
async def remove_keyword(request: Request) -> Response:
    async with db.session() as session:
        await filters.remove_keyword(session, request.state.auth.account, request.path_params["id"])
    return json_response({})


@authenticated("read:filters")
async def statuses(request: Request) -> Response:
    async with db.reading() as session:
        found = await filters.statuses_of(session, request.state.auth.account, request.path_params["filter_id"])
    return json_response([filter_status_json(s) for s in found])


@authenticated("write:filters")
async def add_status(request: Request) -> Response:
    params = await read_params(request)
    async with db.session() as session:
        added = await filters.add_status(session, request.state.auth.account, request.path_params["filter_id"],
                                         params.get("status_id"))
    return json_response(filter_status_json(added))


@authenticated("read:filters")
async def show_status(request: Request) -> Response:
    async with db.reading() as session:
        found = await filters.find_status(session, request.state.auth.account, request.path_params["id"])
    return json_response(filter_status_json(found))


@authenticated("write:filters")
async def remove_status(request: Request) -> Response:
    async with db.session() as session:
        await filters.remove_status(session, request.state.auth.account, request.path_params["id"])
    return json_response({})


routes = [
    Route("/api/v2/filters", index, methods=["GET"]),
    Route("/api/v2/filters", create, methods=["POST"]),
    # Before /api/v2/filters/{id}/...: "keywords" and "statuses" are not filter ids.
    Route("/api/v2/filters/keywords/{id}", show_keyword, methods=["GET"]),
    Route("/api/v2/filters/keywords/{id}", update_keyword, methods=["PUT"]),
    Route("/api/v2/filters/keywords/{id}", remove_keyword, methods=["DELETE"]),
    Route("/api/v2/filters/statuses/{id}", show_status, methods=["GET"]),
    Route("/api/v2/filters/statuses/{id}", remove_status, methods=["DELETE"]),
    Route("/api/v2/filters/{id}", show, methods=["GET"]),
    Route("/api/v2/filters/{id}", update, methods=["PUT"]),
    Route("/api/v2/filters/{id}", destroy, methods=["DELETE"]),
    Route("/api/v2/filters/{filter_id}/keywords", keywords, methods=["GET"]),
    Route("/api/v2/filters/{filter_id}/keywords", add_keyword, methods=["POST"]),
    Route("/api/v2/filters/{filter_id}/statuses", statuses, methods=["GET"]),
    Route("/api/v2/filters/{filter_id}/statuses", add_status, methods=["POST"]),
]
