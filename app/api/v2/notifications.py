"""Grouped notifications API v2 ("A and 10 others liked your post"). See docs/notifications.md."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.account import account_json
from app.api.entities.notification import render_groups
from app.api.pagination import Page
from app.api.params import read_params
from app.api.responses import json_response
from app.api.v1.notifications import COUNT_DEFAULT, COUNT_MAX, clear, string_list, filters_from
from app.errors import ApiError
from app.services import notification_requests, notifications

EXPAND_ACCOUNTS = ("full", "partial_avatars")


@authenticated("read:notifications")
async def index(request: Request) -> Response:
    params = await read_params(request)
    page = Page.from_params(params, default=40, maximum=80)
    expand = params.str("expand_accounts") or "full"
    if expand not in EXPAND_ACCOUNTS:
        # Mastodon's InvalidParameterError is a 400.
        raise ApiError(f"Invalid value for 'expand_accounts': '{expand}', "
                       "allowed values are 'full' and 'partial_avatars'", 400)
    grouped_types = string_list(params, "grouped_types") or None
    viewer = request.state.auth.account
    async with db.session() as session:
        groups, representatives = await notifications.grouped_page(session, viewer, page, filters_from(params),
                                                                   grouped_types)
        body = await render_groups(session, groups, viewer, expand_accounts=expand)
    return json_response(body, headers=page.link_header(request, [n.id for n in representatives]))


@authenticated("read:notifications")
async def show(request: Request) -> Response:
    viewer = request.state.auth.account
    async with db.session() as session:
        group = await notifications.find_group(session, viewer, request.path_params["group_key"])
        body = await render_groups(session, [group], viewer, paginated=False)
    return json_response(body)


@authenticated("read:notifications")
async def accounts(request: Request) -> Response:
    page = Page.from_params(await read_params(request), default=40, maximum=80)
    async with db.session() as session:
        rows = await notifications.group_accounts(session, request.state.auth.account,
                                                  request.path_params["group_key"], page)
    return json_response([account_json(account) for _, account in rows],
                         headers=page.link_header(request, [row_id for row_id, _ in rows], continues=page.full(rows)))


@authenticated("write:notifications")
async def dismiss(request: Request) -> Response:
    async with db.session() as session:
        await notifications.dismiss_group(session, request.state.auth.account, request.path_params["group_key"])
    return json_response({})


@authenticated("read:notifications")
async def unread_count(request: Request) -> Response:
    params = await read_params(request)
    limit = params.int("limit", COUNT_DEFAULT, minimum=1, maximum=COUNT_MAX)
    grouped_types = string_list(params, "grouped_types") or None
    viewer = request.state.auth.account
    async with db.session() as session:
        marker = await notifications.last_read_id(session, viewer)
        count = await notifications.unread_group_count(session, viewer, filters_from(params), limit, marker,
                                                       grouped_types)
    return json_response({"count": count})


@authenticated("read:notifications")
async def policy(request: Request) -> Response:
    account_id = request.state.auth.account.id
    async with db.session() as session:
        values = await notification_requests.policy_of(session, account_id)
        return json_response({**values, "summary": await notification_requests.summary(session, account_id)})


@authenticated("write:notifications")
async def update_policy(request: Request) -> Response:
    params = await read_params(request)
    changes = {name: params.str(name) for name in notification_requests.FIELDS if params.str(name) is not None}
    account_id = request.state.auth.account.id
    async with db.session() as session:
        values = await notification_requests.update_policy(session, account_id, changes)
        return json_response({**values, "summary": await notification_requests.summary(session, account_id)})


routes = [
    Route("/api/v2/notifications", index, methods=["GET"]),
    Route("/api/v2/notifications/unread_count", unread_count, methods=["GET"]),
    Route("/api/v2/notifications/policy", policy, methods=["GET"]),
    Route("/api/v2/notifications/policy", update_policy, methods=["PATCH", "PUT"]),
    Route("/api/v2/notifications/clear", clear, methods=["POST"]),  # Mastodon routes v1's clear on v2 too
    Route("/api/v2/notifications/{group_key}", show, methods=["GET"]),
    Route("/api/v2/notifications/{group_key}/accounts", accounts, methods=["GET"]),
    Route("/api/v2/notifications/{group_key}/dismiss", dismiss, methods=["POST"]),
]
