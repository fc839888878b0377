"""Work a request need not answer after: it runs once the response's body has gone out.

    await after_response.soon(callback)   # in an HTTP request: once its answer is sent;
                                          # anywhere else (workers, commands): now

For what the client's answer does not depend on and whose loss is covered otherwise: enqueueing
a commit's outbox jobs (the worker's sweeper enqueues rows that never were: app/jobs.py) and
filling the render cache. Every Redis round trip taken off a request counts most when Redis is
busy (a big fan-out's scripts queue ahead of each one: docs/decisions.md, "Work after the answer").

The callbacks run, in order and in a task of their own, once the first body message was handed
to the server (a plain response's whole body; a stream's first event), so they delay no answer
(but an unhandled error's 500, which Starlette sends from outside this middleware); the request
awaits them, so the test client, which waits for the app to return, still sees their effects,
and a stream whose client left (its sending task cancelled) does not cut them short. Anything
asked for once they started (a stream's later work, a task the request left behind) runs at once.
"""
from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from typing import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("starling.after_response")

Callback = Callable[[], Awaitable[object]]


class _Pending:
    def __init__(self) -> None:
        self.callbacks: list[Callback] = []
        self.closed = False
        self.task: asyncio.Task | None = None

    async def run(self) -> None:
        """Start the callbacks once (whoever calls first) and wait for them; a caller that is
        cancelled stops waiting, the callbacks go on. Most requests leave none: no task then."""
        if not self.closed:
            self.closed = True
            if self.callbacks:
                self.task = asyncio.ensure_future(self._run_all())
        if self.task is not None:
            await asyncio.shield(self.task)

    async def _run_all(self) -> None:
        for callback in self.callbacks:
            try:
                await callback()
            except Exception:  # the answer is out: nobody to tell but the log
                log.exception("work after the response failed")


_pending: ContextVar[_Pending | None] = ContextVar("after_response", default=None)


async def soon(callback: Callback) -> None:
    """Run `callback` once this request's answer is out, or now outside a request."""
    pending = _pending.get()
    if pending is None or pending.closed:
        await callback()
    else:
        pending.callbacks.append(callback)


class AfterResponse:
    """The ASGI middleware that runs what requests left for after their answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pending = _Pending()
        token = _pending.set(pending)

        async def sending(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not pending.closed:
                await pending.run()

        try:
            await self.app(scope, receive, sending)
        finally:
            _pending.reset(token)
            await pending.run()  # an app that failed or answered nothing: committed work still goes
