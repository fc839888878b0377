"""Cross-cutting behaviour of every endpoint: rate limits, CORS, body limits, slashes, pagination."""
from __future__ import annotations

import asyncio
import dataclasses

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from app import redis as app_redis
from app.services import rate_limits
from app.api.pagination import Page
from app.api.params import read_params
from app.api.responses import json_response
from app.errors import ApiError
from app.main import create_app
from app.middleware import stack


async def echo(request: Request):
    params = await read_params(request)
    return json_response({"path": request.url.path, "params": params})


async def paged(request: Request):
    page = Page.from_params(await read_params(request))
    ids = [i for i in range(100, 0, -1)]
    if page.max_id:
        ids = [i for i in ids if i < page.max_id]
    if page.since_id:
        ids = [i for i in ids if i > page.since_id]
    if page.min_id:
        ids = sorted(i for i in ids if i > page.min_id)[: page.limit][::-1]
    ids = ids[: page.limit]
    return json_response(ids, headers=page.link_header(request, ids))


def tiny_app(settings, **overrides) -> Starlette:
    settings = dataclasses.replace(settings, **overrides)
    return Starlette(
        routes=[Route("/api/v1/echo", echo, methods=["GET", "POST"]), Route("/api/v1/paged", paged)],
        middleware=stack(settings),
        exception_handlers={ApiError: lambda request, exc: json_response(exc.body(), exc.status_code)},
    )


def client_for(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("10.1.2.3", 1)), base_url="http://test")


async def test_rate_limit_headers_and_429_after_the_budget(settings):
    app = tiny_app(settings, rate_limits=True, rate_limit_api=3, rate_limit_api_window=300)
    async with client_for(app) as c:
        seen = [await c.get("/api/v1/echo") for _ in range(4)]
    assert [r.status_code for r in seen] == [200, 200, 200, 429]
    assert seen[0].headers["x-ratelimit-limit"] == "3"
    assert [r.headers["x-ratelimit-remaining"] for r in seen] == ["2", "1", "0", "0"]
    assert seen[0].headers["x-ratelimit-reset"].endswith("Z")
    assert seen[3].json() == {"error": "Too many requests"}


async def test_far_from_its_limit_the_api_budget_is_counted_after_the_answer(settings):
    """Far from the limit an answer waits for no count (here Redis is unreachable while it is
    given: it still goes out, and the count is lost, which only errs on the client's side).
    Near the limit the count is taken first and the limit holds, however much other processes
    spent meanwhile: what slips past is the one request sent before this process heard it."""
    app = tiny_app(settings, rate_limits=True, rate_limit_api=10, rate_limit_api_window=300)
    redis, here, feeds_here = app_redis.client(), app_redis.url(), app_redis._feeds_url
    token = {"Authorization": "Bearer far"}
    async with client_for(app) as c:
        first = await c.get("/api/v1/echo", headers=token)
        [key] = await redis.keys("ratelimit:api:token:*")
        assert int(await redis.get(key)) == 1 and first.headers["x-ratelimit-remaining"] == "9"
        app_redis.connect("redis://127.0.0.1:1/0")  # nothing listens there
        try:
            unreachable = await c.get("/api/v1/echo", headers=token)
        finally:
            app_redis.connect(here, feeds_here)
        assert unreachable.status_code == 200 and unreachable.headers["x-ratelimit-remaining"] == "8"

        await redis.set(key, 8, keepttl=True)  # other processes' requests
        slipped = await c.get("/api/v1/echo", headers=token)  # this process knew of 2: far
        near = await c.get("/api/v1/echo", headers=token)  # it heard 9 from the last count: counted first
        refused = await c.get("/api/v1/echo", headers=token)
    assert (slipped.status_code, near.status_code, refused.status_code) == (200, 200, 429)
    assert near.headers["x-ratelimit-remaining"] == "0" and int(await redis.get(key)) == 11


async def test_a_burst_far_from_the_limit_lets_only_a_few_more_through(settings):
    """Requests counted after their answers are few at a time (rate_limits.UNCOUNTED_MAX): a burst
    of twice the budget at once gets no more than that many past the limit, and every request
    is counted in the end."""
    app = tiny_app(settings, rate_limits=True, rate_limit_api=10, rate_limit_api_window=300)
    async with client_for(app) as c:
        burst = await asyncio.gather(*(c.get("/api/v1/echo", headers={"Authorization": "Bearer burst"})
                                       for _ in range(20)))
    let_through = sum(r.status_code == 200 for r in burst)
    assert 10 <= let_through <= 10 + rate_limits.UNCOUNTED_MAX
    assert {r.status_code for r in burst} == {200, 429}
    [key] = await app_redis.client().keys("ratelimit:api:token:*")
    assert int(await app_redis.client().get(key)) == 20


