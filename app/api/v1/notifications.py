"""Notifications API v1: list, one, dismiss, clear, unread count, the filtering policy as
booleans, and the requests of filtered senders. See docs/notifications.md."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.notification import render_notifications
from app.api.entities.notification_request import render_requests
from app.api.pagination import Page
from app.api.params import Params, read_params
from app.api.responses import json_response
from app.errors import ApiError, NotFound
from app.services import notification_requests, notifications
from app.services.notifications import Filters

COUNT_DEFAULT, COUNT_MAX = 100, 1000  # unread_count's own limit (Mastodon's)


def string_list(params: Params, name: str) -> list[str]:
    values = params.list(name)
    if any(not isinstance(v, str) for v in values):
        raise ApiError(f"{name} must be a list of strings", 422)
    return values


def filters_from(params: Params) -> Filters:
    """types[], exclude_types[] (unknown types are ignored, as Mastodon does), account_id and
    include_filtered (those the notification policy held back too)."""
    return Filters(types=string_list(params, "types"), exclude_types=string_list(params, "exclude_types"),
                   account_id=params.str("account_id"), include_filtered=bool(params.bool("include_filtered")))


@authenticated("read:notifications")
async def index(request: Request) -> Response:
    params = await read_params(request)
    page = Page.from_params(params, default=40, maximum=80)
    filters = filters_from(params)
    viewer = request.state.auth.account
    async with db.session() as session:
        rows = await notifications.page(session, viewer, page, filters)
        items = await render_notifications(session, rows, viewer)
    return json_response(items, headers=page.link_header(request, [n.id for n in rows]))


@authenticated("read:notifications")
async def show(request: Request) -> Response:
    viewer = request.state.auth.account
    async with db.session() as session:
        found = await notifications.find(session, viewer, request.path_params["id"])
        items = await render_notifications(session, [found], viewer)
    if not items:
        raise ApiError("Record not found", 404)
    return json_response(items[0])


@authenticated("write:notifications")
async def dismiss(request: Request) -> Response:
    async with db.session() as session:
        await notifications.dismiss(session, request.state.auth.account, request.path_params["id"])
    return json_response({})


@authenticated("write:notifications")
async def clear(request: Request) -> Response:
    async with db.session() as session:
        await notifications.clear(session, request.state.auth.account)
    return json_response({})


@authenticated("read:notifications")
async def unread_count(request: Request) -> Response:
    params = await read_params(request)
    limit = params.int("limit", COUNT_DEFAULT, minimum=1, maximum=COUNT_MAX)
    viewer = request.state.auth.account
    async with db.session() as session:
        marker = await notifications.last_read_id(session, viewer)
        count = await notifications.unread_count(session, viewer, filters_from(params), limit, marker)
    return json_response({"count": count})


# The v1 policy (deprecated by Mastodon 4.3, still used by older apps): the v2 policy seen as
# booleans, each true unless its v2 field is accept (so drop reads true), as Mastodon's
# REST::V1::NotificationPolicySerializer. for_limited_accounts has no v1 field.
V1_POLICY_FIELDS = {"filter_not_following": "for_not_following", "filter_not_followers": "for_not_followers",
                    "filter_new_accounts": "for_new_accounts", "filter_private_mentions": "for_private_mentions"}


def v1_policy_json(values: dict[str, str], summary: dict[str, int]) -> dict:
    return {**{name: values[field] != "accept" for name, field in V1_POLICY_FIELDS.items()}, "summary": summary}


@authenticated("read:notifications")
async def policy(request: Request) -> Response:
    account_id = request.state.auth.account.id
    async with db.session() as session:
        values = await notification_requests.policy_of(session, account_id)
        return json_response(v1_policy_json(values, await notification_requests.summary(session, account_id)))


@authenticated("write:notifications")
async def update_policy(request: Request) -> Response:
    """true sets the v2 field to filter, false to accept (Mastodon's NotificationPolicy#filter_*=).
    Every value is read before anything is written: one that is not a boolean is a 422 that
    changes nothing."""
    params = await read_params(request)
    flags = {field: params.bool(name) for name, field in V1_POLICY_FIELDS.items()}
    changes = {field: "filter" if flag else "accept" for field, flag in flags.items() if flag is not None}
    account_id = request.state.auth.account.id
    async with db.session() as session:
        values = await notification_requests.update_policy(session, account_id, changes)
        return json_response(v1_policy_json(values, await notification_requests.summary(session, account_id)))


# Requests: the filtered mentions of one sender each (app.services.notification_requests).
@authenticated("read:notifications")
async def requests(request: Request) -> Response:
    page = Page.from_params(await read_params(request), default=40, maximum=80)
    viewer = request.state.auth.account
    async with db.session() as session:
        rows = await notification_requests.page_of(session, viewer.id, page)
        items = await render_requests(session, rows, viewer)
    return json_response(items, headers=page.link_header(request, [row.request.id for row in rows],
                                                            continues=page.full(rows)))


@authenticated("read:notifications")
async def request_merged(request: Request) -> Response:
    return json_response({"merged": True})  # accepting merges at once: nothing is ever left to merge


@authenticated("read:notifications")
async def one_request(request: Request) -> Response:
    viewer = request.state.auth.account
    async with db.session() as session:
        found = await notification_requests.find(session, viewer.id, request.path_params["id"])
        items = await render_requests(session, [found], viewer)
    if not items:
        raise NotFound()
    return json_response(items[0])


@authenticated("write:notifications")
async def act_on_one_request(request: Request) -> Response:
    act = notification_requests.accept if request.url.path.endswith("/accept") else notification_requests.dismiss
    viewer = request.state.auth.account
    async with db.session() as session:
        found = await notification_requests.find(session, viewer.id, request.path_params["id"])
        await act(session, viewer.id, [found.request.id])
    return json_response({})


@authenticated("write:notifications")
async def act_on_requests(request: Request) -> Response:
    ids = (await read_params(request)).list("id")
    if not ids:
        raise ApiError("param is missing or the value is empty: id", 400)  # Mastodon's params.require
    act = notification_requests.accept if request.url.path.endswith("/accept") else notification_requests.dismiss
    async with db.session() as session:
        await act(session, request.state.auth.account.id, ids)  # ids not the caller's requests are ignored
    return json_response({})


routes = [
    Route("/api/v1/notifications", index, methods=["GET"]),
    Route("/api/v1/notifications/unread_count", unread_count, methods=["GET"]),
    Route("/api/v1/notifications/clear", clear, methods=["POST"]),
    Route("/api/v1/notifications/policy", policy, methods=["GET"]),
    Route("/api/v1/notifications/policy", update_policy, methods=["PATCH", "PUT"]),
    Route("/api/v1/notifications/requests", requests, methods=["GET"]),
    Route("/api/v1/notifications/requests/merged", request_merged, methods=["GET"]),
    Route("/api/v1/notifications/requests/accept", act_on_requests, methods=["POST"]),
    Route("/api/v1/notifications/requests/dismiss", act_on_requests, methods=["POST"]),
    Route("/api/v1/notifications/requests/{id}", one_request, methods=["GET"]),
    Route("/api/v1/notifications/requests/{id}/accept", act_on_one_request, methods=["POST"]),
    Route("/api/v1/notifications/requests/{id}/dismiss", act_on_one_request, methods=["POST"]),
    Route("/api/v1/notifications/{id}", show, methods=["GET"]),
    Route("/api/v1/notifications/{id}/dismiss", dismiss, methods=["POST"]),
]
