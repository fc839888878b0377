"""Streaming API against a real server process (`live_server`): WebSocket and server-sent events.

Statuses are posted through the API in the test process, whose workers publish to Redis;
the server process holding the socket delivers them, so every test here also crosses
process boundaries through Redis pub/sub.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import re
from contextlib import asynccontextmanager

import httpx
import pytest
from jsonschema import Draft202012Validator
from sqlalchemy.dialects.postgresql import insert
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app import db
from app import redis as app_redis
from app.models import Block, Status
from app.models.list import List
from app.services import blocks, filters, streaming, tokens
from app.services.feeds import fanout
from app.services.feeds import store as feed_store
from app.services.streaming import ViewerFilter
from app.services.tokens import lookup
from app.streaming.session import MAX_SUBSCRIPTIONS, StreamSession, with_filter_results
from tests.api import test_oauth as oauth_flow
from tests.api.test_timelines import tuned
from tests.app.test_notices import listening_here
from tests.support.openapi import assert_matches_spec, spec
from tests.support.polling import eventually, settled
from tests.support.services import separate_redis
from tests.support.world import block, follow, make_app, make_user, post_status, token_for

DEADLINE = 5.0  # seconds an event may take to arrive
PROBE = "probe"


def ws_url(live_server: str, query: str = "") -> str:
    return live_server.replace("http://", "ws://") + "/api/v1/streaming" + (f"?{query}" if query else "")


def assert_status_entity(payload: str) -> dict:
    """The payload is a JSON *string* holding a Status as the OpenAPI description defines it."""
    assert isinstance(payload, str)
    status = json.loads(payload)
    validator = Draft202012Validator({**spec()["components"]["schemas"]["Status"], "components": spec()["components"]})
    errors = [e.message[:200] for e in validator.iter_errors(status)]
    assert not errors, errors
    return status


@asynccontextmanager
async def socket(live_server: str, token: str | None, query: str = "", **options):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with connect(ws_url(live_server, query), additional_headers=headers, open_timeout=DEADLINE,
                       **options) as ws:
        yield ws


async def frame(ws, *, skip=(PROBE,), deadline: float = DEADLINE) -> dict:
    """The next frame (probes skipped), or fail after `deadline` seconds."""
    while True:
        data = json.loads(await asyncio.wait_for(ws.recv(), deadline))
        if data.get("event") not in skip:
            return data


async def no_frame(ws, seconds: float = 1.0) -> None:
    try:
        data = await frame(ws, deadline=seconds)
    except asyncio.TimeoutError:
        return
    raise AssertionError(f"unexpected frame {data}")


async def until_listening(ws, channel: str) -> None:
    """Publish probes on `channel` until the socket receives one: its subscription is live."""
    for _ in range(int(DEADLINE / 0.1)):
        await streaming.publish(channel, PROBE)
        try:
            data = json.loads(await asyncio.wait_for(ws.recv(), 0.1))
        except asyncio.TimeoutError:
            continue
        if data.get("event") == PROBE:
            return
        raise AssertionError(f"unexpected frame while waiting for the subscription: {data}")
    raise AssertionError(f"the socket never listened on {channel}")


async def user_with_token(name: str, scopes: str = "read write follow push"):
    account, _ = await make_user(name)
    return account, await token_for(account, scopes)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def live_home(client, token: str, account) -> None:
    """Read the account's home once, so its feed is rebuilt, and wait until the feed is live."""
    await client.get("/api/v1/timelines/home", headers=auth(token))
    await eventually(lambda: feed_store.floor_of(account.id), until=lambda floor: floor is not None)


# -- health ---------------------------------------------------------------------------------------

async def test_health_answers_ok(client, live_server):
    response = await client.get("/api/v1/streaming/health")
    assert response.status_code == 200 and response.text == "OK"
    assert_matches_spec(response, "GET", "/api/v1/streaming/health")
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{live_server}/api/v1/streaming/health")).text == "OK"


# -- WebSocket: public and hashtag streams from posts through the API -------------------------------

async def test_public_stream_receives_posts_and_deletes(client, live_server):
    alice, token = await user_with_token("alice")
    async with socket(live_server, token, "stream=public") as ws:
        await until_listening(ws, streaming.PUBLIC)
        unlisted = await post_status(client, auth(token), status="quiet one", visibility="unlisted")
        assert unlisted.status_code == 200
        posted = (await post_status(client, auth(token), status="Hello, stream!")).json()

        update = await frame(ws)
        assert update["stream"] == ["public"] and update["event"] == "update"
        status = assert_status_entity(update["payload"])
        assert status["id"] == posted["id"]  # the unlisted post never came
        assert status["content"] == posted["content"] and status["account"]["id"] == str(alice.id)

        edited = await client.put(f"/api/v1/statuses/{posted['id']}", json={"status": "Hello again"},
                                  headers=auth(token))
        assert edited.status_code == 200
        change = await frame(ws)
        assert change["event"] == "status.update"
        assert "Hello again" in assert_status_entity(change["payload"])["content"]

        assert (await client.delete(f"/api/v1/statuses/{posted['id']}", headers=auth(token))).status_code == 200
        deleted = await frame(ws)
        assert deleted == {"stream": ["public"], "event": "delete", "payload": posted["id"]}


async def test_a_stream_opened_in_another_process_gets_the_next_post(client, live_server):
    """This process remembers that nobody watches public streams; a stream opened in the live
    server's process announces itself, so the next post here asks again and reaches it."""
    await listening_here()
    _, token = await user_with_token("alice")

    async def asked_afresh() -> bool:
        streaming.forget_watching_statuses()
        return await streaming.anyone_watching_statuses()

    await eventually(asked_afresh, until=lambda watching: not watching)  # earlier tests' streams closed
    async with socket(live_server, token, "stream=public") as ws:
        await until_listening(ws, streaming.PUBLIC)
        posted = (await post_status(client, auth(token), status="now somebody watches")).json()
        update = await frame(ws)
        assert update["event"] == "update" and json.loads(update["payload"])["id"] == posted["id"]


async def test_local_and_hashtag_streams(client, live_server):
    _, token = await user_with_token("alice")
    async with socket(live_server, token) as ws:
        await ws.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "Cats"}))
        await until_listening(ws, streaming.hashtag_channel("cats"))
        await ws.send(json.dumps({"type": "subscribe", "stream": "hashtag:local", "tag": "cats"}))
        await until_listening(ws, streaming.hashtag_channel("cats", local=True))
        await ws.send(json.dumps({"type": "subscribe", "stream": "public:local"}))
        await until_listening(ws, streaming.PUBLIC_LOCAL)

        await post_status(client, auth(token), status="no tag here")
        public_local = await frame(ws)
        assert public_local["stream"] == ["public:local"]
        posted = (await post_status(client, auth(token), status="I love #CATS")).json()
        received = [await frame(ws) for _ in range(3)]
        assert sorted(tuple(f["stream"]) for f in received) == [
            ("hashtag", "Cats"), ("hashtag:local", "cats"), ("public:local",)]
        assert {json.loads(f["payload"])["id"] for f in received} == {posted["id"]}

        # Unsubscribing stops the events of that stream only.
        await ws.send(json.dumps({"type": "unsubscribe", "stream": "public:local"}))
        await ws.send(json.dumps({"type": "unsubscribe", "stream": "hashtag", "tag": "cats"}))
        await asyncio.sleep(0.3)
        again = (await post_status(client, auth(token), status="#cats again")).json()
        only = await frame(ws)
        assert only["stream"] == ["hashtag:local", "cats"] and json.loads(only["payload"])["id"] == again["id"]
        await no_frame(ws, 0.5)


async def test_a_hashtag_stream_hears_its_tag_however_it_is_spelt(client, live_server):
    _, token = await user_with_token("alice")
    async with socket(live_server, token) as ws:
        await ws.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "Café"}))
        await until_listening(ws, streaming.hashtag_channel("cafe"))
        for text in ("#CAFE at noon", "#ｃａｆé at one"):
            posted = (await post_status(client, auth(token), status=text)).json()
            received = await frame(ws)
            assert received["stream"] == ["hashtag", "Café"]  # labelled as the client asked
            assert json.loads(received["payload"])["id"] == posted["id"]


async def test_public_stream_hides_authors_the_viewer_blocks_mutes_or_is_blocked_by(client, live_server):
    viewer, token = await user_with_token("viewer")
    blocked, blocked_token = await user_with_token("blocked")
    muted, muted_token = await user_with_token("muted")
    blocker, blocker_token = await user_with_token("blocker")
    friend, friend_token = await user_with_token("friend")
    await block(viewer, blocked)
    await block(blocker, viewer)
    async with db.session() as session:
        await blocks.mute(session, viewer.id, muted.id)
    async with socket(live_server, token, "stream=public") as ws:
        await until_listening(ws, streaming.PUBLIC)
        for author_token in (blocked_token, muted_token, blocker_token):
            assert (await post_status(client, auth(author_token), status="you should not see me")).status_code == 200
        await post_status(client, auth(friend_token), status="hi @muted")  # mentions a muted account
        shown = (await post_status(client, auth(friend_token), status="visible")).json()
        received = await frame(ws)
        assert json.loads(received["payload"])["id"] == shown["id"]
        await no_frame(ws, 0.5)