async def test_rate_limits_count_per_token_not_per_ip(settings):
    app = tiny_app(settings, rate_limits=True, rate_limit_api=1)
    async with client_for(app) as c:
        first = await c.get("/api/v1/echo", headers={"Authorization": "Bearer one"})
        second = await c.get("/api/v1/echo", headers={"Authorization": "Bearer two"})
        again = await c.get("/api/v1/echo", headers={"Authorization": "Bearer one"})
    assert (first.status_code, second.status_code, again.status_code) == (200, 200, 429)


async def test_sign_up_has_a_much_tighter_budget_than_the_api(settings):
    app = create_app(dataclasses.replace(settings, rate_limits=True, rate_limit_sensitive=2))
    async with client_for(app) as c:
        codes = [(await c.post("/api/v1/accounts", data={"username": "x"})).status_code for _ in range(3)]
        other = await c.get("/api/v1/nothing")
    assert codes[-1] == 429 and 429 not in codes[:2]
    assert other.status_code == 404  # the general budget is untouched


async def test_rate_limits_can_be_switched_off(settings):
    app = tiny_app(settings, rate_limits=False, rate_limit_api=1)
    async with client_for(app) as c:
        codes = [(await c.get("/api/v1/echo")).status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    assert "x-ratelimit-limit" not in (await client_for(app).get("/api/v1/echo")).headers


async def test_cors_preflight_and_exposed_headers(settings):
    async with client_for(tiny_app(settings)) as c:
        preflight = await c.options("/api/v1/echo", headers={
            "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        simple = await c.get("/api/v1/echo", headers={"Origin": "https://app.example"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert simple.headers["access-control-allow-origin"] == "*"
    assert "Link" in simple.headers["access-control-expose-headers"]


async def test_oversized_bodies_are_refused_before_reading(settings):
    async with client_for(tiny_app(settings, max_body_bytes=1024)) as c:
        declared = await c.post("/api/v1/echo", content=b"x" * 2048, headers={"content-type": "text/plain"})

        async def stream():
            for _ in range(4):
                yield b"y" * 512

        streamed = await c.post("/api/v1/echo", content=stream(), headers={"content-type": "application/json"})
        small = await c.post("/api/v1/echo", json={"a": "b"})
    assert declared.status_code == 413 and "larger than the limit" in declared.json()["error"]
    assert streamed.status_code == 413
    assert small.status_code == 200


async def test_trailing_slash_reaches_the_same_endpoint_without_a_redirect(settings):
    async with client_for(tiny_app(settings)) as c:
        response = await c.post("/api/v1/echo/", data={"a": "1"})
    assert response.status_code == 200
    assert response.json() == {"path": "/api/v1/echo", "params": {"a": "1"}}


async def test_json_and_form_bodies_read_the_same(settings):
    async with client_for(tiny_app(settings)) as c:
        form = await c.post("/api/v1/echo", data={"scopes[]": ["read", "write"], "fields_attributes[0][name]": "n"})
        body = await c.post("/api/v1/echo", json={"scopes": ["read", "write"], "fields_attributes": {"0": {"name": "n"}}})
        broken = await c.post("/api/v1/echo", content=b"{not json", headers={"content-type": "application/json"})
    assert form.json()["params"] == body.json()["params"]
    assert broken.status_code == 400 and "Invalid JSON" in broken.json()["error"]


async def test_pagination_link_header_walks_without_skips_or_repeats(settings):
    seen: list[int] = []
    async with client_for(tiny_app(settings)) as c:
        url = "/api/v1/paged?limit=30"
        while url:
            response = await c.get(url)
            ids = response.json()
            seen += ids
            next_link = response.links.get("next", {}).get("url")
            url = next_link if ids else None
        newer = await c.get("/api/v1/paged?min_id=90&limit=5")
    assert seen == list(range(100, 0, -1))
    assert newer.json() == [95, 94, 93, 92, 91]
    assert 'rel="prev"' in newer.headers["link"]


async def test_malformed_pagination_is_a_clear_422(settings):
    async with client_for(tiny_app(settings)) as c:
        bad_id = await c.get("/api/v1/paged?max_id=abc")
        bad_limit = await c.get("/api/v1/paged?limit=-4")
        big_limit = await c.get("/api/v1/paged?limit=100000")
    assert bad_id.status_code == 422 and "max_id" in bad_id.json()["error"]
    assert bad_limit.status_code == 422
    assert len(big_limit.json()) == 40  # clamped to the maximum, as Mastodon does
