"""Link preview cards: a post's first link gets a card once the worker has fetched the page
(from a made-up internet, tests/support/fake_web.py); what is never fetched; bad pages that
leave no card; edits; the address rules of the outgoing client (federation/http.py)."""
from __future__ import annotations

import asyncio
import dataclasses

import httpx
import pytest
from sqlalchemy import update

from app import db
from app.config import configure
from app.models import PreviewCard, StatusPreviewCard
from app.models.base import utcnow
from federation.http import FederationClient, Refused, Unreachable, system_resolver
from tests.support.fake_web import fake_web
from tests.support.openapi import assert_matches_spec
from tests.support.polling import eventually, settled
from tests.support.world import bearer, count, make_user, post_status, token_for

STORY = "https://news.example/2024/story?id=7"


@pytest.fixture
def web(settings):
    with fake_web(settings) as web:
        yield web


@pytest.fixture
async def alice(client):
    account, _ = await make_user("alice")
    return bearer(await token_for(account))


async def posted(client, headers, text: str, **data) -> dict:
    response = await post_status(client, headers, status=text, **data)
    assert response.status_code == 200, response.text
    return response.json()


async def card_of(client, headers, status_id: str) -> dict | None:
    response = await client.get(f"/api/v1/statuses/{status_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["card"]


async def eventual_card(client, headers, status_id: str) -> dict:
    return await eventually(lambda: card_of(client, headers, status_id), until=lambda card: card is not None)


async def test_a_post_with_a_link_gets_its_card(client, web, alice):
    web.page(STORY, "Cats rule", description="  All about   cats. ", image="/img/cat.jpg", site="News Example")
    status = await posted(client, alice, f"Read this: {STORY} (via @nobody #cats)")

    card = await eventual_card(client, alice, status["id"])
    assert card["url"] == STORY
    assert card["title"] == "Cats rule" and card["description"] == "All about cats."
    assert card["type"] == "link" and card["provider_name"] == "News Example"
    assert card["image"] == "https://news.example/img/cat.jpg"  # relative to the page
    assert card["language"] == "en" and card["html"] == "" and card["authors"] == []
    response = await client.get(f"/api/v1/statuses/{status['id']}", headers=alice)
    assert_matches_spec(response, "GET", "/api/v1/statuses/{id}")
    timeline = await client.get("/api/v1/timelines/home", headers=alice)
    assert timeline.json()[0]["card"]["title"] == "Cats rule"
    assert_matches_spec(timeline, "GET", "/api/v1/timelines/home")

    # Another post of the same link shares the stored card: the page is fetched once.
    again = await posted(client, alice, f"still {STORY}")
    assert (await eventual_card(client, alice, again["id"]))["title"] == "Cats rule"
    assert web.requested(STORY) == 1 and await count(PreviewCard) == 1

    # A boost shows the original's card inside `reblog`.
    boost = (await client.post(f"/api/v1/statuses/{status['id']}/reblog", headers=alice)).json()
    assert boost["card"] is None and boost["reblog"]["card"]["url"] == STORY


async def test_card_metadata_sources(client, web, alice):
    web.html("https://video.example/watch", (
        '<html lang="de-AT"><head><title>\n  Fallback title\n</title>'
        '<meta name="description" content="plain description">'
        '<meta name="author" content="Ann Author">'
        '<meta name="twitter:player" content="https://video.example/embed/1">'
        '<meta name="twitter:player:width" content="640"><meta name="twitter:player:height" content="360">'
        '<meta property="article:published_time" content="2024-05-01T10:00:00Z"></head></html>'))
    status = await posted(client, alice, "https://video.example/watch")
    card = await eventual_card(client, alice, status["id"])
    assert card["title"] == "Fallback title" and card["description"] == "plain description"
    assert card["type"] == "video" and (card["width"], card["height"]) == (640, 360)
    assert card["html"].startswith('<iframe src="https://video.example/embed/1"')
    assert card["authors"] == [{"name": "Ann Author", "url": "", "account": None}]
    assert card["language"] == "de" and card["published_at"] == "2024-05-01T10:00:00.000Z"
    response = await client.get(f"/api/v1/statuses/{status['id']}", headers=alice)
    assert_matches_spec(response, "GET", "/api/v1/statuses/{id}")


async def test_which_links_are_fetched(client, web, alice, settings):
    web.page(STORY, "A story")
    other = "https://other.example/page"
    web.page(other, "Other page")
    # Direct messages never fetch (the site would learn the link was shared privately).
    dm = await posted(client, alice, f"psst {STORY}", visibility="direct")
    # Mentions, hashtags and links to this instance are not "the link"; the next one is.
    first = await posted(client, alice, f"#news by @alice {settings.base_url}/about then {other} and {STORY}")
    followers = await posted(client, alice, f"for followers {STORY}", visibility="private")
    no_link = await posted(client, alice, "nothing to see #here")

    assert (await eventual_card(client, alice, first["id"]))["url"] == other
    assert (await eventual_card(client, alice, followers["id"]))["title"] == "A story"
    await settled()
    assert await card_of(client, alice, dm["id"]) is None
    assert await card_of(client, alice, no_link["id"]) is None
    assert web.requested(STORY) == 1  # for the followers-only post, never for the direct one


async def test_bad_pages_leave_no_card(client, web, alice):
    def timeout(request):
        raise httpx.ReadTimeout("too slow", request=request)

    def refused(request):
        raise httpx.ConnectError("connection refused", request=request)

    def redirect_to(target):
        return lambda request: httpx.Response(302, headers={"location": target})

    huge = b"<html><head><title>big</title></head><body>" + b"x" * (1024 * 1024 + 10) + b"</body></html>"
    bad = {
        "https://a.example/image": lambda r: httpx.Response(200, content=b"\x89PNG...", headers={"content-type": "image/png"}),
        "https://a.example/json": lambda r: httpx.Response(200, json={"title": "no"}),
        "https://a.example/huge": lambda r: httpx.Response(200, content=huge, headers={"content-type": "text/html"}),
        "https://a.example/slow": timeout,
        "https://a.example/down": refused,
        "https://a.example/missing": lambda r: httpx.Response(404, text="<title>Not found</title>"),
        "https://a.example/error": lambda r: httpx.Response(500, text="<title>Oops</title>"),
        "https://a.example/bare": lambda r: httpx.Response(200, text="<html><body><p>hello</p></body></html>",
                                                           headers={"content-type": "text/html"}),
        "https://a.example/garbage": lambda r: httpx.Response(200, content=bytes(range(256)) * 50,
                                                              headers={"content-type": "text/html"}),
        "https://a.example/to-loopback": redirect_to("http://127.0.0.1:8080/admin"),
        "https://a.example/to-ftp": redirect_to("ftp://a.example/file"),
        "https://a.example/loop": redirect_to("https://a.example/loop"),
    }
    for url, handler in bad.items():
        web.route(url, handler)
    never_fetched = ["http://127.0.0.1:8080/admin", "http://[::1]/x", "http://localhost:3000/",
                     "http://10.0.0.7/internal", "http://169.254.169.254/latest/meta-data",
                     "https://user:secret@a.example/private"]
    statuses = [await posted(client, alice, f"look {url}") for url in [*bad, *never_fetched]]
    await settled()

    for status, url in zip(statuses, [*bad, *never_fetched]):
        assert await card_of(client, alice, status["id"]) is None, url
    assert await count(PreviewCard) == 0 and await count(StatusPreviewCard) == 0
    assert not any(web.requested(url) for url in never_fetched)
    assert web.requested("http://127.0.0.1:8080/admin") == 0  # not even through the redirect
    assert web.requested("https://a.example/loop") == 4  # the first request and three redirects


async def test_malformed_html_still_gives_what_it_can(client, web, alice):
    web.html("https://b.example/broken", (
        '<html><head><meta property="og:title" content="Half &amp; half\x00 <b>bold</b>">'
        '<meta property="og:image" content="javascript:alert(1)"><meta property=og:description content=unquoted>'
        '<title>unclosed <![if !IE]> <div <<<>>> </p></span><!-- never closed'))
    web.html("https://b.example/latin1", '<meta charset="iso-8859-1"><title>Caf\xe9</title>'.encode("latin-1"),
             content_type="text/html")
    broken = await posted(client, alice, "https://b.example/broken")
    latin = await posted(client, alice, "https://b.example/latin1")
    card = await eventual_card(client, alice, broken["id"])
    assert card["title"] == "Half & half <b>bold</b>"  # text, never markup: clients escape it
    assert card["description"] == "unquoted" and card["image"] is None
    assert (await eventual_card(client, alice, latin["id"]))["title"] == "Café"


async def test_edits_change_the_card(client, web, alice):
    web.page(STORY, "First story")
    web.page("https://news.example/second", "Second story")
    status = await posted(client, alice, f"see {STORY}")
    assert (await eventual_card(client, alice, status["id"]))["title"] == "First story"

    edited = await client.put(f"/api/v1/statuses/{status['id']}", headers=alice,
                              json={"status": "actually https://news.example/second"})
    assert edited.status_code == 200, edited.text
    # The old card went with its link; the worker may already have fetched the new one.
    assert (edited.json()["card"] or {}).get("title") in (None, "Second story")
    assert (await eventual_card(client, alice, status["id"]))["title"] == "Second story"

    same = await client.put(f"/api/v1/statuses/{status['id']}", headers=alice,
                            json={"status": "still https://news.example/second !"})
    assert same.json()["card"]["title"] == "Second story"  # the same first link keeps its card
    gone = await client.put(f"/api/v1/statuses/{status['id']}", headers=alice, json={"status": "no links now"})
    assert gone.json()["card"] is None
    await settled()
    assert await card_of(client, alice, status["id"]) is None
    assert web.requested("https://news.example/second") == 1


async def test_stale_cards_are_fetched_again_and_kept_on_failure(client, web, alice):
    web.page(STORY, "Old title")
    first = await posted(client, alice, STORY)
    await eventual_card(client, alice, first["id"])
    async with db.session() as session:
        await session.execute(update(PreviewCard).values(fetched_at=utcnow().replace(year=2000)))
    web.page(STORY, "New title")
    second = await posted(client, alice, f"again {STORY}")
    assert (await eventual_card(client, alice, second["id"]))["title"] == "New title"
    assert (await card_of(client, alice, first["id"]))["title"] == "New title"  # one card per URL

    async with db.session() as session:
        await session.execute(update(PreviewCard).values(fetched_at=utcnow().replace(year=2000)))
    web.route(STORY, lambda request: httpx.Response(503))
    third = await posted(client, alice, f"once more {STORY}")
    assert (await eventual_card(client, alice, third["id"]))["title"] == "New title"  # the stored card
    assert await count(PreviewCard) == 1


async def test_private_addresses_when_allowed(client, alice, settings):
    with fake_web(settings) as web:
        configure(dataclasses.replace(settings, http_transport=httpx.MockTransport(web.handle),
                                      allow_private_addresses=True))
        web.page("http://10.1.2.3/wiki", "Intranet wiki")
        status = await posted(client, alice, "http://10.1.2.3/wiki")
        assert (await eventual_card(client, alice, status["id"]))["title"] == "Intranet wiki"
        await settled()


# -- the address rules, without the app (federation/http.py, the one outgoing client) ---------------

def destination_check(url: str, *, allow_private: bool = False, resolve_host=None) -> None:
    client = FederationClient("test", allow_private=allow_private, resolve_host=resolve_host)
    asyncio.run(client.check_destination(url))


@pytest.mark.parametrize("url", [
    "ftp://example.org/", "file:///etc/passwd", "https://user:pw@example.org/", "http://127.0.0.1/",
    "http://127.1.2.3:8080/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://10.0.0.1/",
    "http://192.168.1.1/", "http://172.16.0.1/", "http://169.254.169.254/", "http://100.64.0.1/",
    "http://0.0.0.0/", "http://224.0.0.1/", "http://[fe80::1]/", "http://[fc00::1]/", "http://localhost/",
    "http://api.localhost/", "http://localhost./", "http://[::1/",
    # IPv6 forms that carry a private IPv4 address, and the deprecated site-local range
    "http://[64:ff9b::a00:1]/", "http://[2002:7f00:1::]/", "http://[::7f00:1]/", "http://[fec0::1]/",
])
def test_refused_urls(url):
    with pytest.raises(Refused):
        destination_check(url)


@pytest.mark.parametrize("url", ["https://example.org/a", "http://93.184.216.34/", "http://[2606:4700::1]/"])
def test_accepted_urls(url):
    destination_check(url)


def test_allowing_private_addresses_keeps_the_other_rules():
    destination_check("http://127.0.0.1/", allow_private=True)
    with pytest.raises(Refused):
        destination_check("https://user:pw@127.0.0.1/", allow_private=True)


def test_names_resolving_to_private_addresses_are_refused():
    async def private(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.7"]  # one private address among public ones is enough

    with pytest.raises(Refused):
        destination_check("https://intranet.example/", resolve_host=private)

    async def idna_split(host: str, port: int) -> list[str]:
        # IDNA 2003 and 2008 spell faß differently; the check must ask for the name httpx connects to.
        return {"fass.evil.example": ["93.184.216.34"], "xn--fa-hia.evil.example": ["127.0.0.1"]}[host]

    with pytest.raises(Refused):
        destination_check("http://faß.evil.example/", resolve_host=idna_split)
    with pytest.raises(Unreachable):  # the machine's own DNS, which knows no such name
        destination_check("http://no-such-host.invalid/", resolve_host=system_resolver)
