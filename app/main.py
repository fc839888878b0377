"""create_app(): the composition root: routes, middleware, error handling, lifespan."""
from __future__ import annotations

import asyncio
import gc
import logging
from contextlib import asynccontextmanager
from typing import Callable, Sequence

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from app import db, jobs, notices
from app import redis as app_redis
from app.api import oauth as oauth_api
from app.api.responses import json_response
from app.api.v1 import account_registration, accounts, apps, custom_emojis, emails, instance, preferences
from app.api.v1.admin import accounts as admin_accounts_api
from app.api.v2 import instance as instance_v2
from app.api.v1 import media as media_api
from app.api.v1 import blocks as blocks_api, follows as follows_api, mutes as mutes_api
from app.api.v2 import media as media_v2
from app.api.v1 import polls as polls_api, statuses as statuses_api
from app.api.v1 import streaming as streaming_api
from app.api.v1 import notifications as notifications_api
from app.api.v2 import notifications as notifications_v2
from app.api.v2 import search as search_v2, suggestions as suggestions_v2
from app.api.v1 import followed_tags as followed_tags_api, tags as tags_api, trends as trends_api
from app.api.v1 import bookmarks as bookmarks_api, conversations as conversations_api, favourites as favourites_api
from app.api.v1 import lists as lists_api, markers as markers_api, timelines as timelines_api
from app.api.v1 import directory as directory_api, unsupported as unsupported_api
from app.api.v1 import filters as filters_api
from app.api.v2 import filters as filters_v2
from app.config import Settings, configure
from app.errors import ApiError
from app.middleware import stack
from app.web import auth as web_auth
from app.web import home
from app.web import oauth as web_oauth
from app.services import token_owners
from app.services.search import resolve as search_resolve
from federation import routes as federation_routes
from federation.resolver import build_resolver

log = logging.getLogger("starling")

ROUTE_MODULES = [
    # Routes are tried in order: the timelines, read far more than anything else, go first
    # (their paths overlap nothing).
    timelines_api,
    # follows/blocks/mutes serve /api/v1/accounts/<word> paths: listed before accounts.
    follows_api, blocks_api, mutes_api, lists_api,
    apps, oauth_api, accounts, account_registration, emails, instance, instance_v2, preferences, custom_emojis,
    admin_accounts_api, media_api, media_v2, statuses_api, polls_api, favourites_api, bookmarks_api,
    web_oauth, web_auth, home,
    streaming_api, notifications_api, notifications_v2, markers_api, search_v2,
    suggestions_v2, tags_api, trends_api, followed_tags_api, conversations_api, directory_api, filters_api,
    filters_v2, unsupported_api,
    federation_routes,
]


async def _api_error(request: Request, exc: ApiError):
    return json_response(exc.body(), status_code=exc.status_code, headers=getattr(exc, "headers", None))


async def _http_error(request: Request, exc: HTTPException):
    messages = {404: "Record not found", 405: "Method not allowed"}
    return json_response({"error": messages.get(exc.status_code, exc.detail)}, status_code=exc.status_code,
                         headers=getattr(exc, "headers", None))


async def _crash(request: Request, exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return json_response({"error": "Internal server error"}, status_code=500)


# Collect the youngest generation every 10,000 net allocations instead of 700, and the oldest
# 50 times more rarely than the default. A timeline page allocates thousands of short-lived
# objects (ORM rows, dicts): with the defaults the collector ran many times per request, and
# full collections over the whole heap were the slowest requests (paging p99 107-138 ms against
# 67-101 ms tuned, p50 unchanged, docs/decisions.md). Cyclic garbage lives a little longer.
GC_THRESHOLDS = (10_000, 50, 100)


def _tune_garbage_collector() -> None:
    """Once the app is built: what exists now (modules, compiled statements, settings) lives as
    long as the process, so it is frozen out of every future collection, then the thresholds
    are raised."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def create_app(settings: Settings, on_shutdown: Sequence[Callable[[], None]] = ()) -> Starlette:
    """Build the ASGI app for `settings` (database and Redis URLs already resolved).

    `on_shutdown` runs, in order, after the server stops taking requests: the CLI
    stops in-process workers and embedded servers there, because uvicorn re-raises
    the stopping signal once it is done and code after `server.run()` never runs.
    """
    configure(settings)
    db.connect(settings.database_url, settings.db_pool_size)
    app_redis.connect(settings.redis_url, settings.feeds_redis_url)
    token_owners.watch_changes()
    jobs.setup_broker(settings.redis_url)
    settings.media_root.mkdir(parents=True, exist_ok=True)
    # search?resolve=true asks other servers (on the injected network in tests).
    search_resolve.install(build_resolver(settings))

    @asynccontextmanager
    async def lifespan(app):
        _tune_garbage_collector()
        notices.start()  # kept token owners are used without asking Redis once it listens
        yield
        await notices.stop()
        await app_redis.close()
        await db.dispose()
        for hook in on_shutdown:
            await asyncio.to_thread(hook)

    routes = [route for module in ROUTE_MODULES for route in module.routes]
    routes.append(Mount("/system", app=StaticFiles(directory=settings.media_root, check_dir=False), name="media"))
    return Starlette(
        routes=routes,
        middleware=stack(settings),
        exception_handlers={ApiError: _api_error, HTTPException: _http_error, Exception: _crash},
        lifespan=lifespan,
    )


def app_from_env() -> Starlette:
    """The app of one of several web processes (`starling serve --processes N`): each builds
    its own from the environment, where the parent left the resolved database and Redis URLs."""
    return create_app(Settings.from_env())
