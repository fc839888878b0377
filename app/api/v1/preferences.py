"""The signed-in user's preferences, for clients that honour the web settings."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.api.auth import authenticated
from app.api.responses import json_response


@authenticated("read:accounts")
async def show(request: Request) -> Response:
    user = request.state.auth.user
    return json_response({
        "posting:default:visibility": user.default_privacy,
        "posting:default:sensitive": user.default_sensitive,
        "posting:default:language": user.default_language,
        # Not settable yet: Mastodon's defaults.
        "reading:expand:media": "default",
        "reading:expand:spoilers": False,
    })


routes = [Route("/api/v1/preferences", show, methods=["GET"])]
