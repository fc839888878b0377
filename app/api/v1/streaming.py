"""Streaming API: `GET /api/v1/streaming` over WebSocket, the server-sent-event endpoints
`/api/v1/streaming/<stream>` and `/api/v1/streaming/health`.

Every stream needs a user token (Mastodon 4.2 and later): in the `Authorization`
header, the `access_token` query parameter or, for WebSockets, the
`Sec-WebSocket-Protocol` header (then echoed back as the accepted subprotocol).
A missing or unusable token is refused before the upgrade with HTTP 401.
Subscription problems on an open socket are error frames
({"error": "...", "status": 4xx}); the socket stays open. See docs/streaming.md.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from app.api.responses import json_response
from app.services import streaming
from app.services.streaming import StreamError
from app.streaming.session import StreamSession

log = logging.getLogger("starling.streaming")
HEARTBEAT_SECONDS = 15.0  # SSE keep-alive comment (WebSockets get uvicorn's pings)
TRUE_VALUES = {"1", "true", "t", "on", "yes"}
UNEXPECTED = "An unexpected error occurred"
UNSUBSCRIBE_FAILED = "Error unsubscribing from channel"
BINARY = "The streaming server does not support binary messages"


def _credentials(conn: HTTPConnection) -> tuple[str | None, str | None]:
    """(token, subprotocol to accept). Order as Mastodon: header, query, Sec-WebSocket-Protocol."""
    offered = conn.headers.get("sec-websocket-protocol")
    protocol = offered.split(",")[0].strip() or None if offered else None
    header = conn.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None, protocol
    return _first_values(conn).get("access_token") or protocol, protocol


def _first_values(conn: HTTPConnection) -> dict[str, str]:
    """The query's parameters, the first of repeated ones (Starlette's `get` and `dict()` give
    the last; Mastodon reads the first `stream`, and a repeated tag or list is no use anyway)."""
    query = conn.query_params
    return {name: query.getlist(name)[0] for name in query.keys()}


# -- WebSocket ----------------------------------------------------------------------------------

async def _deny(websocket: WebSocket, error: StreamError) -> None:
    response = json_response({"error": error.message}, status_code=error.status)
    try:
        await websocket.send_denial_response(response)
    except RuntimeError:  # a server without the denial-response extension: it answers 403
        await websocket.close(code=1008, reason=error.message)


async def _apply(session: StreamSession, kind: str, name, params: dict) -> None:
    try:
        if kind == "subscribe":
            await session.subscribe(name, params)
        else:
            await session.unsubscribe(name, params)
    except StreamError as error:
        # A failed unsubscribe says only that, as Mastodon's streaming server.
        session.notify(error if kind == "subscribe" else StreamError(UNSUBSCRIBE_FAILED, None))
    except Exception:  # noqa: BLE001 - a defect here must not take the whole socket down
        # Mastodon answers an unexpected failure with an error frame and keeps the socket.
        log.exception("streaming: %s of %r failed", kind, name)
        session.notify(StreamError(UNEXPECTED, 500))


async def _receive(websocket: WebSocket, session: StreamSession) -> None:
    """Read subscribe/unsubscribe messages until the client goes away."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        raw = message.get("text")
        if raw is None:
            session.end(BINARY)  # closed with 1003, as Mastodon's streaming server does
            return
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict) or data.get("type") not in ("subscribe", "unsubscribe"):
            # Ignored, as Mastodon ignores them: an error frame here would end every subscription
            # of a client library that treats any error frame as fatal (masto.js), for a keep-alive.
            log.debug("streaming: ignored a message that is neither subscribe nor unsubscribe")
            continue
        params = {k: v for k, v in data.items() if k not in ("type", "stream")}
        await _apply(session, data["type"], data.get("stream"), params)


async def _send(websocket: WebSocket, session: StreamSession) -> None:
    while True:
        item = await session.next()
        await websocket.send_text(item.frame())


