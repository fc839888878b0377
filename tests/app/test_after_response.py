"""Work left for after the answer: the client has its response before that work runs, the work
still runs (even when the handler failed), and outside a request it runs at once."""
from __future__ import annotations

import asyncio
import logging

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from app import after_response


def _app(done: list[str], release: asyncio.Event, *, fail: bool = False):
    async def slow_work() -> None:
        await release.wait()
        done.append("work")

    async def broken_work() -> None:
        raise RuntimeError("the broker is gone")

    async def endpoint(request):
        await after_response.soon(broken_work)
        await after_response.soon(slow_work)
        if fail:
            raise ValueError("handler failed after committing")
        return JSONResponse({"ok": True})

    return after_response.AfterResponse(Starlette(routes=[Route("/", endpoint)]))


def _scope() -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"", "headers": [],
            "server": ("testserver", 80), "client": ("127.0.0.1", 1234), "root_path": ""}


async def test_the_answer_is_sent_before_the_work_left_for_after_it(caplog):
    done: list[str] = []
    release = asyncio.Event()
    sent: list[dict] = []
    body_sent = asyncio.Event()

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)
        if message["type"] == "http.response.body":
            body_sent.set()

    with caplog.at_level(logging.ERROR, logger="starling.after_response"):
        call = asyncio.create_task(_app(done, release)(_scope(), receive, send))
        await asyncio.wait_for(body_sent.wait(), 5)
        # The client has the whole answer while the work is still waiting.
        assert sent[0]["status"] == 200 and sent[-1]["body"] == b'{"ok":true}'
        assert done == [] and not call.done()
        release.set()
        await asyncio.wait_for(call, 5)
    assert done == ["work"]
    # A failing piece of work is logged and does not keep the next from running.
    assert any("work after the response failed" in r.getMessage() for r in caplog.records)


async def test_work_left_by_a_failing_handler_still_runs():
    done: list[str] = []
    release = asyncio.Event()
    release.set()
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    app = _app(done, release, fail=True)
    try:
        await app(_scope(), receive, send)
    except ValueError:
        pass
    assert done == ["work"]


async def test_outside_a_request_the_work_runs_at_once():
    done: list[str] = []

    async def work() -> None:
        done.append("now")

    await after_response.soon(work)
    assert done == ["now"]


async def test_a_stream_whose_sender_is_cancelled_does_not_cut_the_work_short():
    """An event stream sends from a task of its own, cancelled when the client leaves: the
    work it set going once the first event was out still finishes."""
    done: list[str] = []
    release = asyncio.Event()
    first_event_out = asyncio.Event()

    async def slow_work() -> None:
        await release.wait()
        done.append("work")

    async def streaming_app(scope, receive, send):
        await after_response.soon(slow_work)

        async def pump() -> None:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            first_event_out.set()
            await send({"type": "http.response.body", "body": b":)\n", "more_body": True})
            await asyncio.sleep(3600)

        sender = asyncio.create_task(pump())
        await first_event_out.wait()
        await asyncio.sleep(0.01)  # the sender is now waiting on the work
        sender.cancel()  # the client went away
        await asyncio.gather(sender, return_exceptions=True)
        release.set()

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        pass

    await asyncio.wait_for(after_response.AfterResponse(streaming_app)(_scope(), receive, send), 5)
    assert done == ["work"]
