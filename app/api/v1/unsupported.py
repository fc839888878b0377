"""Reads of features Starling does not have yet, answered as Mastodon answers an account
that has none of them: an empty list (or object), never a 404 that a client breaks on
(DESIGN.md, Conventions). Each moves to its own module when its feature is built; writes
to them are not routed, so creating one is still a clear 404.

| path | Mastodon's feature | scope |
|---|---|---|
| GET /api/v1/announcements | instance announcements | read |
| GET /api/v1/featured_tags, /featured_tags/suggestions | hashtags featured on a profile | read:accounts |
| GET /api/v1/accounts/:id/featured_tags | the same, of any account | public |
| GET /api/v1/domain_blocks | domains a user hides | read:blocks |
| GET /api/v1/scheduled_statuses | posts scheduled for later | read:statuses |
| GET /api/v1/instance/translation_languages | machine translation | public |
"""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.responses import json_response
from app.errors import NotFound
from app.services import profiles
from app.services.ids import MAX_ID


def _nothing(scope: str | None, empty: Any, *, optional: bool = False):
    @authenticated(scope, optional=optional)
    async def answer(request: Request) -> Response:
        return json_response(empty)

    return answer


@authenticated(optional=True)
async def account_featured_tags(request: Request) -> Response:
    """An unknown account is still a 404, as for every /api/v1/accounts/:id path."""
    account_id = request.path_params["id"]
    async with db.reading() as session:
        found = await profiles.find_visible(session, account_id) if account_id <= MAX_ID else None
    if found is None:
        raise NotFound()
    return json_response([])


routes = [
    Route("/api/v1/announcements", _nothing("read", []), methods=["GET"]),
    Route("/api/v1/featured_tags", _nothing("read:accounts", []), methods=["GET"]),
    Route("/api/v1/featured_tags/suggestions", _nothing("read:accounts", []), methods=["GET"]),
    Route("/api/v1/accounts/{id:int}/featured_tags", account_featured_tags, methods=["GET"]),
    Route("/api/v1/domain_blocks", _nothing("read:blocks", []), methods=["GET"]),
    Route("/api/v1/scheduled_statuses", _nothing("read:statuses", []), methods=["GET"]),
    Route("/api/v1/instance/translation_languages", _nothing(None, {}, optional=True), methods=["GET"]),
]
