"""A few web pages on a made-up internet, for code that fetches links (preview cards).

    with fake_web(settings) as web:
        web.page("https://news.example/story", title="A story")     # an HTML page with og: tags
        web.route("https://slow.example/", lambda request: ...)      # any answer, or raise
        ...
        web.requested("https://news.example/story")                 # how often it was fetched

It is an httpx.MockTransport installed as `settings.http_transport`, which the app and the
in-process workers read; the original settings come back at the end. Unknown URLs are 404s.
"""
from __future__ import annotations

import dataclasses
import html
from collections import Counter
from contextlib import contextmanager
from typing import Callable, Iterator

import httpx

from app.config import Settings, configure

Handler = Callable[[httpx.Request], httpx.Response]


def og_page(title: str, description: str = "", image: str | None = None, site: str = "",
            extra: str = "") -> str:
    tags = [f'<meta property="og:title" content="{html.escape(title)}">']
    if description:
        tags.append(f'<meta property="og:description" content="{html.escape(description)}">')
    if image:
        tags.append(f'<meta property="og:image" content="{html.escape(image)}">')
    if site:
        tags.append(f'<meta property="og:site_name" content="{html.escape(site)}">')
    return (f"<!doctype html><html lang=\"en\"><head><title>ignored</title>{''.join(tags)}{extra}</head>"
            f"<body><p>{html.escape(title)}</p></body></html>")


class FakeWeb:
    def __init__(self):
        self.routes: dict[str, Handler] = {}
        self.hits: Counter[str] = Counter()

    def route(self, url: str, handler: Handler) -> None:
        self.routes[url] = handler

    def html(self, url: str, body: str | bytes, content_type: str = "text/html; charset=utf-8") -> None:
        self.route(url, lambda request: httpx.Response(200, content=body, headers={"content-type": content_type}))

    def page(self, url: str, title: str, **meta) -> None:
        self.html(url, og_page(title, **meta))

    def requested(self, url: str) -> int:
        return self.hits[url]

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.hits[url] += 1
        handler = self.routes.get(url)
        return handler(request) if handler else httpx.Response(404, text="not found")


@contextmanager
def fake_web(settings: Settings) -> Iterator[FakeWeb]:
    web = FakeWeb()
    configure(dataclasses.replace(settings, http_transport=httpx.MockTransport(web.handle)))
    try:
        yield web
    finally:
        configure(settings)
