"""GET /api/v2/search?resolve=true against a remote Mastodon (an httpx.MockTransport in
authorized-fetch mode): accounts by address, posts by URL, the instance actor that signs the
fetches, and every way a remote server or a query can go wrong -- never a 500, never a
half-written row."""
from __future__ import annotations

import asyncio
import dataclasses
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import select

from activitypub.actors import parse_actor
from app import db
from app.models import Account, Follow, Mention, Status
from app.models.base import utcnow
from app.services.search import resolve as search_resolve
from federation.resolver import build_resolver
from tests.federation.remote import BASE, HOST, RemoteMastodon
from tests.support.openapi import assert_matches_spec
from tests.support.world import bearer, count, make_user, post_status, token_for

# Seconds one remote exchange may take in these tests: the slow case waits this long, and the
# rest must fit in it on a loaded 2-core CI machine (0.5 s once did not).
TIMEOUT = 2.0


@contextmanager
def installed(server: RemoteMastodon, settings):
    """`server` as the network search resolving uses, for the duration of the block."""
    resolver = build_resolver(settings, transport=httpx.MockTransport(server.handle), resolve_host=server.dns,
                              total_timeout=TIMEOUT)
    previous = search_resolve.install(resolver)
    try:
        yield server
    finally:
        search_resolve.install(previous)


@pytest.fixture
async def remote(client, settings):
    assert (await client.get("/actor")).status_code == 200  # the instance actor exists before counting rows
    with installed(RemoteMastodon(client), settings) as server:
        yield server


@pytest.fixture
async def searcher():
    account, _ = await make_user("searcher")
    return account, bearer(await token_for(account))