async def test_blocks_mutes_and_filters_apply_at_once_to_streams_already_open(client, live_server):
    """A stream keeps the viewer's blocks, mutes and filters for a while; changing them tells
    every open stream of theirs (and a block, the blocked account's too), whatever it listens
    to, so the next post already follows the change, as Mastodon's streaming server does."""
    viewer, token = await user_with_token("viewer")
    carol, carol_token = await user_with_token("carol")
    _, friend_token = await user_with_token("friend")

    async def shown(*sockets) -> list[list[str]]:
        """Carol, the viewer and the friend post: whose posts each socket shows."""
        for author_token in (carol_token, token, friend_token):
            await post_status(client, auth(author_token), status="here")
        await settled()  # every event published
        seen = []
        for ws in sockets:
            names = []
            with contextlib.suppress(asyncio.TimeoutError):
                while True:
                    names.append(json.loads((await frame(ws, deadline=0.3))["payload"])["account"]["username"])
            seen.append(sorted(names))
        return seen

    async with socket(live_server, token, "stream=public") as ws, \
            socket(live_server, carol_token, "stream=public:local") as carols_ws:
        await until_listening(ws, streaming.PUBLIC)
        await until_listening(carols_ws, streaming.PUBLIC_STREAMS["public:local"])
        everyone = ["carol", "friend", "viewer"]
        assert await shown(ws, carols_ws) == [everyone, everyone]  # blocks and mutes are loaded now
        assert (await client.post(f"/api/v1/accounts/{carol.id}/block", headers=auth(token))).status_code == 200
        # Neither sees the other's posts any more.
        assert await shown(ws, carols_ws) == [["friend", "viewer"], ["carol", "friend"]]
        assert (await client.post(f"/api/v1/accounts/{carol.id}/unblock", headers=auth(token))).status_code == 200
        assert await shown(ws, carols_ws) == [everyone, everyone]
        assert (await client.post(f"/api/v1/accounts/{carol.id}/mute", headers=auth(token))).status_code == 200
        assert await shown(ws, carols_ws) == [["friend", "viewer"], everyone]
        assert (await client.post(f"/api/v1/accounts/{carol.id}/unmute", headers=auth(token))).status_code == 200
        assert await shown(ws) == [everyone]
        # A new filter applies at once on a socket without the user stream too.
        made = await client.post("/api/v2/filters", headers=auth(token), json={
            "title": "Carol", "context": ["public"], "keywords_attributes": [{"keyword": "carol"}]})
        assert made.status_code == 200, made.text
        await post_status(client, auth(carol_token), status="carol again")
        assert [f["filter"]["title"] for f in json.loads((await frame(ws))["payload"])["filtered"]] == ["Carol"]


async def test_a_block_announced_while_a_stream_loads_the_viewers_blocks_is_not_lost(client, monkeypatch):
    """The notice of a block that commits while a stream is reading the viewer's blocks and
    mutes (which may then miss it) makes it read them again, rather than keep the old ones for
    FILTER_TTL."""
    alice, token = await user_with_token("alice")
    async with db.session() as session:
        owner = await lookup(session, token)
    stream = StreamSession(owner)
    before, after = ViewerFilter(), ViewerFilter(hidden={12345})
    loads = [before, after]
    reading = asyncio.Event()

    async def load_filter(account_id: int) -> ViewerFilter:
        loaded = loads.pop(0)
        if loaded is before:
            reading.set()
            await asyncio.sleep(0.05)  # the block commits and is announced meanwhile
        return loaded

    monkeypatch.setattr(streaming, "load_filter", load_filter)
    loading = asyncio.create_task(stream._viewer_filter())
    await reading.wait()
    stream._on_system(streaming.Message(streaming.VIEWER_CHANGED))
    assert await loading is after
    assert await stream._viewer_filter() is after  # kept: no notice overlapped the second read


async def test_public_and_hashtag_streams_carry_the_viewers_filter_results(client, live_server):
    viewer, token = await user_with_token("viewer")
    _, author_token = await user_with_token("author")
    made = await client.post("/api/v2/filters", headers=auth(token), json={
        "title": "Fruit", "context": ["public"], "filter_action": "hide",
        "keywords_attributes": [{"keyword": "bananas", "whole_word": True}]})
    assert made.status_code == 200, made.text
    async with socket(live_server, token, "stream=public") as ws:
        await ws.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "fruit"}))
        await until_listening(ws, streaming.PUBLIC)
        await until_listening(ws, streaming.hashtag_channel("fruit"))
        await post_status(client, auth(author_token), status="I like bananas #fruit")
        seen = {}
        for _ in range(2):  # once on each stream
            received = await frame(ws)
            seen[received["stream"][0]] = json.loads(received["payload"])["filtered"]
        assert seen.keys() == {"public", "hashtag"}
        for filtered in seen.values():
            assert [(f["filter"]["title"], f["filter"]["filter_action"], f["keyword_matches"]) for f in filtered] == [
                ("Fruit", "hide", ["bananas"])]
        await post_status(client, auth(author_token), status="apples only")
        assert json.loads((await frame(ws))["payload"])["filtered"] == []

        # A change to the filters applies at once to a stream that hears of it (the user stream).
        await ws.send(json.dumps({"type": "subscribe", "stream": "user"}))
        await until_listening(ws, streaming.user_channel(viewer.id))
        await client.delete(f"/api/v2/filters/{made.json()['id']}", headers=auth(token))
        assert (await frame(ws))["event"] == "filters_changed"
        await post_status(client, auth(author_token), status="bananas again")
        assert json.loads((await frame(ws))["payload"])["filtered"] == []

    # Someone without filters: none tripped, as Mastodon says to any signed-in viewer; a token that
    # may not read filters is not told about them at all.
    _, plain_token = await user_with_token("plain")
    viewer_write_only = await token_for(viewer, "write")
    async with socket(live_server, plain_token, "stream=public") as plain_ws, \
            socket(live_server, viewer_write_only, "stream=public") as write_ws:
        await until_listening(plain_ws, streaming.PUBLIC)
        await until_listening(write_ws, streaming.PUBLIC)
        await client.post("/api/v2/filters", headers=auth(token), json={
            "title": "Again", "context": ["public"], "keywords_attributes": [{"keyword": "bananas"}]})
        await post_status(client, auth(author_token), status="more bananas")
        assert json.loads((await frame(plain_ws))["payload"])["filtered"] == []
        assert "filtered" not in json.loads((await frame(write_ws))["payload"])


async def test_the_home_stream_leaves_out_what_the_home_timeline_leaves_out(client, live_server):
    """Blocks and mutes apply when reading, after the fan-out: the stream applies them too."""
    alice, token = await user_with_token("alice")
    bob, bob_token = await user_with_token("bob")
    carol, carol_token = await user_with_token("carol")
    dave, dave_token = await user_with_token("dave")
    for followed in (bob, dave, carol):
        await follow(alice, followed)
    await block(carol, alice)  # carol blocks alice after being followed
    async with db.session() as session:
        await blocks.mute(session, alice.id, dave.id)
    carols = (await post_status(client, auth(carol_token), status="carol speaking")).json()
    await live_home(client, token, alice)
    async with socket(live_server, token, "stream=user") as ws:
        await until_listening(ws, streaming.user_channel(alice.id))
        boosted = await client.post(f"/api/v1/statuses/{carols['id']}/reblog", headers=auth(bob_token))
        assert boosted.status_code == 200, boosted.text  # a boost of someone blocking alice
        await post_status(client, auth(dave_token), status="dave, muted")
        await post_status(client, auth(bob_token), status="about @dave")  # mentions a muted account
        _, erin_token = await user_with_token("erin")
        about_dave = (await post_status(client, auth(erin_token), status="also about @dave")).json()
        reboosted = await client.post(f"/api/v1/statuses/{about_dave['id']}/reblog", headers=auth(bob_token))
        assert reboosted.status_code == 200, reboosted.text  # a boost of a post mentioning him: as Mastodon
        shown = (await post_status(client, auth(bob_token), status="bob speaking")).json()
        assert json.loads((await frame(ws))["payload"])["id"] == shown["id"]
        await no_frame(ws, 0.5)
    assert [s["id"] for s in (await client.get("/api/v1/timelines/home", headers=auth(token))).json()] == [shown["id"]]


def test_filter_results_never_break_on_a_payload_that_is_not_a_status():
    fruit = filters.ActiveFilter(1, "Fruit", ["public"], "warn", None, keywords=[("bananas", False)])
    fruit.pattern = re.compile("bananas", re.IGNORECASE)
    odd = ["not json", "[]", "{}", '{"id": "x"}', '{"id": "1", "content": 5}', '{"id": "1", "reblog": "2"}',
           '{"id": "1", "media_attachments": [null], "content": "bananas"}']
    for payload in odd:
        assert with_filter_results(payload, [fruit]) == payload
    tripped = json.loads(with_filter_results('{"id": "7", "content": "<p>Bananas!</p>"}', [fruit]))
    assert [f["keyword_matches"] for f in tripped["filtered"]] == [["Bananas"]]
    assert json.loads(with_filter_results('{"id": "7"}', []))["filtered"] == []
    assert json.loads(with_filter_results("{}", [])) == {"filtered": []}


# -- WebSocket: the user's own streams ------------------------------------------------------------

