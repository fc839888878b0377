"""Pure ASGI middleware, outermost first: CORS, body size limit, trailing slashes (and NUL)
in the path, rate limits. ``stack(settings)`` gives the list create_app installs."""
from __future__ import annotations

import json

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.after_response import AfterResponse
from app.api.params import NUL_REFUSED
from app.config import Settings
from app.security import hash_token
from app.services import rate_limits


async def _send_json(send: Send, status: int, body: dict, headers: list[tuple[bytes, bytes]] = ()) -> None:
    payload = json.dumps(body).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(payload)).encode()), *headers],
    })
    await send({"type": "http.response.body", "body": payload})


class BodySizeLimit:
    """413 for bodies over the limit, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        too_large = {"error": f"Request body is larger than the limit of {self.max_bytes // (1024 * 1024)} MB"}
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await _send_json(send, 413, too_large)
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _send_json(send, 413, too_large)


class _TooLarge(Exception):
    pass


class NormalPath:
    """/api/v1/apps/ is /api/v1/apps: clients differ, and a redirect would drop POST bodies.
    A path with a NUL in it (`/tags/a%00b`) is refused as read_params refuses one in a
    parameter: PostgreSQL cannot hold NUL in text, so a path parameter would end as a 500."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if "\x00" in path and scope["type"] == "http":
            return await _send_json(send, 400, {"error": NUL_REFUSED})
        if scope["type"] in ("http", "websocket") and len(path) > 1 and path.endswith("/"):
            scope = dict(scope, path=path.rstrip("/") or "/", raw_path=None)
        await self.app(scope, receive, send)


# Endpoints that send mail or guess passwords: a tight per-IP budget.
SENSITIVE = {
    ("POST", "/api/v1/accounts"),
    ("POST", "/api/v1/emails/confirmations"),
    ("POST", "/auth/sign_up"),
    ("POST", "/auth/sign_in"),
    ("POST", "/auth/password"),
    ("POST", "/auth/confirmation"),
    ("POST", "/oauth/authorize"),
}


class RateLimit:
    """Fixed-window counters in Redis, with Mastodon's X-RateLimit-* headers.

    Every API request counts against its token (or IP when anonymous); sign-up,
    sign-in, password reset and confirmation resend also count against a much
    smaller per-IP budget.
    """

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.settings.rate_limits:
            return await self.app(scope, receive, send)
        path, method = scope["path"], scope["method"]
        if method == "OPTIONS" or not path.startswith(("/api/", "/oauth/", "/auth/")):
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        ip = scope["client"][0] if scope.get("client") else "unknown"
        auth = headers.get(b"authorization", b"").decode("latin-1")
        who = f"token:{hash_token(auth[7:].strip())[:32]}" if auth[:7].lower() == "bearer " else f"ip:{ip}"
        s = self.settings
        checks = [(f"api:{who}", s.rate_limit_api, s.rate_limit_api_window)]
        if (method, path) in SENSITIVE:
            checks.append((f"sensitive:{ip}", s.rate_limit_sensitive, s.rate_limit_sensitive_window))
        # The API budget is counted after the answer while far from its limit (rate_limits.hit_soon);
        # the small per-IP one for sign-up and sign-in always first.
        budgets = [await (rate_limits.hit_soon if n == 0 else rate_limits.hit)(*check) for n, check in enumerate(checks)]
        # Report the tightest bucket this request counted against.
        tightest = min(budgets, key=lambda b: b.limit - b.used)
        extra = [(name.lower().encode(), value.encode()) for name, value in rate_limits.headers(tightest).items()]
        if any(b.exceeded for b in budgets):
            return await _send_json(send, 429, {"error": "Too many requests"}, extra)

        async def with_headers(message: Message) -> None:
            # A handler that reports its own, tighter budget (e.g. follows per account) keeps its headers.
            if message["type"] == "http.response.start" and not any(
                    name.lower() == b"x-ratelimit-limit" for name, _ in message.get("headers", [])):
                message = dict(message, headers=list(message.get("headers", [])) + extra)
            await send(message)

        await self.app(scope, receive, with_headers)


def stack(settings: Settings) -> list[Middleware]:
    return [
        Middleware(AfterResponse),  # outermost: its work waits for the answer to be out
        Middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["*"],
            expose_headers=["Link", "X-RateLimit-Reset", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-Request-Id"],
            max_age=86400,
        ),
        Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        Middleware(NormalPath),
        Middleware(RateLimit, settings=settings),
    ]