async def search(client, headers, q: str, **params) -> dict:
    response = await client.get("/api/v2/search", params={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", "/api/v2/search")
    return response.json()


async def rows() -> tuple[int, int]:
    return await count(Account), await count(Status)


# -- the instance actor ---------------------------------------------------------------------

async def test_instance_actor_is_an_application_with_a_key(client, settings):
    response = await client.get("/actor")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/activity+json")
    document = response.json()
    actor = parse_actor(document)  # what a remote server reads
    assert actor.id == f"{settings.base_url}/actor" and actor.type == "Application"
    assert actor.public_key.id == f"{settings.base_url}/actor#main-key"
    assert actor.public_key.owner == actor.id and "BEGIN PUBLIC KEY" in actor.public_key.pem
    assert (await client.get("/actor")).json()["publicKey"] == document["publicKey"]  # one actor, one key

    domain = settings.domain
    finger = await client.get("/.well-known/webfinger", params={"resource": f"acct:{domain}@{domain}"})
    assert finger.status_code == 200
    assert {"rel": "self", "type": "application/activity+json", "href": actor.id} in finger.json()["links"]
    assert (await client.get("/.well-known/webfinger", params={"resource": "acct:nobody@" + domain})).status_code == 404
    assert (await client.get("/.well-known/webfinger")).status_code == 400


async def test_instance_actor_is_never_found_by_search(client, settings, searcher):
    _, headers = searcher
    await client.get("/actor")
    body = await search(client, headers, settings.domain.split(":")[0])
    assert body["accounts"] == []


# -- accounts -------------------------------------------------------------------------------

async def test_resolving_an_address_fetches_the_account(client, remote, searcher, settings):
    _, headers = searcher
    remote.add_actor("alice", name="Alice <b>A.</b>", manuallyApprovesFollowers=True)

    assert (await search(client, headers, "@alice@remote.example"))["accounts"] == []  # not known, not asked
    assert remote.requests == []

    body = await search(client, headers, "@alice@remote.example", resolve="true")
    [alice] = body["accounts"]
    assert alice["acct"] == f"alice@{HOST}" and alice["username"] == "alice"
    assert alice["display_name"] == "Alice A."
    assert alice["note"] == "<p>I am alice</p>"  # sanitised
    assert alice["locked"] is True and alice["url"] == f"{BASE}/@alice" and alice["uri"] == f"{BASE}/users/alice"
    assert alice["avatar"] == f"{BASE}/avatars/alice.png"

    # WebFinger unsigned, the actor fetched with a signature that verified against our /actor key.
    finger, fetched = remote.requests
    assert finger.url.path == "/.well-known/webfinger" and "signature" not in finger.headers
    assert fetched.url == f"{BASE}/users/alice" and "activity+json" in fetched.headers["accept"]
    assert remote.verified_key_ids == [f"{settings.base_url}/actor#main-key"]
    assert fetched.headers["user-agent"].startswith("Starling/")
    assert fetched.headers["user-agent"].endswith(f"(+{settings.base_url}/)")

    async with db.session() as session:
        stored = (await session.exec(select(Account).where(Account.uri == f"{BASE}/users/alice"))).one()
    assert stored.domain == HOST and stored.inbox_url == f"{BASE}/users/alice/inbox"
    assert stored.shared_inbox_url == f"{BASE}/inbox" and stored.followers_url == f"{BASE}/users/alice/followers"
    assert "BEGIN PUBLIC KEY" in stored.public_key_pem and stored.private_key_pem is None

    # Known now: found without resolve, and resolving again within a day asks nobody.
    assert [a["id"] for a in (await search(client, headers, "alice@remote.example"))["accounts"]] == [alice["id"]]
    again = await search(client, headers, "alice@remote.example", resolve="true")
    assert [a["id"] for a in again["accounts"]] == [alice["id"]]
    assert len(remote.requests) == 2


async def test_a_day_old_account_is_fetched_again_and_kept_if_that_fails(client, remote, searcher):
    _, headers = searcher
    remote.add_actor("alice", name="Alice")
    [alice] = (await search(client, headers, "@alice@remote.example", resolve="true"))["accounts"]
    remote.add_actor("alice", name="Alice Renamed")
    await _age(alice["id"])
    [renamed] = (await search(client, headers, "@alice@remote.example", resolve="true"))["accounts"]
    assert (renamed["id"], renamed["display_name"]) == (alice["id"], "Alice Renamed")

    remote.routes["/users/alice"] = lambda request: httpx.Response(503)
    await _age(alice["id"])
    [kept] = (await search(client, headers, "@alice@remote.example", resolve="true"))["accounts"]
    assert (kept["id"], kept["display_name"]) == (alice["id"], "Alice Renamed")


async def _age(account_id: str) -> None:
    async with db.session() as session:
        await session.execute(update(Account).where(Account.id == int(account_id))
                              .values(updated_at=utcnow() - timedelta(days=2)))


async def test_resolved_account_comes_first(client, remote, searcher):
    _, headers = searcher
    remote.add_actor("al")
    remote.add_actor("alice")
    await search(client, headers, "@alice@remote.example", resolve="true")
    body = await search(client, headers, "@al@remote.example", resolve="true")
    assert [a["acct"] for a in body["accounts"]] == [f"al@{HOST}", f"alice@{HOST}"]
    only = await search(client, headers, "@al@remote.example", resolve="true", type="hashtags")
    assert only["accounts"] == []


async def test_account_search_resolves_an_address_too(client, remote, searcher):
    _, headers = searcher
    remote.add_actor("al")
    remote.add_actor("alice")

    async def accounts(q: str, **params) -> list[str]:
        response = await client.get("/api/v1/accounts/search", params={"q": q, **params}, headers=headers)
        assert response.status_code == 200, response.text
        assert_matches_spec(response, "GET", "/api/v1/accounts/search")
        return [a["acct"] for a in response.json()]

    assert await accounts("alice@remote.example") == [] and remote.requests == []  # not asked without resolve
    assert await accounts("alice@remote.example", resolve="true") == [f"alice@{HOST}"]
    assert await accounts("@al@remote.example", resolve="true") == [f"al@{HOST}", f"alice@{HOST}"]
    assert await accounts("@al@remote.example", resolve="true", offset="1") == [f"alice@{HOST}"]
    assert await accounts("nobody@remote.example", resolve="true") == []  # the server knows no such actor
    assert await accounts("@al@remote.example", resolve="true", following="true") == []  # not followed


async def test_resolving_an_actor_url(client, remote, searcher):
    _, headers = searcher
    remote.add_actor("bob")
    body = await search(client, headers, f"{BASE}/users/bob", resolve="true")
    assert [a["acct"] for a in body["accounts"]] == [f"bob@{HOST}"] and body["statuses"] == []
    # The profile page answers with HTML naming the actor document, as Mastodon's does.
    remote.routes["/@bob"] = lambda request: httpx.Response(200, headers={"Content-Type": "text/html"}, text=(
        f'<html><head><link rel="alternate" type="application/activity+json" href="{BASE}/users/bob">'
        "</head><body>Bob</body></html>"))
    await _forget(f"{BASE}/users/bob")
    body = await search(client, headers, f"{BASE}/@bob", resolve="true")
    assert [a["acct"] for a in body["accounts"]] == [f"bob@{HOST}"]


async def _forget(uri: str) -> None:
    async with db.session() as session:
        account = (await session.exec(select(Account).where(Account.uri == uri))).one()
        await session.delete(account)


# -- statuses -------------------------------------------------------------------------------

async def test_resolving_a_post_url_fetches_it_with_its_author(client, remote, searcher):
    _, headers = searcher
    remote.add_actor("alice")
    note = remote.add_note("alice", 110000000000000001)
    body = await search(client, headers, f"{BASE}/@alice/110000000000000001", resolve="true")
    assert body["accounts"] == [] and body["hashtags"] == []  # a URL is answered with what it is, alone
    [status] = body["statuses"]
    assert status["uri"] == note["id"] and status["url"] == note["url"]
    assert status["content"] == "<p>Note 110000000000000001 from alice </p>"  # the <img> is gone
    assert status["visibility"] == "public" and status["created_at"] == "2024-05-01T12:00:00.000Z"
    assert status["account"]["acct"] == f"alice@{HOST}"
    assert [t["name"] for t in status["tags"]] == ["fediverse"]
    # Its id comes from its own time, so paging stays chronological.
    assert int(status["id"]) >> 16 == 1714564800000

    fetched = len(remote.requests)
    again = await search(client, headers, note["id"], resolve="true")
    assert [s["id"] for s in again["statuses"]] == [status["id"]]
    assert len(remote.requests) == fetched  # known by its id now
    shown = await client.get(f"/api/v1/statuses/{status['id']}", headers=headers)
    assert shown.status_code == 200 and shown.json()["account"]["acct"] == f"alice@{HOST}"


async def test_another_servers_webfinger_cannot_name_an_actor(client, remote, searcher):
    """evil.example answers WebFinger for ceo@evil.example with remote.example's alice: the name
    is confirmed by alice's own server, so she is stored as alice@remote.example, never as
    ceo@evil.example (and that name can never be taken from her later)."""
    _, headers = searcher
    remote.add_actor("alice")
    remote.webfinger["acct:ceo@evil.example"] = {"subject": "acct:ceo@evil.example",
                                                 "links": [{"rel": "self", "type": "application/activity+json",
                                                            "href": f"{BASE}/users/alice"}]}
    body = await search(client, headers, "@ceo@evil.example", resolve="true")
    assert [a["acct"] for a in body["accounts"]] in ([], [f"alice@{HOST}"])
    async with db.session() as session:
        stored = (await session.exec(select(Account).where(Account.uri == f"{BASE}/users/alice"))).all()
    assert [(a.username, a.domain) for a in stored] == [("alice", HOST)]
    assert await count(Account, Account.domain == "evil.example") == 0


async def test_a_url_on_another_server_is_not_taken_as_the_objects_address(client, remote, searcher):
    """A Note or actor whose `url` names another server (a victim's post, one of ours) keeps only
    its id: otherwise looking that URL up would find the impostor."""
    searching, headers = searcher
    ours = (await post_status(client, headers, status="our own post")).json()
    remote.add_actor("mallory", url=ours["url"])
    remote.add_note("mallory", 5, url=ours["url"])
    [status] = (await search(client, headers, f"{BASE}/users/mallory/statuses/5", resolve="true"))["statuses"]
    assert status["url"] == status["uri"] == f"{BASE}/users/mallory/statuses/5"
    assert status["account"]["url"] == f"{BASE}/users/mallory"
    found = await search(client, headers, ours["url"], resolve="true")
    assert [s["id"] for s in found["statuses"]] == [ours["id"]]  # still our post


async def test_impossible_dates_are_taken_as_now(client, remote, searcher):
    _, headers = searcher
    remote.add_actor("alice", published="0001-01-01T00:00:00+14:00")
    remote.add_note("alice", 6, published="1900-01-01T00:00:00Z")
    [status] = (await search(client, headers, f"{BASE}/users/alice/statuses/6", resolve="true"))["statuses"]
    assert int(status["id"]) > 0 and status["created_at"] >= "2026"
    assert (await client.get(f"/api/v1/statuses/{status['id']}", headers=headers)).status_code == 200


async def test_private_and_direct_posts_are_shown_only_to_their_audience(client, remote, searcher):
    searching, headers = searcher
    other, _ = await make_user("other")
    other_headers = bearer(await token_for(other))
    remote.add_actor("alice")
    remote.add_note("alice", 2, to=[f"{BASE}/users/alice/followers"], cc=[])
    remote.add_note("alice", 3, to=[searching.uri], cc=[],
                    tag=[{"type": "Mention", "name": "@searcher", "href": searching.uri}])

    assert (await search(client, headers, f"{BASE}/@alice/2", resolve="true"))["statuses"] == []
    async with db.session() as session:
        private = (await session.exec(select(Status).where(Status.uri == f"{BASE}/users/alice/statuses/2"))).one()
    assert private.visibility == "private"  # stored, but the searcher does not follow alice

    direct = (await search(client, headers, f"{BASE}/@alice/3", resolve="true"))["statuses"]
    assert [s["visibility"] for s in direct] == ["direct"]
    assert [m["acct"] for m in direct[0]["mentions"]] == ["searcher"]
    assert await count(Mention) == 1
    assert (await search(client, other_headers, f"{BASE}/@alice/3", resolve="true"))["statuses"] == []


async def test_our_own_urls_are_found_without_asking_anyone(client, remote, searcher):
    searching, headers = searcher
    posted = (await post_status(client, headers, status="a local post")).json()
    for address in (posted["url"], posted["uri"]):
        body = await search(client, headers, address, resolve="true")
        assert [s["id"] for s in body["statuses"]] == [posted["id"]] and body["accounts"] == []
    body = await search(client, headers, searching.url, resolve="true")
    assert [a["acct"] for a in body["accounts"]] == ["searcher"]
    assert (await search(client, headers, posted["url"] + "0", resolve="true"))["statuses"] == []
    assert remote.requests == []


# -- what must fail quietly -----------------------------------------------------------------

def _redirect_to(location: str):
    return lambda request: httpx.Response(302, headers={"Location": location})


async def _slow(request: httpx.Request) -> httpx.Response:
    await asyncio.Event().wait()  # answers never: only the resolver's deadline ends the exchange
    return httpx.Response(200, json={})


async def _huge_stream():
    chunk = b" " * 65536
    for _ in range(40):  # 2.5 MiB without a Content-Length
        yield chunk


def _break(server: RemoteMastodon, case: str) -> str:
    """Set up the remote side of `case`; the query to search for."""
    if case == "unknown user":
        return "@nobody@remote.example"
    if case == "malformed JRD":
        server.add_actor("broken")
        server.webfinger[f"acct:broken@{HOST}"] = {"subject": f"acct:broken@{HOST}", "links": [{"rel": "self"}]}
        return "@broken@remote.example"
    if case == "JRD not JSON":
        server.add_actor("broken")
        server.webfinger[f"acct:broken@{HOST}"] = lambda r: httpx.Response(200, text="<html>hello</html>")
        return "@broken@remote.example"
    if case == "actor id on another host":
        server.add_actor("carol", id="https://evil.example/users/carol")
        return "@carol@remote.example"
    if case == "webfinger points elsewhere":
        server.add_actor("carol")
        server.webfinger[f"acct:carol@{HOST}"] = server.jrd("carol", href="https://evil.example/users/carol")
        return "@carol@remote.example"
    if case == "publicKey owner mismatch":
        server.add_actor("dave", publicKey={"id": "https://evil.example/users/x#main-key",
                                            "owner": "https://evil.example/users/x",
                                            "publicKeyPem": server.actor_document("dave")["publicKey"]["publicKeyPem"]})
        return "@dave@remote.example"
    if case == "actor not JSON":
        server.add_actor("erin")
        server.routes["/users/erin"] = lambda r: httpx.Response(200, text="<html>no link here</html>",
                                                                 headers={"Content-Type": "text/html"})
        return "@erin@remote.example"
    if case == "actor not an actor":
        server.add_actor("erin")
        server.routes["/users/erin"] = server.activity({"id": f"{BASE}/users/erin", "type": "Note"})
        return "@erin@remote.example"
    if case == "huge response":
        server.add_actor("frank", summary="x" * 2_000_000)
        return "@frank@remote.example"
    if case == "huge streamed response":
        server.add_actor("frank")
        server.routes["/users/frank"] = lambda r: httpx.Response(200, content=_huge_stream())
        return "@frank@remote.example"
    if case == "timeout":
        server.add_actor("gina")
        server.routes["/users/gina"] = _slow
        return "@gina@remote.example"
    if case == "read timeout":
        server.add_actor("gina")

        def timeout(request):
            raise httpx.ReadTimeout("timed out", request=request)
        server.routes["/users/gina"] = timeout
        return "@gina@remote.example"
    if case == "server error":
        server.add_actor("gina")
        server.routes["/users/gina"] = lambda r: httpx.Response(503)
        return "@gina@remote.example"
    if case == "redirect loop":
        server.add_actor("hank")
        server.routes["/users/hank"] = _redirect_to(f"{BASE}/users/hank2")
        server.routes["/users/hank2"] = _redirect_to(f"{BASE}/users/hank")
        return "@hank@remote.example"
    if case == "redirect to a private address":
        server.add_actor("hank")
        server.routes["/users/hank"] = _redirect_to("http://private.example/users/hank")
        return "@hank@remote.example"
    if case == "private address":
        return "@eve@private.example"
    if case == "name resolving to loopback among others":
        return "@eve@rebound.example"
    if case == "link-local address":
        return "http://169.254.169.254/latest/meta-data/"
    if case == "loopback address":
        return "https://127.0.0.1/users/admin"
    if case == "IPv6 loopback":
        return "https://[::1]/users/admin"
    if case == "unresolvable name":
        return "@ghost@nowhere.example"
    if case == "note from another server":
        server.add_actor("alice")
        server.add_note("alice", 9, attributedTo="https://evil.example/users/mallory")
        return f"{BASE}/@alice/9"
    if case == "note whose author cannot be fetched":
        server.add_note("ghost", 10)
        return f"{BASE}/@ghost/10"
    if case == "open redirect vouching for a forged note":
        # remote.example redirects anywhere; evil.example serves a Note naming the redirect as its
        # id and a remote.example author: only where it was served from tells the truth.
        server.add_actor("alice")
        server.routes["/redirect/1"] = _redirect_to("https://evil.example/forged/1")
        server.routes["/forged/1"] = server.activity({
            "id": f"{BASE}/redirect/1", "type": "Note", "attributedTo": f"{BASE}/users/alice",
            "content": "<p>I never wrote this</p>", "to": ["https://www.w3.org/ns/activitystreams#Public"]})
        return f"{BASE}/redirect/1"
    if case == "note id on another host":
        server.add_actor("alice")
        server.add_note("alice", 11, id="https://evil.example/users/alice/statuses/11")
        return f"{BASE}/@alice/11"
    raise AssertionError(case)


FAILURES = ["unknown user", "malformed JRD", "JRD not JSON", "actor id on another host", "webfinger points elsewhere",
            "publicKey owner mismatch", "actor not JSON", "actor not an actor", "huge response",
            "huge streamed response", "timeout", "read timeout", "server error", "redirect loop",
            "redirect to a private address", "private address", "name resolving to loopback among others",
            "link-local address", "loopback address", "IPv6 loopback", "unresolvable name",
            "note from another server", "note whose author cannot be fetched", "note id on another host",
            "open redirect vouching for a forged note"]


async def test_remote_failures_find_nothing_and_write_nothing(client, settings, searcher):
    _, headers = searcher
    await client.get("/actor")
    for case in FAILURES:  # one test, so the cases share one set-up; each gets a fresh remote server
        with installed(RemoteMastodon(client), settings) as server:
            query = _break(server, case)
            before = await rows()
            body = await search(client, headers, query, resolve="true")
            assert (body["accounts"], body["statuses"]) == ([], []), case
            assert await rows() == before, case
            if "private" in case or "loopback" in case or "link-local" in case:
                assert [r.url.host for r in server.requests if r.url.host != HOST] == [], case  # refused before sending


GARBAGE = ["@@x@", "@a@b@c", "https://", "http://", "https://[", "https:// remote.example/",
           "https://remote.example:99999/x", "@alice@", "@alice@remote.example/x", "https://remote.example/%%%",
           "a" * 300 + "@remote.example", "@alice@remote..example", "@alice@-remote.example", "@ali ce@remote.example"]


async def test_garbage_queries_never_fail(client, remote, searcher):
    _, headers = searcher
    remote.add_actor("alice")
    before = await rows()
    for query in GARBAGE:
        body = await search(client, headers, query, resolve="true")
        assert (body["accounts"], body["statuses"]) == ([], []), query
    assert await rows() == before
    # Only the well-formed URL among them was asked for (it is a 404 there).
    assert {str(r.url) for r in remote.requests} == {"https://remote.example/%%%"}


async def test_private_addresses_are_fetched_when_allowed(client, settings, searcher):
    """STARLING_ALLOW_PRIVATE_ADDRESSES: instances federating inside one private network."""
    _, headers = searcher
    server = RemoteMastodon(client)
    server.add_actor("alice")
    allowed = build_resolver(dataclasses.replace(settings, allow_private_addresses=True),
                             transport=httpx.MockTransport(server.handle), resolve_host=_all_private)
    previous = search_resolve.install(allowed)
    try:
        body = await search(client, headers, "@alice@remote.example", resolve="true")
    finally:
        search_resolve.install(previous)
    assert [a["acct"] for a in body["accounts"]] == [f"alice@{HOST}"]


async def _all_private(host: str, port: int) -> list[str]:
    return ["10.1.2.3"]


async def test_resolve_needs_a_signed_in_user(client, remote):
    remote.add_actor("alice")
    response = await client.get("/api/v2/search", params={"q": "@alice@remote.example", "resolve": "true"})
    assert response.status_code == 401
    assert "error" in response.json()
    assert remote.requests == []


async def test_a_reply_to_a_post_unknown_here_stays_out_of_public_home_and_lists(client, remote, searcher):
    """As Mastodon (its `reply` flag; PublicFeed's without_replies, filter_from_home): a remote
    reply whose parent this server never saw has no parent here, yet it is no top-level post.
    The public timelines and followers' home and lists leave it out; hashtags still show it."""
    searching, headers = searcher
    remote.add_actor("alice")
    recent = (utcnow() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")  # within the trends' window
    orphan = remote.add_note("alice", 7, inReplyTo=f"{BASE}/users/bob/statuses/1", published=recent)
    plain = remote.add_note("alice", 8, published=recent)
    found = {}
    for note in (orphan, plain):
        [status] = (await search(client, headers, note["id"], resolve="true"))["statuses"]
        found[note["id"]] = status["id"]
    assert (await client.get(f"/api/v1/statuses/{found[orphan['id']]}", headers=headers)).json()["in_reply_to_id"] is None
    async with db.session() as session:
        alice = (await session.exec(select(Account).where(Account.uri == f"{BASE}/users/alice"))).one()
        session.add(Follow(account_id=searching.id, target_account_id=alice.id))
    made = await client.post("/api/v1/lists", json={"title": "Far", "replies_policy": "followed"}, headers=headers)
    await client.post(f"/api/v1/lists/{made.json()['id']}/accounts", json={"account_ids": [str(alice.id)]},
                      headers=headers)

    async def ids(path, **params):
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()]

    only_plain = [found[plain["id"]]]
    assert await ids("/api/v1/timelines/public") == only_plain
    assert await ids("/api/v1/timelines/public", remote="true") == only_plain
    assert await ids("/api/v1/timelines/home") == only_plain
    assert await ids(f"/api/v1/timelines/list/{made.json()['id']}") == only_plain
    assert await ids(f"/api/v1/accounts/{alice.id}/statuses", exclude_replies="true") == only_plain
    assert await ids("/api/v1/timelines/tag/fediverse") == sorted(found.values(), key=int, reverse=True)
    # Nor does it trend (Mastodon's trends leave replies out), however liked.
    for status_id in found.values():
        assert (await client.post(f"/api/v1/statuses/{status_id}/favourite", headers=headers)).status_code == 200
    assert await ids("/api/v1/trends/statuses") == only_plain
