"""Lists API: the owner's lists, their members, and which lists hold an account."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.account import account_json
from app.api.entities.list import list_json
from app.api.pagination import Page
from app.api.params import Params, read_params
from app.api.responses import json_response
from app.services import lists
from app.services.lists import ListDraft


def _draft(params: Params) -> ListDraft:
    return ListDraft(title=params.str("title"), replies_policy=params.str("replies_policy") or None,
                     exclusive=params.bool("exclusive"))


@authenticated("read:lists")
async def index(request: Request) -> Response:
    async with db.session() as session:
        found = await lists.all_of(session, request.state.auth.account)
    return json_response([list_json(a) for a in found])


@authenticated("read:lists")
async def show(request: Request) -> Response:
    async with db.session() as session:
        found = await lists.find_list(session, request.state.auth.account, request.path_params["id"])
    return json_response(list_json(found))


@authenticated("write:lists")
async def create(request: Request) -> Response:
    draft = _draft(await read_params(request))
    async with db.session() as session:
        created = await lists.create(session, request.state.auth.account, draft)
    return json_response(list_json(created))


@authenticated("write:lists")
async def update(request: Request) -> Response:
    draft = _draft(await read_params(request))
    async with db.session() as session:
        updated = await lists.update(session, request.state.auth.account, request.path_params["id"], draft)
    return json_response(list_json(updated))


@authenticated("write:lists")
async def destroy(request: Request) -> Response:
    async with db.session() as session:
        await lists.remove(session, request.state.auth.account, request.path_params["id"])
    return json_response({})


@authenticated("read:lists")
async def accounts(request: Request) -> Response:
    params = await read_params(request)
    # limit=0 asks for every member at once (Mastodon), without pagination; else 40, at most 80.
    page = None if str(params.get("limit", "")).strip() == "0" else Page.from_params(params, default=40, maximum=80)
    async with db.session() as session:
        rows = await lists.accounts(session, request.state.auth.account, request.path_params["id"], page)
    headers = (page.link_header(request, [account.id for account in rows], continues=page.full(rows),
                                 prev_key="since_id") if page is not None else {})
    return json_response([account_json(account) for account in rows], headers=headers)


@authenticated("write:lists")
async def add_accounts(request: Request) -> Response:
    params = await read_params(request)
    async with db.session() as session:
        await lists.add_accounts(session, request.state.auth.account, request.path_params["id"],
                                 params.list("account_ids"))
    return json_response({})


@authenticated("write:lists")
async def remove_accounts(request: Request) -> Response:
    params = await read_params(request)
    async with db.session() as session:
        await lists.remove_accounts(session, request.state.auth.account, request.path_params["id"],
                                    params.list("account_ids"))
    return json_response({})


@authenticated("read:lists")
async def account_lists(request: Request) -> Response:
    async with db.session() as session:
        found = await lists.lists_with(session, request.state.auth.account, request.path_params["id"])
    return json_response([list_json(a) for a in found])


routes = [
    Route("/api/v1/lists", index, methods=["GET"]),
    Route("/api/v1/lists", create, methods=["POST"]),
    Route("/api/v1/lists/{id}", show, methods=["GET"]),
    Route("/api/v1/lists/{id}", update, methods=["PUT"]),
    Route("/api/v1/lists/{id}", destroy, methods=["DELETE"]),
    Route("/api/v1/lists/{id}/accounts", accounts, methods=["GET"]),
    Route("/api/v1/lists/{id}/accounts", add_accounts, methods=["POST"]),
    Route("/api/v1/lists/{id}/accounts", remove_accounts, methods=["DELETE"]),
    Route("/api/v1/accounts/{id:int}/lists", account_lists, methods=["GET"]),
]
