"""Direct-message conversations: GET /api/v1/conversations (paged by last status, as
Mastodon), DELETE /api/v1/conversations/:id, POST /api/v1/conversations/:id/read."""
from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import after_response, db
from app.api.auth import authenticated
from app.api.entities.conversation import render_conversations
from app.api.pagination import Page
from app.api.params import read_params
from app.api.responses import json_response
from app.services import conversations, streaming

log = logging.getLogger("starling.conversations")


@authenticated("read:statuses")
async def index(request: Request) -> Response:
    viewer = request.state.auth.account
    page = Page.from_params(await read_params(request))
    async with db.reading() as session:
        rows = await conversations.page_of(session, viewer.id, page)
        rendered = await render_conversations(session, rows, viewer)
    return json_response(rendered, headers=page.link_header(request, [row.last_status_id for row in rows],
                                                                  continues=page.full(rows)))


@authenticated("write:conversations")
async def read(request: Request) -> Response:
    viewer = request.state.auth.account
    async with db.session() as session:
        row = await conversations.mark_read(session, viewer.id, request.path_params["id"])
        [rendered] = await render_conversations(session, [row], viewer)
    response = json_response(rendered)

    # The owner's other apps hear it is read (Mastodon streams a conversation on every change).
    async def tell_other_apps() -> None:
        try:
            await streaming.publish_to_user(viewer.id, "conversation", response.body.decode())
        except Exception:  # committed already; a missed event only leaves another app's badge on
            log.exception("conversation %s: read state not streamed", row.id)

    await after_response.soon(tell_other_apps)
    return response


@authenticated("write:conversations")
async def remove(request: Request) -> Response:
    async with db.session() as session:
        await conversations.remove(session, request.state.auth.account.id, request.path_params["id"])
    return json_response({})


routes = [
    Route("/api/v1/conversations", index, methods=["GET"]),
    Route("/api/v1/conversations/{id}", remove, methods=["DELETE"]),
    Route("/api/v1/conversations/{id}/read", read, methods=["POST"]),
]
