"""Following: follow/unfollow, followers and following lists, relationships, follow requests.

These URLs sit under /api/v1/accounts/ but are served here (app/api/v1/accounts.py
serves the profile itself). Account IDs in paths use Starlette's `int` convertor,
so /api/v1/accounts/relationships and /familiar_followers never look like an ID,
and a non-numeric ID answers 404. See docs/social_graph.md.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.account import account_json
from app.api.entities.relationship import familiar_followers_json, relationship_json
from app.api.pagination import Page
from app.api.params import Params, read_params
from app.api.responses import json_response
from app.services import follows, relationships
from app.services.follows import FollowOptions

MAX_IDS = 100  # accounts per relationships / familiar_followers request


def _viewer_id(request: Request) -> int | None:
    owner = request.state.auth
    return owner.account.id if owner is not None and owner.account is not None else None


def account_ids(params: Params) -> list[int]:
    """`id[]=1&id[]=2` (or a single `id=1`); what is not a number is skipped, as Mastodon does."""
    raw = params.get("id", [])
    items = raw if isinstance(raw, list) else [raw]
    ids = [int(i) for i in items if isinstance(i, (str, int)) and str(i).strip().isascii() and str(i).strip().isdigit()]
    return list(dict.fromkeys(i for i in ids if 0 < i <= relationships.MAX_ID))[:MAX_IDS]


def _accounts_page(request: Request, page: Page, rows) -> Response:
    return json_response([account_json(account) for _, account in rows],
                         headers=page.link_header(request, [row_id for row_id, _ in rows],
                                                  continues=page.full(rows), prev_key="since_id"))


@authenticated("write:follows")
async def follow(request: Request) -> Response:
    params = await read_params(request)
    options = FollowOptions(reblogs=params.bool("reblogs"), notify=params.bool("notify"),
                            languages=params.list("languages") if "languages" in params else None)
    me = request.state.auth.account
    async with db.session() as session:
        rel = await follows.follow(session, me.id, request.path_params["id"], options)
    return json_response(relationship_json(rel), headers=await follows.budget_headers(me.id))


@authenticated("write:follows")
async def unfollow(request: Request) -> Response:
    async with db.session() as session:
        rel = await follows.unfollow(session, request.state.auth.account.id, request.path_params["id"])
    return json_response(relationship_json(rel))


@authenticated("write:follows")
async def remove_from_followers(request: Request) -> Response:
    async with db.session() as session:
        rel = await follows.remove_from_followers(session, request.state.auth.account.id, request.path_params["id"])
    return json_response(relationship_json(rel))


@authenticated("read:accounts", optional=True)
async def followers(request: Request) -> Response:
    page = Page.from_params(await read_params(request), default=40, maximum=80)
    async with db.session() as session:
        rows = await follows.followers(session, request.path_params["id"], page, _viewer_id(request))
    return _accounts_page(request, page, rows)


@authenticated("read:accounts", optional=True)
async def following(request: Request) -> Response:
    page = Page.from_params(await read_params(request), default=40, maximum=80)
    async with db.session() as session:
        rows = await follows.following(session, request.path_params["id"], page, _viewer_id(request))
    return _accounts_page(request, page, rows)


@authenticated("read:follows")
async def relationships_index(request: Request) -> Response:
    params = await read_params(request)
    async with db.session() as session:
        found = await relationships.list_for(session, request.state.auth.account.id, account_ids(params),
                                             with_suspended=bool(params.bool("with_suspended", False)))
    return json_response([relationship_json(rel) for rel in found])


@authenticated("read:follows")
async def familiar_followers(request: Request) -> Response:
    params = await read_params(request)
    async with db.session() as session:
        found = await follows.familiar_followers(session, request.state.auth.account.id, account_ids(params))
    return json_response([familiar_followers_json(account_id, accounts) for account_id, accounts in found.items()])


@authenticated("read:follows")
async def follow_requests(request: Request) -> Response:
    page = Page.from_params(await read_params(request), default=40, maximum=80)
    async with db.session() as session:
        rows = await follows.pending_requests(session, request.state.auth.account.id, page)
    return _accounts_page(request, page, rows)


@authenticated("write:follows")
async def authorize(request: Request) -> Response:
    async with db.session() as session:
        rel = await follows.authorize(session, request.state.auth.account.id, request.path_params["id"])
    return json_response(relationship_json(rel))


@authenticated("write:follows")
async def reject(request: Request) -> Response:
    async with db.session() as session:
        rel = await follows.reject(session, request.state.auth.account.id, request.path_params["id"])
    return json_response(relationship_json(rel))


@authenticated("read:accounts")
async def endorsements(request: Request) -> Response:
    # Featuring accounts on a profile is not supported yet: an honest empty list.
    Page.from_params(await read_params(request), default=40, maximum=80)  # still reject bad paging params
    return json_response([])


routes = [
    Route("/api/v1/accounts/relationships", relationships_index, methods=["GET"]),
    Route("/api/v1/accounts/familiar_followers", familiar_followers, methods=["GET"]),
    Route("/api/v1/accounts/{id:int}/follow", follow, methods=["POST"]),
    Route("/api/v1/accounts/{id:int}/unfollow", unfollow, methods=["POST"]),
    Route("/api/v1/accounts/{id:int}/remove_from_followers", remove_from_followers, methods=["POST"]),
    Route("/api/v1/accounts/{id:int}/followers", followers, methods=["GET"]),
    Route("/api/v1/accounts/{id:int}/following", following, methods=["GET"]),
    Route("/api/v1/follow_requests", follow_requests, methods=["GET"]),
    Route("/api/v1/follow_requests/{id:int}/authorize", authorize, methods=["POST"]),
    Route("/api/v1/follow_requests/{id:int}/reject", reject, methods=["POST"]),
    Route("/api/v1/endorsements", endorsements, methods=["GET"]),
]
