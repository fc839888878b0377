"""What other servers fetch from us. So far: the instance actor and WebFinger for it.

    GET /actor                                               the instance actor (Application)
    GET /.well-known/webfinger?resource=acct:<domain>@<domain>   its JRD (the actor's URL works too)

Local users' actors, inboxes, outboxes and collections come with the rest of federation;
WebFinger answers 404 for them until their actor documents exist.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from activitypub.vocabulary import ACTIVITY_JSON
from app import db
from app.api.responses import JSON
from app.config import get_settings
from app.services import instance_actor
from federation.serializers.actor import actor_document


class ActivityJSON(JSON):
    media_type = f"{ACTIVITY_JSON}; charset=utf-8"


class JRDJSON(JSON):
    media_type = "application/jrd+json; charset=utf-8"


async def actor(request: Request) -> Response:
    async with db.session() as session:
        account = await instance_actor.ensure(session)
    return ActivityJSON(actor_document(account, "Application"))


def _names_instance_actor(resource: str) -> bool:
    # Compared as text: the actor's username is the domain, which may carry a :port that
    # is not a valid username anywhere else.
    settings = get_settings()
    local = settings.domain.lower()
    return (resource == instance_actor.actor_uri(settings)
            or resource.lower().removeprefix("acct:") == f"{local}@{local}")


async def webfinger(request: Request) -> Response:
    resource = request.query_params.get("resource", "").strip()
    if not resource:
        return JSON({"error": "Missing required parameter: resource"}, status_code=400)
    if not _names_instance_actor(resource):
        return JSON({"error": "Record not found"}, status_code=404)
    settings = get_settings()
    uri = instance_actor.actor_uri(settings)
    async with db.session() as session:
        await instance_actor.ensure(session)
    return JRDJSON({
        "subject": f"acct:{settings.domain}@{settings.domain}",
        "aliases": [uri],
        "links": [
            {"rel": "self", "type": ACTIVITY_JSON, "href": uri},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": f"{settings.base_url}/about"},
        ],
    })


routes = [
    Route(instance_actor.PATH, actor, methods=["GET"]),
    Route("/.well-known/webfinger", webfinger, methods=["GET"]),
]