async def test_user_streams_receive_what_is_published_to_the_user(live_server, settings):
    alice, token = await user_with_token("alice")
    bob, _ = await user_with_token("bob")
    async with socket(live_server, token, "stream=user") as ws:
        await until_listening(ws, streaming.notifications_channel(alice.id))
        await ws.send(json.dumps({"type": "subscribe", "stream": "user:notification"}))
        await ws.send(json.dumps({"type": "subscribe", "stream": "direct"}))
        await until_listening(ws, streaming.direct_channel(alice.id))

        await streaming.publish_to_user(bob.id, "update", {"id": "1"})  # someone else's: not here
        await streaming.publish_to_user(alice.id, "update", {"id": "2", "content": "home"})
        home = await frame(ws)
        assert home == {"stream": ["user"], "event": "update", "payload": '{"id":"2","content":"home"}'}

        await streaming.publish_to_user(alice.id, "notification", {"id": "7", "type": "favourite"})
        notifications = [await frame(ws) for _ in range(2)]
        assert sorted(n["stream"][0] for n in notifications) == ["user", "user:notification"]
        assert all(json.loads(n["payload"])["type"] == "favourite" for n in notifications)

        await streaming.publish_to_user(alice.id, "conversation", {"id": "9"})
        assert (await frame(ws))["stream"] == ["direct"]
        await streaming.publish_to_user(alice.id, "filters_changed")
        assert await frame(ws) == {"stream": ["user"], "event": "filters_changed"}
        await streaming.publish_to_user(alice.id, "delete", "42")
        assert await frame(ws) == {"stream": ["user"], "event": "delete", "payload": "42"}


async def test_an_instance_on_another_database_of_the_same_redis_is_not_heard(live_server):
    """Pub/sub ignores Redis database numbers: what an instance on another database of the same
    server publishes to its public stream must not reach this instance's sockets."""
    _, token = await user_with_token("alice")
    here, feeds_here = app_redis.url(), app_redis._feeds_url
    elsewhere, claim = separate_redis(here)
    try:
        async with socket(live_server, token, "stream=public") as ws:
            await until_listening(ws, streaming.PUBLIC)
            app_redis.connect(elsewhere)
            try:
                await streaming.publish(streaming.PUBLIC, "delete", "1")
            finally:
                app_redis.connect(here, feeds_here)
            await streaming.publish(streaming.PUBLIC, "delete", "2")
            assert (await frame(ws))["payload"] == "2"
    finally:
        if claim is not None:
            claim.release()


async def test_home_stream_gets_followed_accounts_posts_made_after_it_opened(client, live_server):
    """A fan-out announces a post on the home streams open at that moment only (it looks them
    up in streaming.WATCHING, not with a PUBLISH per follower): a stream opened after one
    post was fanned out gets the next one, rendered as a Status."""
    alice, token = await user_with_token("alice")
    bob, bob_token = await user_with_token("bob")
    await follow(alice, bob)
    await live_home(client, token, alice)
    await post_status(client, auth(bob_token), status="while alice was away")
    await settled()
    async with socket(live_server, token, "stream=user") as ws:
        await until_listening(ws, streaming.user_channel(alice.id))
        after = (await post_status(client, auth(bob_token), status="now that alice is here")).json()
        update = await frame(ws)
        assert update["stream"] == ["user"] and update["event"] == "update"
        assert assert_status_entity(update["payload"])["id"] == after["id"]
        await no_frame(ws, 0.5)  # once


async def test_home_stream_gets_edits_and_deletions_of_posts_in_the_feed(client, live_server):
    """As Mastodon: an edited post comes again as `status.update`, a deleted one (or an undone
    boost) as `delete`, on the home streams of the followers whose feeds hold it, whatever its
    visibility; a stream whose feed never held it is told nothing of the edit."""
    alice, token = await user_with_token("alice")
    bob, bob_token = await user_with_token("bob")
    carol, carol_token = await user_with_token("carol")
    _, dave_token = await user_with_token("dave")
    await follow(alice, bob)
    await live_home(client, token, alice)
    async with socket(live_server, token, "stream=user") as ws, \
            socket(live_server, carol_token, "stream=user") as stranger:
        await until_listening(ws, streaming.user_channel(alice.id))
        await until_listening(stranger, streaming.user_channel(carol.id))
        posted = (await post_status(client, auth(bob_token), status="first draft", visibility="private")).json()
        assert (await frame(ws))["event"] == "update"
        liked = await client.post(f"/api/v1/statuses/{posted['id']}/favourite", headers=auth(token))
        assert liked.status_code == 200, liked.text

        edited = await client.put(f"/api/v1/statuses/{posted['id']}", json={"status": "second draft"},
                                  headers=auth(bob_token))
        assert edited.status_code == 200, edited.text
        change = await frame(ws)
        assert change["stream"] == ["user"] and change["event"] == "status.update"
        shown = assert_status_entity(change["payload"])
        assert shown["id"] == posted["id"] and "second draft" in shown["content"] and shown["edited_at"]
        assert shown["favourited"] is True and shown["favourites_count"] == 1  # rendered for alice

        # bob boosts a post of dave's (whom alice does not follow), then takes the boost back
        elsewhere = (await post_status(client, auth(dave_token), status="dave speaking")).json()
        boosted = (await client.post(f"/api/v1/statuses/{elsewhere['id']}/reblog", headers=auth(bob_token)))
        assert boosted.status_code == 200, boosted.text
        boost_id = boosted.json()["id"]
        assert json.loads((await frame(ws))["payload"])["id"] == boost_id  # the boost's `update`
        assert (await client.post(f"/api/v1/statuses/{elsewhere['id']}/unreblog",
                                  headers=auth(bob_token))).status_code == 200
        assert await frame(ws) == {"stream": ["user"], "event": "delete", "payload": boost_id}

        assert (await client.delete(f"/api/v1/statuses/{posted['id']}", headers=auth(bob_token))).status_code == 200
        assert await frame(ws) == {"stream": ["user"], "event": "delete", "payload": posted["id"]}
        await no_frame(ws, 0.5)
        await no_frame(stranger, 0.1)  # carol follows no one: none of it was hers
    assert set(await feed_store.ids(alice.id)).isdisjoint({int(posted["id"]), int(boost_id)})


async def test_a_deleted_post_is_withdrawn_from_the_streams_of_those_it_mentions(client, live_server):
    """As Mastodon: alice follows no one, yet the post mentioning her was shown to her (its
    notification), so its deletion reaches her stream too."""
    alice, token = await user_with_token("alice")
    _, bob_token = await user_with_token("bob")
    async with socket(live_server, token, "stream=user") as ws:
        await until_listening(ws, streaming.user_channel(alice.id))
        posted = (await post_status(client, auth(bob_token), status="@alice have a look")).json()
        note = await frame(ws)
        assert note["event"] == "notification" and json.loads(note["payload"])["status"]["id"] == posted["id"]
        assert (await client.delete(f"/api/v1/statuses/{posted['id']}", headers=auth(bob_token))).status_code == 200
        assert await frame(ws) == {"stream": ["user"], "event": "delete", "payload": posted["id"]}


async def test_a_post_a_followed_hashtag_brought_home_is_edited_and_deleted_on_the_home_stream(client, live_server):
    alice, token = await user_with_token("alice")
    _, bob_token = await user_with_token("bob")  # alice does not follow bob
    assert (await client.post("/api/v1/tags/cats/follow", headers=auth(token))).status_code == 200
    await live_home(client, token, alice)
    async with socket(live_server, token, "stream=user") as ws:
        await until_listening(ws, streaming.user_channel(alice.id))
        posted = (await post_status(client, auth(bob_token), status="look at these #cats")).json()
        assert json.loads((await frame(ws))["payload"])["id"] == posted["id"]
        edited = await client.put(f"/api/v1/statuses/{posted['id']}", json={"status": "look at these #cats again"},
                                  headers=auth(bob_token))
        assert edited.status_code == 200, edited.text
        change = await frame(ws)
        assert change["event"] == "status.update" and "again" in json.loads(change["payload"])["content"]
        assert (await client.delete(f"/api/v1/statuses/{posted['id']}", headers=auth(bob_token))).status_code == 200
        assert await frame(ws) == {"stream": ["user"], "event": "delete", "payload": posted["id"]}
        # A followers-only post with the tag was never hers to see: its edit is not streamed to
        # her, even from an account pulled at read time (whose edits go to every follower).
        with tuned(fanout_pull_threshold=-1):  # bob, with no follower, counts as pulled
            private = (await post_status(client, auth(bob_token), status="our #cats", visibility="private")).json()
            edited = await client.put(f"/api/v1/statuses/{private['id']}", json={"status": "our #cats, edited"},
                                      headers=auth(bob_token))
            assert edited.status_code == 200, edited.text
            await settled()
            await no_frame(ws, 0.5)
    assert int(posted["id"]) not in await feed_store.ids(alice.id)


