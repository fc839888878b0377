"""GET /api/v1/tags/:name (one hashtag with its seven days of history), and following it:
POST /api/v1/tags/:name/follow and /unfollow (app.services.followed_tags)."""
from __future__ import annotations

from sqlmodel import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.auth import authenticated
from app.api.entities.tag import tag_json
from app.api.responses import json_response
from app.errors import NotFound
from app.models import Tag
from app.services import followed_tags
from app.services.search.tags import NAME, unused_history, usage_history
from app.text import hashtag_key


@authenticated(optional=True)
async def show(request: Request) -> Response:
    name = request.path_params["name"]
    if not NAME.match(name) or len(name) > 255 or not hashtag_key(name):
        raise NotFound()
    async with db.reading() as session:
        tag = (await session.exec(select(Tag).where(Tag.key == hashtag_key(name)))).first()
        if tag is None:
            # A valid name nobody used yet: Mastodon shows it as a blank tag, stored nowhere.
            tag = Tag(name=name)
        history = await _history(session, tag)
        following = await _following(session, request, tag)
    return json_response(tag_json(tag, history, following=following))


async def _history(session, tag: Tag) -> list[tuple[int, int, int]]:
    if tag.id is None:
        return unused_history()
    return (await usage_history(session, [tag.id]))[tag.id]


async def _following(session, request: Request, tag: Tag) -> bool | None:
    auth = getattr(request.state, "auth", None)
    if auth is None or auth.account is None:
        return None
    return tag.id is not None and tag.id in await followed_tags.following_ids(session, auth.account.id, [tag.id])


async def _answer(tag: Tag, following: bool) -> Response:
    async with db.reading() as session:
        history = await _history(session, tag)
    return json_response(tag_json(tag, history, following=following))


@authenticated("write:follows")
async def follow(request: Request) -> Response:
    tag = await followed_tags.follow(request.state.auth.account.id, request.path_params["name"])
    return await _answer(tag, True)


@authenticated("write:follows")
async def unfollow(request: Request) -> Response:
    tag = await followed_tags.unfollow(request.state.auth.account.id, request.path_params["name"])
    return await _answer(tag, False)


routes = [
    Route("/api/v1/tags/{name}", show, methods=["GET"]),
    Route("/api/v1/tags/{name}/follow", follow, methods=["POST"]),
    Route("/api/v1/tags/{name}/unfollow", unfollow, methods=["POST"]),
]
