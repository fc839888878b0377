"""The server's self-description (v1), its rules, and the honest empty answers
clients ask for at start-up (peers, activity, extended description...)."""
from __future__ import annotations

from datetime import datetime, timezone

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import db
from app.api.entities.account import iso_datetime
from app.api.entities.instance import THUMBNAIL_PATH, InstanceFacts, instance_v1_json, rule_json
from app.api.responses import json_response
from app.config import get_settings
from app.errors import NotFound
from app.services import instance, media_files
from app.text import render_plain

# When the built-in texts below last changed (clients show it as "last updated").
TEXTS_UPDATED_AT = datetime(2025, 1, 1, tzinfo=timezone.utc)


async def facts() -> InstanceFacts:
    async with db.session() as session:
        return InstanceFacts(
            settings=get_settings(),
            stats=await instance.stats(),
            rules=await instance.rules(session),
            contact=await instance.contact_account(session),
        )


async def show(request: Request) -> Response:
    return json_response(instance_v1_json(await facts()))


async def rules(request: Request) -> Response:
    async with db.session() as session:
        found = await instance.rules(session)
    return json_response([rule_json(r) for r in found])


async def peers(request: Request) -> Response:
    return json_response([])  # no federation yet, so no known peers


async def activity(request: Request) -> Response:
    return json_response([])  # weekly figures are not collected yet


async def extended_description(request: Request) -> Response:
    return json_response({"updated_at": iso_datetime(TEXTS_UPDATED_AT),
                          "content": render_plain(get_settings().instance_description)})


async def privacy_policy(request: Request) -> Response:
    settings = get_settings()
    contact = f" Questions go to {settings.contact_email}." if settings.contact_email else ""
    text = f"The administrators of {settings.domain} have not published a privacy policy yet.{contact}"
    return json_response({"updated_at": iso_datetime(TEXTS_UPDATED_AT), "content": render_plain(text)})


async def terms_of_service(request: Request) -> Response:
    raise NotFound()  # Mastodon answers 404 until an admin publishes terms


async def thumbnail(request: Request) -> Response:
    return Response(media_files.default_image("thumbnail"), media_type="image/png",
                    headers={"Cache-Control": "public, max-age=86400"})


routes = [
    Route("/api/v1/instance", show, methods=["GET"]),
    Route("/api/v1/instance/rules", rules, methods=["GET"]),
    Route("/api/v1/instance/peers", peers, methods=["GET"]),
    Route("/api/v1/instance/activity", activity, methods=["GET"]),
    Route("/api/v1/instance/extended_description", extended_description, methods=["GET"]),
    Route("/api/v1/instance/privacy_policy", privacy_policy, methods=["GET"]),
    Route("/api/v1/instance/terms_of_service", terms_of_service, methods=["GET"]),
    Route(THUMBNAIL_PATH, thumbnail, methods=["GET"]),
]