async def test_muting_or_blocking_withdraws_what_home_now_hides_from_the_home_stream(client, live_server):
    """As Mastodon: the muter's open stream is told `delete` for the target's posts in the feed,
    boosts of them and posts mentioning the target, so apps drop them without a reload."""
    alice, token = await user_with_token("alice")
    carol, carol_token = await user_with_token("carol")
    dave, dave_token = await user_with_token("dave")
    erin, erin_token = await user_with_token("erin")  # alice does not follow erin
    for followed in (carol, dave):
        await follow(alice, followed)
    erins = (await post_status(client, auth(erin_token), status="erin speaking")).json()
    about_erin = (await post_status(client, auth(carol_token), status="hi @erin")).json()
    boost = (await client.post(f"/api/v1/statuses/{erins['id']}/reblog", headers=auth(dave_token))).json()
    daves = (await post_status(client, auth(dave_token), status="dave speaking")).json()
    await live_home(client, token, alice)
    await settled()
    made = await client.post("/api/v1/lists", json={"title": "Carol"}, headers=auth(token))
    list_id = made.json()["id"]
    await client.post(f"/api/v1/lists/{list_id}/accounts", json={"account_ids": [str(carol.id)]}, headers=auth(token))
    async with socket(live_server, token, "stream=user") as ws, \
            socket(live_server, token, f"stream=list&list={list_id}") as listed:
        await until_listening(ws, streaming.user_channel(alice.id))
        await until_listening(listed, streaming.list_channel(int(list_id)))
        assert (await client.post(f"/api/v1/accounts/{erin.id}/mute", headers=auth(token))).status_code == 200
        told = [await frame(ws) for _ in range(2)]
        assert {(f["event"], f["payload"]) for f in told} == {("delete", about_erin["id"]), ("delete", boost["id"])}
        await no_frame(ws, 0.5)
        # The list stream too (as Mastodon's clear_from_lists): carol's post about erin goes, and
        # nothing else (dave's boost was never on carol's list).
        assert await frame(listed) == {"stream": ["list", list_id], "event": "delete", "payload": about_erin["id"]}
        await no_frame(listed, 0.3)
        # A block unfollows too, and that may take carol's post out of the feed first: told anyway.
        assert (await client.post(f"/api/v1/accounts/{carol.id}/block", headers=auth(token))).status_code == 200
        assert await frame(ws) == {"stream": ["user"], "event": "delete", "payload": about_erin["id"]}
        await no_frame(ws, 0.5)
    shown = [s["id"] for s in (await client.get("/api/v1/timelines/home", headers=auth(token))).json()]
    assert shown == [daves["id"]]


async def test_muting_withdraws_a_pulled_accounts_posts_and_nothing_once_unmuted(client, live_server):
    alice, token = await user_with_token("alice")
    star, star_token = await user_with_token("star")
    dave, dave_token = await user_with_token("dave")
    for followed in (star, dave):
        await follow(alice, followed)
    await live_home(client, token, alice)
    with tuned(fanout_pull_threshold=0):  # star's posts are merged at read time, in no feed of alice's
        stars = (await post_status(client, auth(star_token), status="star speaking")).json()
        await settled()
        assert int(stars["id"]) not in await feed_store.ids(alice.id)
        async with socket(live_server, token, "stream=user") as ws:
            await until_listening(ws, streaming.user_channel(alice.id))
            assert (await client.post(f"/api/v1/accounts/{star.id}/mute", headers=auth(token))).status_code == 200
            assert await frame(ws) == {"stream": ["user"], "event": "delete", "payload": stars["id"]}
            await no_frame(ws, 0.3)
            # Unmuted before the job ran (or a late retry): nothing is taken off the screen.
            assert (await client.post(f"/api/v1/accounts/{star.id}/unmute", headers=auth(token))).status_code == 200
            assert await fanout.hide(alice.id, star.id) == 0
            await no_frame(ws, 0.3)


async def followed_star(reader):
    """star, followed by the reader and one fan: pulled at read time with
    `tuned(fanout_pull_threshold=1)` (more followers than that). (star, star's token)."""
    star, star_token = await user_with_token("star")
    fan, _ = await user_with_token("fan")
    for follower in (reader, fan):
        await follow(follower, star)
    return star, star_token


async def test_muting_withdraws_a_pulled_accounts_posts_about_the_muted_account(client, live_server):
    """A followed account pulled at read time posts about carol and boosts her: muting carol takes
    both off alice's home stream, as the timeline now leaves them out (they are in no feed)."""
    alice, token = await user_with_token("alice")
    star, star_token = await followed_star(alice)
    carol, carol_token = await user_with_token("carol")
    await live_home(client, token, alice)
    with tuned(fanout_pull_threshold=1):  # star has 2 followers: pulled at read time
        carols = (await post_status(client, auth(carol_token), status="carol speaking")).json()
        about = (await post_status(client, auth(star_token), status="hello @carol")).json()
        boosted = await client.post(f"/api/v1/statuses/{carols['id']}/reblog", headers=auth(star_token))
        assert boosted.status_code == 200, boosted.text
        await settled()
        shown = [s["id"] for s in (await client.get("/api/v1/timelines/home", headers=auth(token))).json()]
        assert shown == [boosted.json()["id"], about["id"]]
        async with socket(live_server, token, "stream=user") as ws:
            await until_listening(ws, streaming.user_channel(alice.id))
            assert (await client.post(f"/api/v1/accounts/{carol.id}/mute", headers=auth(token))).status_code == 200
            withdrawn = {(await frame(ws))["payload"] for _ in range(2)}
            assert withdrawn == {about["id"], boosted.json()["id"]}
            await no_frame(ws, 0.3)
        assert (await client.get("/api/v1/timelines/home", headers=auth(token))).json() == []


async def test_a_boost_the_timeline_holds_back_for_a_pulled_post_is_not_streamed(client, live_server):
    """bob boosts star's post, which alice's timeline shows right under it from star (pulled at
    read time, in no feed): the timeline holds the boost back (Mastodon's reblog rule), so her
    home stream is not told of it either."""
    alice, token = await user_with_token("alice")
    star, star_token = await followed_star(alice)
    bob, bob_token = await user_with_token("bob")
    await follow(alice, bob)
    await live_home(client, token, alice)
    with tuned(fanout_pull_threshold=1):  # star has 2 followers: pulled; bob has 1: pushed
        stars = (await post_status(client, auth(star_token), status="star speaking")).json()
        await settled()
        async with socket(live_server, token, "stream=user") as ws:
            await until_listening(ws, streaming.user_channel(alice.id))
            boosted = await client.post(f"/api/v1/statuses/{stars['id']}/reblog", headers=auth(bob_token))
            assert boosted.status_code == 200, boosted.text
            await settled()
            await no_frame(ws, 0.5)
            later = (await post_status(client, auth(bob_token), status="bob speaking")).json()
            assert json.loads((await frame(ws))["payload"])["id"] == later["id"]  # the stream is alive
        shown = [s["id"] for s in (await client.get("/api/v1/timelines/home", headers=auth(token))).json()]
        assert shown == [later["id"], stars["id"]]


async def test_a_block_withdraws_the_blocked_accounts_posts_even_once_the_unfollow_took_them_out(client, live_server):
    """A block also unfollows; its two jobs run in any order, so the posts may be gone from
    the feed before the stream is told: it is told anyway. Run here in the bad order."""
    alice, token = await user_with_token("alice")
    carol, carol_token = await user_with_token("carol")
    await follow(alice, carol)
    carols = (await post_status(client, auth(carol_token), status="carol speaking")).json()
    await live_home(client, token, alice)
    await settled()
    async with socket(live_server, token, "stream=user") as ws:
        await until_listening(ws, streaming.user_channel(alice.id))
        async with db.session() as session:  # the block's rows, without its jobs
            await session.execute(insert(Block).values(account_id=alice.id, target_account_id=carol.id))
            await session.commit()
        await fanout.unmerge(alice.id, carol.id)
        assert int(carols["id"]) not in await feed_store.ids(alice.id)
        assert await fanout.hide(alice.id, carol.id) == 0  # not severed: only what the feed holds
        assert await fanout.hide(alice.id, carol.id, severed=True) == 1
        assert await frame(ws) == {"stream": ["user"], "event": "delete", "payload": carols["id"]}


async def test_edits_of_an_account_pulled_at_read_time_reach_its_followers_home_streams(client, live_server):
    alice, token = await user_with_token("alice")
    star, star_token = await user_with_token("star")
    await follow(alice, star)
    await live_home(client, token, alice)
    with tuned(fanout_pull_threshold=0):  # star's posts are merged at read time, in no feed of alice's
        posted = (await post_status(client, auth(star_token), status="before")).json()
        await settled()
        assert int(posted["id"]) not in await feed_store.ids(alice.id)
        async with socket(live_server, token, "stream=user") as ws:
            await until_listening(ws, streaming.user_channel(alice.id))
            edited = await client.put(f"/api/v1/statuses/{posted['id']}", json={"status": "after"},
                                      headers=auth(star_token))
            assert edited.status_code == 200, edited.text
            change = await frame(ws)
            assert change["event"] == "status.update" and "after" in json.loads(change["payload"])["content"]
            # A reply to someone alice does not follow never reached her stream: nor does its edit.
            _, carol_token = await user_with_token("carol")
            carols = (await post_status(client, auth(carol_token), status="carol speaking")).json()
            reply = (await post_status(client, auth(star_token), status="@carol yes",
                                       in_reply_to_id=carols["id"])).json()
            await settled()
            await no_frame(ws, 0.3)
            edited = await client.put(f"/api/v1/statuses/{reply['id']}", json={"status": "@carol no"},
                                      headers=auth(star_token))
            assert edited.status_code == 200, edited.text
            await settled()
            await no_frame(ws, 0.5)


async def test_posts_of_an_account_pulled_at_read_time_reach_its_followers_home_streams(client, live_server):
    """No feed holds a pulled author's post, yet a follower's open home stream hears of it, as
    in Mastodon; but not of a post their home leaves out (a reply to someone they don't follow)."""
    alice, token = await user_with_token("alice")
    star, star_token = await user_with_token("star")
    _, carol_token = await user_with_token("carol")  # alice follows star, not carol
    await follow(alice, star)
    await live_home(client, token, alice)
    carols = (await post_status(client, auth(carol_token), status="carol speaking")).json()
    with tuned(fanout_pull_threshold=0):
        async with socket(live_server, token, "stream=user") as ws:
            await until_listening(ws, streaming.user_channel(alice.id))
            reply = await post_status(client, auth(star_token), status="@carol indeed", in_reply_to_id=carols["id"])
            assert reply.status_code == 200, reply.text
            posted = (await post_status(client, auth(star_token), status="star speaking")).json()
            shown = assert_status_entity((await frame(ws))["payload"])
            assert shown["id"] == posted["id"]
            await no_frame(ws, 0.5)
            assert int(posted["id"]) not in await feed_store.ids(alice.id)
            # The fan-out run again (a redelivery) tells nobody twice, as with feed entries.
            from workers import feeds as feed_actors  # loaded by the worker pool, on the app's broker
            await fanout.distribute(int(posted["id"]), feed_actors.announcement,
                                    announcement_for=feed_actors.viewer_announcement)
            await no_frame(ws, 0.5)