def socket(default_stream: str | None = None):
    async def endpoint(websocket: WebSocket) -> None:
        token, protocol = _credentials(websocket)
        try:
            owner = await streaming.authenticate(token)
        except StreamError as error:
            return await _deny(websocket, error)
        await websocket.accept(subprotocol=protocol)
        session = StreamSession(owner)
        tasks: list[asyncio.Task] = []
        try:
            await session.open()
            query = _first_values(websocket)
            name = query.get("stream") or default_stream
            if name:
                await _apply(session, "subscribe", name, query)
            tasks = [asyncio.create_task(coro) for coro in (
                _receive(websocket, session), _send(websocket, session),
                session.watch_token(), session.ended.wait())]
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not task.cancelled() and task.exception() is not None \
                        and not isinstance(task.exception(), (WebSocketDisconnect, OSError)):
                    log.error("streaming connection failed", exc_info=task.exception())
                    session.end("failed")  # keeps an earlier reason (too slow, revoked)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await session.close()
        if session.end_reason == "failed":  # a defect of ours: say so (1011) rather than drop the line
            with contextlib.suppress(Exception):
                await websocket.close(code=1011, reason=UNEXPECTED)
        elif session.end_reason not in ("", "closed"):
            code = {BINARY: 1003}.get(session.end_reason, 1013 if session.end_reason.startswith("Too slow") else 1008)
            with contextlib.suppress(Exception):
                await websocket.close(code=code, reason=session.end_reason)

    return endpoint


# -- server-sent events -------------------------------------------------------------------------

class EventStream(Response):
    """text/event-stream of one stream, ending when the client disconnects (listened for, so a
    closed connection is noticed at once rather than at the next heartbeat write)."""

    def __init__(self, session: StreamSession):
        super().__init__(status_code=200, media_type="text/event-stream")
        self.session = session

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/event-stream"), (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no")]})

        async def write(text: str) -> None:
            await send({"type": "http.response.body", "body": text.encode(), "more_body": True})

        async def pump() -> None:
            await write(":)\n")
            while True:
                item = await self.session.next(timeout=HEARTBEAT_SECONDS)
                await write(":thump\n" if item is None else item.sse())

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        tasks = [asyncio.create_task(c) for c in (pump(), disconnected(), self.session.watch_token(),
                                                  self.session.ended.wait())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not task.cancelled() and task.exception() is not None and not isinstance(task.exception(), OSError):
                    log.error("event stream failed", exc_info=task.exception())
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.session.close()
        with contextlib.suppress(Exception):
            await send({"type": "http.response.body", "body": b"", "more_body": False})


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return _first_values(request).get("access_token") or None


def server_sent(name: str):
    async def endpoint(request: Request) -> Response:
        stream, query = name, _first_values(request)
        if name.startswith("public") and query.get("only_media", "").lower() in TRUE_VALUES:
            stream += ":media"
        session = None
        try:
            owner = await streaming.authenticate(_bearer(request))
            session = StreamSession(owner)
            await session.open()
            await session.subscribe(stream, query)
        except BaseException as error:
            if session is not None:  # its token's kill channel is already listened to
                await session.close()
            if isinstance(error, StreamError):
                return json_response({"error": error.message}, status_code=error.status)
            raise
        return EventStream(session)

    return endpoint


async def health(request: Request) -> Response:
    return PlainTextResponse("OK")


async def unknown_channel(request: Request) -> Response:
    """Any other path of the streaming API, over plain HTTP: Mastodon's streaming server
    answers 400 whatever the token (and so does the bare path, which only a WebSocket opens)."""
    return json_response({"error": "Unknown channel requested"}, status_code=400)


SSE_PATHS = {
    "user": "user",
    "user/notification": "user:notification",
    "public": "public",
    "public/local": "public:local",
    "public/remote": "public:remote",
    "hashtag": "hashtag",
    "hashtag/local": "hashtag:local",
    "list": "list",
    "direct": "direct",
}

routes = [
    Route("/api/v1/streaming/health", health, methods=["GET", "HEAD"]),
    WebSocketRoute("/api/v1/streaming", socket()),
    *[Route(f"/api/v1/streaming/{path}", server_sent(name), methods=["GET"]) for path, name in SSE_PATHS.items()],
    # Older clients open the WebSocket on the event-stream paths: the path names the stream.
    *[WebSocketRoute(f"/api/v1/streaming/{path}", socket(name)) for path, name in SSE_PATHS.items()],
    Route("/api/v1/streaming", unknown_channel, methods=["GET"]),
    Route("/api/v1/streaming/{rest:path}", unknown_channel, methods=["GET"]),
]
