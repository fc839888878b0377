"""Accounts: the signed-in user's own profile, and public profiles.

(Registration, POST /api/v1/accounts, lives in its own module.)
Account IDs in paths use Starlette's `int` convertor, so a non-numeric ID never
matches: the router answers 404 "Record not found", and sibling paths such as
/api/v1/accounts/relationships stay free for the modules that serve them.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.account import account_json, credential_account_json
from app.api.entities.status import render_statuses
from app.api.pagination import Page
from app.api.params import Params, read_params
from app.api.responses import json_response
from app.config import get_settings
from app.errors import ApiError, NotFound
from app.services import follows, media_files, profiles, statuses
from app.services.profiles import ProfileUpdate
from app.services import search as search_service
from app.services.search import resolve as resolving
from app.services.search.accounts import AccountQuery
from app.services.ids import MAX_ID


async def _credential_account(account, user) -> Response:
    async with db.reading() as session:
        pending = await follows.pending_requests_count(session, account.id)
    return json_response(credential_account_json(account, user, follow_requests_count=pending))


@authenticated("profile")
async def verify_credentials(request: Request) -> Response:
    async with db.reading() as session:
        account, user = await profiles.own(session, request.state.auth.account.id)
    return await _credential_account(account, user)


async def _upload(params: Params, name: str, limit: int) -> bytes | None:
    upload = params.file(name)
    if upload is None:
        return None
    # One byte past the limit is enough to know it is too large.
    return await upload.read(limit + 1)


def _source(params: Params) -> Params:
    source = params.get("source") or {}
    if not isinstance(source, dict):
        raise ApiError("source must be a hash of privacy, sensitive and language", 422)
    return Params(source)


@authenticated("write:accounts")
async def update_credentials(request: Request) -> Response:
    params = await read_params(request)
    settings = get_settings()
    source = _source(params)
    changes = ProfileUpdate(
        display_name=params.str("display_name"),
        note=params.str("note"),
        locked=params.bool("locked"),
        bot=params.bool("bot"),
        discoverable=params.bool("discoverable"),
        indexable=params.bool("indexable"),
        hide_collections=params.bool("hide_collections"),
        fields=params.get("fields_attributes"),
        privacy=source.str("privacy"),
        sensitive=source.bool("sensitive"),
        language=source.str("language"),
        avatar=await _upload(params, "avatar", settings.max_avatar_bytes),
        header=await _upload(params, "header", settings.max_header_bytes),
    )
    account, user = await profiles.update(request.state.auth.account.id, changes)
    return await _credential_account(account, user)


@authenticated("read:accounts", optional=True)  # as Mastodon: anyone, or a token that may read accounts
async def show(request: Request) -> Response:
    account_id = request.path_params["id"]
    if account_id > MAX_ID:
        raise NotFound()
    async with db.session() as session:
        account = await profiles.find_visible(session, account_id)
    if account is None:
        raise NotFound()
    return json_response(account_json(account))


@authenticated("read:accounts", optional=True)  # as Mastodon: anyone, or a token that may read accounts
async def index(request: Request) -> Response:
    params = await read_params(request)
    raw = params.get("id", [])
    ids = [int(i) for i in (raw if isinstance(raw, list) else [raw])
           if isinstance(i, (str, int)) and str(i).isascii() and str(i).isdigit() and int(i) <= MAX_ID]
    async with db.session() as session:
        accounts = await profiles.find_many(session, ids)
    return json_response([account_json(a) for a in accounts])


@authenticated("read:accounts", optional=True)  # as Mastodon: anyone, or a token that may read accounts
async def lookup(request: Request) -> Response:
    params = await read_params(request)
    acct = params.str("acct")
    if not acct:
        raise ApiError("Missing required parameter: acct", 400)
    async with db.session() as session:
        account = await profiles.lookup(session, acct)
    if account is None:
        raise NotFound()
    return json_response(account_json(account))


@authenticated("read:statuses", optional=True)
async def statuses_index(request: Request) -> Response:
    """GET /api/v1/accounts/:id/statuses (pinned, exclude_replies, exclude_reblogs, only_media, tagged)."""
    account_id = request.path_params["id"]
    if account_id > MAX_ID:
        raise NotFound()
    params = await read_params(request)
    page = Page.from_params(params)
    filters = statuses.AccountFilter(
        pinned=bool(params.bool("pinned", False)),
        exclude_replies=bool(params.bool("exclude_replies", False)),
        exclude_reblogs=bool(params.bool("exclude_reblogs", False)),
        only_media=bool(params.bool("only_media", False)),
        tagged=params.str("tagged") or None,
    )
    auth = getattr(request.state, "auth", None)
    viewer = auth.account if auth is not None else None
    async with db.session() as session:
        account = await profiles.find_visible(session, account_id)
        if account is None:
            raise NotFound()
        rows = await statuses.of_account(session, viewer, account, filters, page)
        rendered = await render_statuses(session, [status for _, status in rows], viewer)
    return json_response(rendered, headers=page.link_header(request, [cursor for cursor, _ in rows],
                                                                  continues=page.full(rows)))


@authenticated("read:accounts")
async def search(request: Request) -> Response:
    """GET /api/v1/accounts/search (q, limit 40 by default and at most 80, offset, following,
    resolve: a `user@domain` query looks the account up on its server, as in /api/v2/search,
    and puts it first)."""
    params = await read_params(request)
    query = AccountQuery(
        text=search_service.check_text(params.str("q")),
        following=bool(params.bool("following", False)),
        offset=params.int("offset", 0, minimum=0, maximum=search_service.MAX_OFFSET),
        limit=params.int("limit", 40, minimum=1, maximum=80),
    )
    viewer = request.state.auth.account
    resolved = None
    if params.bool("resolve", False) and query.offset == 0 and resolving.acct_query(query.text):
        # Before the search opens its session: the look-up waits on another server.
        resolved = await resolving.lookup(viewer, query.text, "accounts")
    accounts = await search_service.find_accounts(viewer, query)
    if resolved is not None:
        async with db.reading() as session:
            accounts = await resolving.account_first(session, viewer, accounts, resolved,
                                                     following=query.following, limit=query.limit)
    return json_response([account_json(a) for a in accounts])


def _default_image(kind: media_files.ImageKind):
    async def serve(request: Request) -> Response:
        return Response(media_files.default_image(kind.name), media_type="image/png",
                        headers={"Cache-Control": "public, max-age=86400"})

    return serve


routes = [
    Route("/api/v1/accounts/verify_credentials", verify_credentials, methods=["GET"]),
    Route("/api/v1/accounts/update_credentials", update_credentials, methods=["PATCH"]),
    Route("/api/v1/accounts/lookup", lookup, methods=["GET"]),
    Route("/api/v1/accounts/search", search, methods=["GET"]),
    Route("/api/v1/accounts/{id:int}", show, methods=["GET"]),
    Route("/api/v1/accounts/{id:int}/statuses", statuses_index, methods=["GET"]),
    Route("/api/v1/accounts", index, methods=["GET"]),
    # The pictures every account without its own avatar or header shows (Mastodon's paths).
    Route(media_files.AVATAR.default_path, _default_image(media_files.AVATAR), methods=["GET"]),
    Route(media_files.HEADER.default_path, _default_image(media_files.HEADER), methods=["GET"]),
]