async def test_a_boost_taken_back_while_its_fan_out_runs_does_not_stay_on_screen(client, live_server):
    """The boost's withdrawal can run beside its fan-out and tell the stream `delete` before the
    fan-out tells it `update`: the fan-out, once done, finds the boost gone and withdraws it
    again, so the stream ends without it and no feed keeps it."""
    alice, token = await user_with_token("alice")
    bob, bob_token = await user_with_token("bob")
    _, carol_token = await user_with_token("carol")
    await follow(alice, bob)
    await live_home(client, token, alice)
    carols = (await post_status(client, auth(carol_token), status="carol speaking")).json()
    boost_id = int(carols["id"]) + 1  # bob's boost, written straight in: its fan-out is run below
    async with db.session() as session:
        session.add(Status(id=boost_id, uri=f"https://example.test/boost/{boost_id}", account_id=bob.id,
                           reblog_of_id=int(carols["id"]), text="", content=""))
    await settled()
    from workers import feeds as feed_actors  # loaded by the worker pool, on the app's broker

    async def taken_back_meanwhile(session, status) -> str:
        message = await feed_actors.announcement(session, status)
        unboosted = await client.post(f"/api/v1/statuses/{carols['id']}/unreblog", headers=auth(bob_token))
        assert unboosted.status_code == 200, unboosted.text
        await settled()  # the withdrawal tells the stream before this fan-out does
        return message

    async with socket(live_server, token, "stream=user") as ws:
        await until_listening(ws, streaming.user_channel(alice.id))
        await fanout.distribute(boost_id, taken_back_meanwhile, announcement_for=feed_actors.viewer_announcement)
        told = [await frame(ws) for _ in range(3)]
        assert [(f["event"], f["event"] == "delete" or json.loads(f["payload"])["id"]) for f in told] == [
            ("delete", True), ("update", str(boost_id)), ("delete", True)]
        assert {f["payload"] for f in told if f["event"] == "delete"} == {str(boost_id)}
        await no_frame(ws, 0.3)
    assert boost_id not in await feed_store.ids(alice.id)


async def test_a_new_post_reaches_each_home_stream_with_that_viewers_own_flags(client, live_server):
    """As Mastodon renders a status for each viewer: a follower has not voted in a new poll, its
    author counts as having voted; a reply in a thread the follower muted shows as muted."""
    alice, token = await user_with_token("alice")
    bob, bob_token = await user_with_token("bob")
    await follow(alice, bob)
    for reader, reader_token in ((alice, token), (bob, bob_token)):
        await live_home(client, reader_token, reader)
    async with socket(live_server, token, "stream=user") as ws, socket(live_server, bob_token, "stream=user") as bobs_ws:
        for account, open_ws in ((alice, ws), (bob, bobs_ws)):
            await until_listening(open_ws, streaming.user_channel(account.id))
        posted = await post_status(client, auth(bob_token), status="which?",
                                   poll={"options": ["this", "that"], "expires_in": 3600})
        assert posted.status_code == 200, posted.text
        alices = assert_status_entity((await frame(ws))["payload"])["poll"]
        assert (alices["voted"], alices["own_votes"]) == (False, [])
        bobs = assert_status_entity((await frame(bobs_ws))["payload"])["poll"]
        assert bobs["voted"] is True
        # A reply in a thread alice muted reaches her marked so; trips none of her filters.
        assert (await client.post(f"/api/v1/statuses/{posted.json()['id']}/mute",
                                  headers=auth(token))).status_code == 200
        reply = await post_status(client, auth(bob_token), status="more", in_reply_to_id=posted.json()["id"])
        assert reply.status_code == 200, reply.text
        shown = assert_status_entity((await frame(ws))["payload"])
        assert (shown["id"], shown["muted"], shown["filtered"]) == (reply.json()["id"], True, [])
        assert assert_status_entity((await frame(bobs_ws))["payload"])["muted"] is False


async def test_a_boost_comes_to_each_home_stream_with_that_viewers_own_flags(client, live_server):
    """A boost is rendered once for the receivers who never touched the boosted post, and for
    each of the others on their own: their likes, bookmarks and poll votes show, and the
    booster's own stream says they boosted it."""
    alice, token = await user_with_token("alice")
    bob, bob_token = await user_with_token("bob")
    erin, erin_token = await user_with_token("erin")
    _, carol_token = await user_with_token("carol")
    for reader in (alice, erin):
        await follow(reader, bob)
    for reader, reader_token in ((alice, token), (erin, erin_token), (bob, bob_token)):
        await live_home(client, reader_token, reader)
    carols = (await post_status(client, auth(carol_token), status="worth a boost",
                                poll={"options": ["yes", "no"], "expires_in": 3600})).json()
    for action in ("favourite", "bookmark"):
        assert (await client.post(f"/api/v1/statuses/{carols['id']}/{action}", headers=auth(token))).status_code == 200
    voted = await client.post(f"/api/v1/polls/{carols['poll']['id']}/votes", json={"choices": ["1"]},
                              headers=auth(token))
    assert voted.status_code == 200, voted.text
    async with socket(live_server, token, "stream=user") as ws, \
            socket(live_server, erin_token, "stream=user") as erins_ws, \
            socket(live_server, bob_token, "stream=user") as bobs_ws:
        for account, open_ws in ((alice, ws), (erin, erins_ws), (bob, bobs_ws)):
            await until_listening(open_ws, streaming.user_channel(account.id))
        boosted = await client.post(f"/api/v1/statuses/{carols['id']}/reblog", headers=auth(bob_token))
        assert boosted.status_code == 200, boosted.text
        shown = assert_status_entity((await frame(ws))["payload"])
        assert shown["id"] == boosted.json()["id"] and shown["reblog"]["id"] == carols["id"]
        assert shown["favourited"] is True and shown["bookmarked"] is True  # alice's own, as Mastodon renders
        assert shown["reblog"]["favourited"] is True and shown["reblog"]["bookmarked"] is True
        assert shown["reblog"]["poll"]["voted"] is True and shown["reblog"]["poll"]["own_votes"] == [1]
        erins = assert_status_entity((await frame(erins_ws))["payload"])
        assert erins["id"] == shown["id"] and erins["reblog"]["content"] == shown["reblog"]["content"]
        assert not any(erins["reblog"][flag] for flag in ("favourited", "bookmarked", "reblogged", "muted"))
        assert erins["filtered"] == [] and erins["reblog"]["filtered"] == []
        assert erins["reblog"]["poll"]["voted"] is False and erins["reblog"]["poll"]["own_votes"] == []
        bobs = assert_status_entity((await frame(bobs_ws))["payload"])
        assert bobs["reblogged"] is True and bobs["reblog"]["reblogged"] is True


async def test_an_edit_comes_to_each_home_stream_with_that_viewers_own_flags_and_filters(client, live_server):
    """An edit's `status.update` is rendered once for the followers who never touched the post,
    and on its own for those whose flags or votes show on it, for its author, and for those
    with filters, whose matches of the new text it carries."""
    alice, token = await user_with_token("alice")
    bob, bob_token = await user_with_token("bob")
    erin, erin_token = await user_with_token("erin")
    frank, frank_token = await user_with_token("frank")
    for reader in (alice, erin, frank):
        await follow(reader, bob)
    for reader, reader_token in ((alice, token), (erin, erin_token), (frank, frank_token), (bob, bob_token)):
        await live_home(client, reader_token, reader)
    made = await client.post("/api/v2/filters", headers=auth(frank_token), json={
        "title": "Weather", "context": ["home"], "keywords_attributes": [{"keyword": "rain"}]})
    assert made.status_code == 200, made.text
    poll = {"options": ["yes", "no"], "expires_in": 3600}
    bobs = (await post_status(client, auth(bob_token), status="sunny all week?", poll=poll)).json()
    for action in ("favourite", "bookmark"):
        assert (await client.post(f"/api/v1/statuses/{bobs['id']}/{action}", headers=auth(token))).status_code == 200
    voted = await client.post(f"/api/v1/polls/{bobs['poll']['id']}/votes", json={"choices": ["0"]},
                              headers=auth(token))
    assert voted.status_code == 200, voted.text
    await settled()
    readers = ((alice, token), (erin, erin_token), (frank, frank_token), (bob, bob_token))
    async with contextlib.AsyncExitStack() as stack:
        streams = {}
        for reader, reader_token in readers:
            streams[reader.id] = await stack.enter_async_context(socket(live_server, reader_token, "stream=user"))
            await until_listening(streams[reader.id], streaming.user_channel(reader.id))
        edited = await client.put(f"/api/v1/statuses/{bobs['id']}", headers=auth(bob_token),
                                  json={"status": "sunny all week? no, rain", "poll": poll})
        assert edited.status_code == 200, edited.text
        shown = {}
        for reader, _ in readers:
            event = await frame(streams[reader.id])
            assert event["event"] == "status.update"
            shown[reader.id] = assert_status_entity(event["payload"])
            assert shown[reader.id]["id"] == bobs["id"] and "rain" in shown[reader.id]["content"]
    alices, erins, franks = shown[alice.id], shown[erin.id], shown[frank.id]
    assert alices["favourited"] is True and alices["bookmarked"] is True  # rendered for alice
    assert alices["poll"]["voted"] is True and alices["poll"]["own_votes"] == [0]
    for untouched in (erins, franks):
        assert not any(untouched[flag] for flag in ("favourited", "bookmarked", "reblogged", "muted"))
        assert untouched["poll"]["voted"] is False and untouched["poll"]["own_votes"] == []
    assert erins["filtered"] == [] and alices["filtered"] == []
    [result] = franks["filtered"]
    assert result["filter"]["title"] == "Weather" and result["keyword_matches"] == ["rain"]
    assert shown[bob.id]["poll"]["voted"] is True  # its author, as Mastodon shows a poll to its author


async def test_token_in_query_or_subprotocol_is_accepted_and_the_protocol_echoed(live_server):
    alice, token = await user_with_token("alice")
    async with socket(live_server, None, f"stream=user&access_token={token}") as ws:
        await until_listening(ws, streaming.user_channel(alice.id))
    async with connect(ws_url(live_server, "stream=user"), subprotocols=[token]) as ws:
        assert ws.subprotocol == token
        await until_listening(ws, streaming.user_channel(alice.id))
        await streaming.publish_to_user(alice.id, "update", "{}")
        assert (await frame(ws))["event"] == "update"


async def test_websocket_on_an_event_stream_path_and_with_a_trailing_slash(live_server):
    alice, token = await user_with_token("alice")
    base = live_server.replace("http://", "ws://")
    async with connect(f"{base}/api/v1/streaming/user", additional_headers=auth(token)) as ws:
        await until_listening(ws, streaming.user_channel(alice.id))
    async with connect(f"{base}/api/v1/streaming/?stream=user", additional_headers=auth(token)) as ws:
        await until_listening(ws, streaming.user_channel(alice.id))


async def test_kill_event_closes_the_tokens_streams(live_server):
    alice, token = await user_with_token("alice")
    async with db.session() as session:
        token_id = (await lookup(session, token)).token.id
    async with socket(live_server, token, "stream=user") as ws:
        await until_listening(ws, streaming.user_channel(alice.id))
        await streaming.disconnect_token(token_id)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), DEADLINE)
        assert closed.value.rcvd.code == 1008


async def test_revoking_a_token_through_the_api_closes_its_open_streams(live_server):
    alice, _ = await make_user("alice")
    application = await make_app()
    token = await token_for(alice, application=application)
    async with socket(live_server, token, "stream=user") as ws, httpx.AsyncClient(base_url=live_server) as client:
        await until_listening(ws, streaming.user_channel(alice.id))
        revoked = await client.post("/oauth/revoke", data={
            "client_id": application.client_id, "client_secret": application.client_secret, "token": token})
        assert revoked.status_code == 200, revoked.text
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), DEADLINE)  # long before the minute-long token re-check
        assert closed.value.rcvd.code == 1008


async def test_a_reused_code_and_a_refreshed_token_close_the_streams_of_what_they_revoke(client, live_server):
    alice, _ = await make_user("alice")
    app = await oauth_flow.register(client)
    await oauth_flow.sign_in(client)

    async def closed_by(revoke, token: str) -> None:
        async with socket(live_server, token, "stream=user") as ws:
            await until_listening(ws, streaming.user_channel(alice.id))
            await revoke()
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), DEADLINE)

    code = await oauth_flow.get_code(client, app)
    first = (await oauth_flow.exchange(client, app, code)).json()

    async def refresh():
        rotated = await client.post("/oauth/token", data={
            "grant_type": "refresh_token", "client_id": app["client_id"], "client_secret": app["client_secret"],
            "refresh_token": first["refresh_token"]})
        assert rotated.status_code == 200, rotated.text

    await closed_by(refresh, first["access_token"])  # rotation revokes the old access token

    code = await oauth_flow.get_code(client, app)
    second = (await oauth_flow.exchange(client, app, code)).json()

    async def reuse():
        assert (await oauth_flow.exchange(client, app, code)).status_code == 400  # refused, and revoking

    await closed_by(reuse, second["access_token"])


# -- WebSocket: refusals ----------------------------------------------------------------------------

async def refused(live_server, query: str = "", headers: dict | None = None) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as failure:
        async with connect(ws_url(live_server, query), additional_headers=headers or {}):
            pass
    return failure.value


async def test_missing_invalid_revoked_and_app_tokens_are_refused_before_upgrade(live_server):
    missing = await refused(live_server, "stream=public")
    assert missing.response.status_code == 401
    assert json.loads(missing.response.body) == {"error": "Missing access token"}

    bogus = await refused(live_server, "stream=public", auth("not-a-token"))
    assert bogus.response.status_code == 401 and json.loads(bogus.response.body) == {"error": "Invalid access token"}

    alice, token = await user_with_token("alice")
    async with db.session() as session:
        await tokens.revoke_for_account(session, alice.id)
    revoked = await refused(live_server, "stream=user", auth(token))
    assert revoked.response.status_code == 401

    app_only = await token_for(None, "read")
    assert (await refused(live_server, "stream=public", auth(app_only))).response.status_code == 401


async def test_a_repeated_query_parameter_counts_once_by_its_first_value(live_server):
    _, token = await user_with_token("alice")
    async with socket(live_server, token, "stream=hashtag&tag=cats&stream=nonsense&tag=dogs") as ws:
        await until_listening(ws, streaming.hashtag_channel("cats"))  # as Mastodon: the first ones


async def test_unknown_stream_is_an_error_frame_and_the_socket_stays_usable(live_server):
    _, token = await user_with_token("alice")
    async with socket(live_server, token, "stream=nonsense") as ws:
        assert await frame(ws) == {"error": "Unknown stream type", "status": 400}
        await ws.send(json.dumps({"type": "subscribe", "stream": "publicc"}))
        assert await frame(ws) == {"error": "Unknown stream type", "status": 400}
        await ws.send(json.dumps({"type": "subscribe", "stream": "hashtag"}))
        assert await frame(ws) == {"error": "Missing tag name parameter", "status": 400}
        await ws.send(json.dumps({"type": "subscribe", "stream": "list"}))
        assert await frame(ws) == {"error": "Missing list name parameter", "status": 400}
        # A tag is what a hashtag can be made of: a lone surrogate or a NUL is dropped (and alone,
        # is no tag at all), and "#cats!" listens where #cats is published.
        await ws.send('{"type": "subscribe", "stream": "hashtag", "tag": "\\ud800\\u0000"}')
        assert await frame(ws) == {"error": "Missing tag name parameter", "status": 400}
        await ws.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "#Cats!"}))
        await until_listening(ws, streaming.hashtag_channel("cats"))
        await ws.send(json.dumps({"type": "subscribe", "stream": "public"}))
        await until_listening(ws, streaming.PUBLIC)
        # A failed unsubscribe says only that (Mastodon's frame, with no status).
        for bad in ({"stream": "publicc"}, {"stream": "hashtag"}, {"stream": "list", "list": "999"}):
            await ws.send(json.dumps({"type": "unsubscribe", **bad}))
            assert await frame(ws) == {"error": "Error unsubscribing from channel"}, bad


async def test_token_lacking_the_scope_is_refused_per_stream(live_server):
    alice, token = await user_with_token("alice", scopes="read:statuses")
    async with socket(live_server, token, "stream=user:notification") as ws:
        assert await frame(ws) == {"error": "Access token does not have the required scopes", "status": 401}
        # The user stream works, without the notifications a read:statuses token may not read.
        await ws.send(json.dumps({"type": "subscribe", "stream": "user"}))
        await until_listening(ws, streaming.user_channel(alice.id))
        await streaming.publish_to_user(alice.id, "notification", {"id": "1"})
        await no_frame(ws, 0.5)

    _, write_only = await user_with_token("bob", scopes="write")
    async with socket(live_server, write_only, "stream=direct") as ws:
        assert await frame(ws) == {"error": "Access token does not have the required scopes", "status": 401}
        # As Mastodon, public and hashtag streams need no scope.
        await ws.send(json.dumps({"type": "subscribe", "stream": "public"}))
        await until_listening(ws, streaming.PUBLIC)
        await ws.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "cats"}))
        await until_listening(ws, streaming.hashtag_channel("cats"))


async def test_list_stream_of_someone_else_is_refused(live_server):
    alice, token = await user_with_token("alice")
    bob, _ = await user_with_token("bob")
    list_id = await make_list(bob)
    async with socket(live_server, token, f"stream=list&list={list_id}") as ws:
        assert await frame(ws) == {"error": "Not authorized to stream this list", "status": 401}
        await ws.send(json.dumps({"type": "subscribe", "stream": "list", "list": "not-a-number"}))
        assert await frame(ws) == {"error": "Not authorized to stream this list", "status": 401}
        await ws.send(json.dumps({"type": "subscribe", "stream": "list", "list": "999999999"}))  # no such list
        assert await frame(ws) == {"error": "Not authorized to stream this list", "status": 401}
        for beyond_bigint in ("9999999999999999999", "9223372036854775808"):
            await ws.send(json.dumps({"type": "subscribe", "stream": "list", "list": beyond_bigint}))
            assert await frame(ws) == {"error": "Not authorized to stream this list", "status": 401}
        await ws.send(json.dumps({"type": "subscribe", "stream": "public"}))
        await until_listening(ws, streaming.PUBLIC)  # the socket is still alive

    # Its owner may.
    bob_token = await token_for(bob)
    async with socket(live_server, bob_token, f"stream=list&list={list_id}") as ws:
        await until_listening(ws, streaming.list_channel(list_id))
        await streaming.publish_to_list(list_id, "update", {"id": "3"})
        assert await frame(ws) == {"stream": ["list", str(list_id)], "event": "update", "payload": '{"id":"3"}'}


async def test_blocking_a_list_member_withdraws_their_posts_from_the_list_stream(client, live_server):
    """The block ends the follow, and with it the membership: the list shows carol's posts no
    more, and its open stream is told so (Mastodon's clear_from_list), as home's is."""
    alice, token = await user_with_token("alice")
    carol, carol_token = await user_with_token("carol")
    await follow(alice, carol)
    made = await client.post("/api/v1/lists", json={"title": "Carol"}, headers=auth(token))
    list_id = made.json()["id"]
    added = await client.post(f"/api/v1/lists/{list_id}/accounts", json={"account_ids": [str(carol.id)]},
                              headers=auth(token))
    assert added.status_code == 200, added.text
    carols = (await post_status(client, auth(carol_token), status="carol speaking")).json()
    await settled()
    async with socket(live_server, token, f"stream=list&list={list_id}") as ws:
        await until_listening(ws, streaming.list_channel(int(list_id)))
        assert (await client.post(f"/api/v1/accounts/{carol.id}/block", headers=auth(token))).status_code == 200
        assert await frame(ws) == {"stream": ["list", list_id], "event": "delete", "payload": carols["id"]}
    assert (await client.get(f"/api/v1/timelines/list/{list_id}", headers=auth(token))).json() == []


async def test_list_stream_gets_new_posts_of_its_members_by_its_rules(client, live_server):
    """A post of a list member reaches the list's open stream as `update` (lists are read at
    read time, yet their streams hear of posts as Mastodon's do), unless the list's
    replies_policy keeps it out; posts of non-members never come."""
    alice, token = await user_with_token("alice")
    bob, bob_token = await user_with_token("bob")
    _, carol_token = await user_with_token("carol")
    await follow(alice, bob)
    made = await client.post("/api/v1/lists", json={"title": "Bob", "replies_policy": "none"}, headers=auth(token))
    list_id = made.json()["id"]
    added = await client.post(f"/api/v1/lists/{list_id}/accounts", json={"account_ids": [str(bob.id)]},
                              headers=auth(token))
    assert added.status_code == 200, added.text
    async with socket(live_server, token, f"stream=list&list={list_id}") as ws:
        await until_listening(ws, streaming.list_channel(int(list_id)))
        question = (await post_status(client, auth(carol_token), status="carol asks")).json()
        await post_status(client, auth(bob_token), status="@carol answer", in_reply_to_id=question["id"])
        posted = (await post_status(client, auth(bob_token), status="bob speaking", visibility="private")).json()
        update = await frame(ws)
        assert update["stream"] == ["list", list_id] and update["event"] == "update"
        assert assert_status_entity(update["payload"])["id"] == posted["id"]  # not carol's, not the reply
        await no_frame(ws, 0.5)
        async with db.session() as session:
            await blocks.mute(session, alice.id, bob.id)  # as the list timeline hides him now, so does its stream
        # his post on the list goes (Mastodon's clear_from_lists), and his next one never comes
        assert await frame(ws) == {"stream": ["list", list_id], "event": "delete", "payload": posted["id"]}
        await post_status(client, auth(bob_token), status="muted now")
        await settled()
        await no_frame(ws, 0.5)


async def test_a_boost_the_list_holds_back_is_not_sent_to_its_stream(client, live_server):
    """As Mastodon's push_to_list: a boost the list's timeline holds back (its post is right
    under it) is no news on the list's stream either; a first boost of an outside post is."""
    alice, token = await user_with_token("alice")
    bob, bob_token = await user_with_token("bob")
    carol, carol_token = await user_with_token("carol")
    _, erin_token = await user_with_token("erin")  # not a member
    for target in (bob, carol):
        await follow(alice, target)
    made = await client.post("/api/v1/lists", json={"title": "Friends"}, headers=auth(token))
    list_id = made.json()["id"]
    await client.post(f"/api/v1/lists/{list_id}/accounts", json={"account_ids": [str(bob.id), str(carol.id)]},
                      headers=auth(token))
    bobs = (await post_status(client, auth(bob_token), status="bob's post")).json()
    erins = (await post_status(client, auth(erin_token), status="erin's post")).json()
    await settled()
    async with socket(live_server, token, f"stream=list&list={list_id}") as ws:
        await until_listening(ws, streaming.list_channel(int(list_id)))
        assert (await client.post(f"/api/v1/statuses/{bobs['id']}/reblog", headers=auth(carol_token))).status_code == 200
        await settled()
        await no_frame(ws, 0.5)
        boosted = await client.post(f"/api/v1/statuses/{erins['id']}/reblog", headers=auth(carol_token))
        update = await frame(ws)
        assert update["event"] == "update" and assert_status_entity(update["payload"])["id"] == boosted.json()["id"]
        assert (await client.post(f"/api/v1/statuses/{erins['id']}/reblog", headers=auth(bob_token))).status_code == 200
        await settled()
        await no_frame(ws, 0.5)


async def test_a_list_stream_is_rendered_for_its_owner_and_hears_edits_and_deletions(client, live_server):
    """As Mastodon: a list stream's events carry its owner's filter matches and flags, an
    edited member's post comes again as `status.update` and a deleted one as `delete`."""
    alice, token = await user_with_token("alice")
    bob, bob_token = await user_with_token("bob")
    _, dave_token = await user_with_token("dave")
    await follow(alice, bob)
    made = await client.post("/api/v1/lists", json={"title": "Bob"}, headers=auth(token))
    list_id = made.json()["id"]
    await client.post(f"/api/v1/lists/{list_id}/accounts", json={"account_ids": [str(bob.id)]}, headers=auth(token))
    kept = await client.post("/api/v2/filters", headers=auth(token), json={
        "title": "Plans", "context": ["home"], "filter_action": "warn", "keywords_attributes": [{"keyword": "secret"}]})
    assert kept.status_code == 200, kept.text
    elsewhere = (await post_status(client, auth(dave_token), status="dave speaking")).json()
    assert (await client.post(f"/api/v1/statuses/{elsewhere['id']}/favourite", headers=auth(token))).status_code == 200
    async with socket(live_server, token, f"stream=list&list={list_id}") as ws:
        await until_listening(ws, streaming.list_channel(int(list_id)))
        posted = (await post_status(client, auth(bob_token), status="a secret plan")).json()
        update = await frame(ws)
        assert update["stream"] == ["list", list_id] and update["event"] == "update"
        shown = assert_status_entity(update["payload"])
        assert [(f["filter"]["title"], f["keyword_matches"]) for f in shown["filtered"]] == [("Plans", ["secret"])]

        edited = await client.put(f"/api/v1/statuses/{posted['id']}", json={"status": "a plain plan"},
                                  headers=auth(bob_token))
        assert edited.status_code == 200, edited.text
        change = await frame(ws)
        assert change["stream"] == ["list", list_id] and change["event"] == "status.update"
        shown = assert_status_entity(change["payload"])
        assert shown["id"] == posted["id"] and "a plain plan" in shown["content"] and shown["filtered"] == []

        boost = (await client.post(f"/api/v1/statuses/{elsewhere['id']}/reblog", headers=auth(bob_token))).json()
        shown = assert_status_entity((await frame(ws))["payload"])
        assert shown["id"] == boost["id"] and shown["reblog"]["favourited"] is True  # alice's own flag

        assert (await client.delete(f"/api/v1/statuses/{posted['id']}", headers=auth(bob_token))).status_code == 200
        assert await frame(ws) == {"stream": ["list", list_id], "event": "delete", "payload": posted["id"]}
        await no_frame(ws, 0.5)


async def test_members_of_an_exclusive_list_post_to_the_list_stream_not_the_home_stream(client, live_server):
    alice, token = await user_with_token("alice")
    bob, bob_token = await user_with_token("bob")
    carol, carol_token = await user_with_token("carol")
    for followed in (bob, carol):
        await follow(alice, followed)
    made = await client.post("/api/v1/lists", json={"title": "Bob only", "exclusive": True}, headers=auth(token))
    list_id = made.json()["id"]
    # alice is in her own list too: her posts reach the list and still her home (as Mastodon).
    added = await client.post(f"/api/v1/lists/{list_id}/accounts", json={"account_ids": [str(bob.id), str(alice.id)]},
                              headers=auth(token))
    assert added.status_code == 200, added.text
    await live_home(client, token, alice)
    async with socket(live_server, token, "stream=user") as home, \
            socket(live_server, token, f"stream=list&list={list_id}") as listed:
        await until_listening(home, streaming.user_channel(alice.id))
        await until_listening(listed, streaming.list_channel(int(list_id)))
        bobs = (await post_status(client, auth(bob_token), status="for the list")).json()
        carols = (await post_status(client, auth(carol_token), status="for home")).json()
        assert json.loads((await frame(listed))["payload"])["id"] == bobs["id"]
        assert json.loads((await frame(home))["payload"])["id"] == carols["id"]  # not bob's first
        await no_frame(home, 0.5)
        own = (await post_status(client, auth(token), status="mine")).json()
        assert json.loads((await frame(home))["payload"])["id"] == own["id"]
        assert json.loads((await frame(listed))["payload"])["id"] == own["id"]
        # bob's edit goes where his post went: the list stream, not home (it said so before)
        edited = await client.put(f"/api/v1/statuses/{bobs['id']}", json={"status": "for the list, edited"},
                                  headers=auth(bob_token))
        assert edited.status_code == 200, edited.text
        change = await frame(listed)
        assert change["event"] == "status.update" and json.loads(change["payload"])["id"] == bobs["id"]
        await no_frame(home, 0.5)
    home_ids = [s["id"] for s in (await client.get("/api/v1/timelines/home", headers=auth(token))).json()]
    assert home_ids == [own["id"], carols["id"]]


async def test_direct_stream_gets_the_conversation_of_a_direct_post(client, live_server):
    alice, alice_token = await user_with_token("alice")
    bob, token = await user_with_token("bob")
    await follow(bob, alice)  # a direct post from someone bob does not follow would be filtered
    async with socket(live_server, token, "stream=direct") as ws:
        await until_listening(ws, streaming.direct_channel(bob.id))
        await post_status(client, auth(alice_token), status="@bob out loud")  # public: no conversation
        posted = (await post_status(client, auth(alice_token), status="@bob psst", visibility="direct")).json()
        event = await frame(ws)
        assert event["stream"] == ["direct"] and event["event"] == "conversation"
        conversation = json.loads(event["payload"])
        assert conversation["unread"] is True and [a["id"] for a in conversation["accounts"]] == [str(alice.id)]
        assert conversation["last_status"]["id"] == posted["id"]
        listed = (await client.get("/api/v1/conversations", headers=auth(token))).json()
        assert [c["id"] for c in listed] == [conversation["id"]]
        await no_frame(ws, 0.5)
        # Read on one device: the others' streams hear it (as Mastodon streams every change).
        read = await client.post(f"/api/v1/conversations/{conversation['id']}/read", headers=auth(token))
        assert read.status_code == 200, read.text
        event = await frame(ws)
        assert event["event"] == "conversation" and json.loads(event["payload"]) == read.json()
        assert read.json()["unread"] is False
        # Another message, then deleted: the conversation comes again with the first one last.
        second = (await post_status(client, auth(alice_token), status="@bob psst again", visibility="direct",
                                    in_reply_to_id=posted["id"])).json()
        assert json.loads((await frame(ws))["payload"])["last_status"]["id"] == second["id"]
        assert (await client.delete(f"/api/v1/statuses/{second['id']}", headers=auth(alice_token))).status_code == 200
        event = await frame(ws)
        assert event["event"] == "conversation"
        assert json.loads(event["payload"])["last_status"]["id"] == posted["id"]


async def test_too_many_subscriptions_on_one_socket(live_server):
    _, token = await user_with_token("alice")
    async with socket(live_server, token) as ws:
        for n in range(MAX_SUBSCRIPTIONS):
            await ws.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": f"tag{n}"}))
        await ws.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "tag0"}))  # already: fine
        await ws.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "onemore"}))
        assert await frame(ws) == {"error": f"Too many subscriptions on this connection (at most {MAX_SUBSCRIPTIONS})",
                                   "status": 400}
        await until_listening(ws, streaming.hashtag_channel(f"tag{MAX_SUBSCRIPTIONS - 1}"))
        # Unsubscribing one makes room again.
        await ws.send(json.dumps({"type": "unsubscribe", "stream": "hashtag", "tag": "tag0"}))
        await ws.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "onemore"}))
        await until_listening(ws, streaming.hashtag_channel("onemore"))


async def test_messages_other_than_subscriptions_are_ignored_and_binary_ones_close_the_socket(live_server):
    """As Mastodon's streaming server: text that is not a subscribe or unsubscribe (a client's
    keep-alive, say) gets no answer at all, since some client libraries end every subscription on
    any error frame; a binary message closes the socket with 1003."""
    _, token = await user_with_token("alice")
    async with socket(live_server, token) as ws:
        for ignored in ("not json", "[1, 2]", '"subscribe"', json.dumps({"type": "ping"}),
                        json.dumps({"type": "dance", "stream": "public"}), json.dumps({"stream": "public"})):
            await ws.send(ignored)
        await no_frame(ws, 0.5)
        await ws.send(json.dumps({"type": "subscribe", "stream": ["public"]}))  # Mastodon's list form
        await until_listening(ws, streaming.PUBLIC)
        await ws.send(b"\xff\xfe binary")
        with pytest.raises(ConnectionClosed) as closed:
            await frame(ws)
        assert closed.value.rcvd.code == 1003


# -- server-sent events -----------------------------------------------------------------------------

class EventStreamReader:
    """Lines of an open event stream, read by a background task (so a timed-out wait loses nothing)."""

    def __init__(self, response: httpx.Response):
        self.lines: asyncio.Queue[str] = asyncio.Queue()
        self.task = asyncio.create_task(self._read(response))

    async def _read(self, response: httpx.Response) -> None:
        async for line in response.aiter_lines():
            await self.lines.put(line)

    async def line(self, deadline: float = DEADLINE) -> str:
        return await asyncio.wait_for(self.lines.get(), deadline)

    async def events(self, count: int) -> list[tuple[str, str]]:
        """The next `count` (event, data) pairs, heartbeats and probes skipped."""
        found: list[tuple[str, str]] = []
        name = None
        while len(found) < count:
            line = await self.line()
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name is not None:
                if name != PROBE:
                    found.append((name, line[6:]))
                name = None
        return found

    async def until_listening(self, channel: str) -> None:
        assert await self.line() == ":)"
        for _ in range(int(DEADLINE / 0.1)):
            await streaming.publish(channel, PROBE)
            try:
                if await self.line(0.1) == f"event: {PROBE}":
                    return
            except asyncio.TimeoutError:
                continue
        raise AssertionError(f"the event stream never listened on {channel}")

    def close(self) -> None:
        self.task.cancel()


@asynccontextmanager
async def event_stream(http: httpx.AsyncClient, path: str, **options):
    async with http.stream("GET", path, **options) as response:
        reader = EventStreamReader(response)
        try:
            yield response, reader
        finally:
            reader.close()


async def test_server_sent_events_for_public_hashtag_and_user(client, live_server):
    alice, token = await user_with_token("alice")
    async with httpx.AsyncClient(base_url=live_server, timeout=DEADLINE) as http:
        async with event_stream(http, "/api/v1/streaming/hashtag", params={"tag": "news"},
                                headers=auth(token)) as (response, sse):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            await sse.until_listening(streaming.hashtag_channel("news"))
            posted = (await post_status(client, auth(token), status="#news at eleven")).json()
            [(event, data)] = await sse.events(1)
            assert event == "update" and assert_status_entity(data)["id"] == posted["id"]
            await post_status(client, auth(token), status="not tagged")
            await client.delete(f"/api/v1/statuses/{posted['id']}", headers=auth(token))
            assert await sse.events(1) == [("delete", posted["id"])]
        await settled()  # the delete's withdrawal from alice's own feed tells her user stream too

        async with event_stream(http, "/api/v1/streaming/user", headers=auth(token)) as (_, sse):
            await sse.until_listening(streaming.user_channel(alice.id))
            await streaming.publish_to_user(alice.id, "notification", {"id": "5", "type": "follow"})
            await streaming.publish_to_user(alice.id, "filters_changed")
            assert await sse.events(2) == [("notification", '{"id":"5","type":"follow"}'),
                                           ("filters_changed", "undefined")]

        async with event_stream(http, "/api/v1/streaming/public/local", params={"access_token": token}) as (_, sse):
            await sse.until_listening(streaming.PUBLIC_LOCAL)


async def test_server_sent_event_refusals(client, live_server):
    _, token = await user_with_token("alice")
    _, weak = await user_with_token("bob", scopes="read:accounts")
    bob_list = await make_list((await make_user("carol"))[0])
    cases = [
        ("/api/v1/streaming/public", {}, {}, 401, "Missing access token"),
        ("/api/v1/streaming/public", {}, auth("nope"), 401, "Invalid access token"),
        ("/api/v1/streaming/user", {}, auth(weak), 401, "Access token does not have the required scopes"),
        ("/api/v1/streaming/hashtag", {}, auth(token), 400, "Missing tag name parameter"),
        ("/api/v1/streaming/list", {}, auth(token), 400, "Missing list name parameter"),
        ("/api/v1/streaming/list", {"list": str(bob_list)}, auth(token), 401, "Not authorized to stream this list"),
        ("/api/v1/streaming/list", {"list": "9999999999999999999"}, auth(token), 401,
         "Not authorized to stream this list"),
        ("/api/v1/streaming/nonsense", {}, auth(token), 400, "Unknown channel requested"),
        ("/api/v1/streaming/public/nonsense", {}, {}, 400, "Unknown channel requested"),
        ("/api/v1/streaming", {"stream": "public"}, auth(token), 400, "Unknown channel requested"),
    ]
    async with httpx.AsyncClient(base_url=live_server, timeout=DEADLINE) as http:
        for path, params, headers, status, message in cases:
            response = await http.get(path, params=params, headers=headers)
            assert (response.status_code, response.json()) == (status, {"error": message}), path
            if status != 400:  # Mastodon's streaming server answers 400 here; the description lists only 422
                assert_matches_spec(response, "GET", path)


# -- lists ------------------------------------------------------------------------------------------

async def make_list(owner) -> int:
    async with db.session() as session:
        made = List(account_id=owner.id, title="mine")
        session.add(made)
        await session.flush()
        return made.id
