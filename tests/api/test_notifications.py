"""Notifications v1: every type produced by driving the real API, who is (not) told, the list
endpoints with their filters and pagination, the worker's idempotency, and the stream event.

Notifications are made by the `notify` worker running in the test process, so tests wait
for them (`eventually`) or for every deferred job to have run (`settled`) before asserting
that nothing was created.
"""
from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import update

from app import db
from app.models import Favourite, Marker, Notification, OutboxJob, Poll, User
from app.models.base import utcnow
from app.services import notifications, streaming
from tests.api.test_streaming import frame, no_frame, socket, until_listening
from tests.support.links import cursors
from tests.support.openapi import assert_matches_spec, spec
from tests.support.polling import eventually, outbox_size, settled
from tests.support.world import bearer, make_user, mastodon_for, post_status, token_for
from workers.runtime import claim, sweep_outbox_once


async def person(name: str, *, locked: bool = False):
    account, _ = await make_user(name)
    if locked:
        async with db.session() as session:
            account.locked = True
            session.add(account)
    return account, bearer(await token_for(account))


async def listing(client, headers, **params):
    response = await client.get("/api/v1/notifications", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", "/api/v1/notifications")
    return response.json()


async def wait_for(client, headers, count: int = 1, **params) -> list[dict]:
    async def probe():
        return await listing(client, headers, **params)
    return await eventually(probe, until=lambda items: len(items) >= count)


async def nothing_for(client, headers) -> None:
    """Every deferred job has run and none of them notified `headers`' owner."""
    await settled()
    assert await listing(client, headers) == []


# -- each type, from the real API ------------------------------------------------------------------

async def test_a_mention_notifies_the_mentioned_account(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    posted = (await post_status(client, bob_h, status="hello @alice")).json()

    [item] = await wait_for(client, alice_h)
    assert item["type"] == "mention"
    assert item["account"]["id"] == str(bob.id)
    assert item["status"]["id"] == posted["id"]
    assert item["group_key"] == f"ungrouped-{item['id']}"  # mentions are never grouped

    one = await client.get(f"/api/v1/notifications/{item['id']}", headers=alice_h)
    assert one.status_code == 200 and one.json() == item
    assert_matches_spec(one, "GET", "/api/v1/notifications/{id}")
    await settled()
    assert await listing(client, bob_h) == []  # the author is not told about their own post


async def test_a_notify_follow_gets_a_status_notification_but_not_for_replies_to_others(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    carol, carol_h = await person("carol")
    followed = await client.post(f"/api/v1/accounts/{bob.id}/follow", json={"notify": True}, headers=alice_h)
    assert followed.status_code == 200 and followed.json()["notifying"] is True

    first = (await post_status(client, bob_h, status="news from bob")).json()
    [item] = await wait_for(client, alice_h, types=["status"])
    assert item["type"] == "status" and item["status"]["id"] == first["id"]

    other = (await post_status(client, carol_h, status="carol speaks")).json()
    await post_status(client, bob_h, status="a reply to carol", in_reply_to_id=other["id"])
    thread = (await post_status(client, bob_h, status="and a self-reply", in_reply_to_id=first["id"])).json()
    await settled()
    statuses = await listing(client, alice_h, **{"types[]": "status"})
    assert [n["status"]["id"] for n in statuses] == [thread["id"], first["id"]]


async def test_a_subscriber_hears_only_of_posts_their_home_takes(client):
    """As Mastodon, the bell follows the home feed's rules: a mute (even one that leaves
    notifications on), a mention of someone blocked or muted, or another language: no `status`."""
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    dave, dave_h = await person("dave")
    carol, _ = await person("carol")
    for target, options in ((bob, {"notify": True, "languages": ["de"]}), (dave, {"notify": True})):
        followed = await client.post(f"/api/v1/accounts/{target.id}/follow", json=options, headers=alice_h)
        assert followed.status_code == 200, followed.text
    assert (await client.post(f"/api/v1/accounts/{carol.id}/block", headers=alice_h)).status_code == 200
    german = (await post_status(client, bob_h, status="hallo", language="de")).json()
    await post_status(client, bob_h, status="hello", language="en")
    await post_status(client, dave_h, status="hi @carol")
    muted = await client.post(f"/api/v1/accounts/{dave.id}/mute", json={"notifications": False}, headers=alice_h)
    assert muted.status_code == 200, muted.text
    await post_status(client, dave_h, status="dave while muted")
    await settled()
    statuses = await listing(client, alice_h, **{"types[]": "status"})
    assert [n["status"]["id"] for n in statuses] == [german["id"]]


async def test_one_subscribers_block_leaves_the_others_told(client):
    """The rule is each subscriber's own: erin blocks the account a post mentions and hears
    nothing of it; alice, who blocks no one, still does."""
    alice, alice_h = await person("alice")
    erin, erin_h = await person("erin")
    dave, dave_h = await person("dave")
    carol, _ = await person("carol")
    for headers in (alice_h, erin_h):
        followed = await client.post(f"/api/v1/accounts/{dave.id}/follow", json={"notify": True}, headers=headers)
        assert followed.status_code == 200, followed.text
    assert (await client.post(f"/api/v1/accounts/{carol.id}/block", headers=erin_h)).status_code == 200
    posted = (await post_status(client, dave_h, status="hi @carol")).json()
    [item] = await wait_for(client, alice_h, types=["status"])
    assert item["status"]["id"] == posted["id"]
    await settled()
    assert await listing(client, erin_h, **{"types[]": "status"}) == []


async def test_following_notifies_and_unfollowing_takes_it_back(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    assert (await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice_h)).status_code == 200

    [item] = await wait_for(client, bob_h)
    assert item["type"] == "follow" and item["account"]["id"] == str(alice.id)
    assert "status" not in item
    assert item["group_key"].startswith("follow-")

    # Following again changes nothing and notifies nobody twice.
    await client.post(f"/api/v1/accounts/{bob.id}/follow", json={"reblogs": False}, headers=alice_h)
    await settled()
    assert len(await listing(client, bob_h)) == 1

    await client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=alice_h)
    assert await listing(client, bob_h) == []  # as Mastodon: the follow's notification goes with it


async def test_a_locked_account_gets_a_follow_request_that_goes_once_answered(client):
    alice, alice_h = await person("alice")
    carol, carol_h = await person("carol", locked=True)
    await client.post(f"/api/v1/accounts/{carol.id}/follow", headers=alice_h)

    [item] = await wait_for(client, carol_h)
    assert item["type"] == "follow_request" and item["account"]["id"] == str(alice.id)

    accepted = await client.post(f"/api/v1/follow_requests/{alice.id}/authorize", headers=carol_h)
    assert accepted.status_code == 200
    await settled()
    assert await listing(client, carol_h) == []  # accepting notifies nobody of a "follow"


async def test_a_poll_ending_notifies_voters_and_the_author(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    posted = (await post_status(client, bob_h, status="tea or coffee?",
                                poll={"options": ["tea", "coffee"], "expires_in": 300})).json()
    voted = await client.post(f"/api/v1/polls/{posted['poll']['id']}/votes", json={"choices": [1]}, headers=alice_h)
    assert voted.status_code == 200

    # A short expiry: the poll ends a moment from now, then the periodic check runs.
    async with db.session() as session:
        await session.execute(update(Poll).where(Poll.id == int(posted["poll"]["id"]))
                              .values(expires_at=utcnow() + timedelta(milliseconds=300)))
    await settled()
    assert await listing(client, alice_h) == []  # not before it ends
    await asyncio.sleep(0.4)
    await notifications.defer_ended_polls()

    for headers in (alice_h, bob_h):
        [item] = await wait_for(client, headers)
        assert item["type"] == "poll" and item["account"]["id"] == str(bob.id)
        assert item["status"]["id"] == posted["id"] and item["status"]["poll"]["expired"] is True

    assert await notifications.defer_ended_polls() == 0  # each poll is found once
    await settled()
    assert len(await listing(client, alice_h)) == 1


async def test_editing_a_boosted_post_notifies_who_boosted_it(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    carol, carol_h = await person("carol")
    posted = (await post_status(client, alice_h, status="first version")).json()
    assert (await client.post(f"/api/v1/statuses/{posted['id']}/reblog", headers=bob_h)).status_code == 200
    assert (await client.post(f"/api/v1/statuses/{posted['id']}/favourite", headers=carol_h)).status_code == 200

    edited = await client.put(f"/api/v1/statuses/{posted['id']}", json={"status": "second version"}, headers=alice_h)
    assert edited.status_code == 200
    [item] = await wait_for(client, bob_h)
    assert item["type"] == "update" and item["account"]["id"] == str(alice.id)
    assert "second version" in item["status"]["content"]
    await settled()
    assert await listing(client, carol_h) == []  # only boosters are told, as Mastodon

    await client.put(f"/api/v1/statuses/{posted['id']}", json={"status": "third version"}, headers=alice_h)
    await settled()
    # As Mastodon, the newest edit's notification replaces the earlier ones: one per post.
    [latest] = await listing(client, bob_h)
    assert latest["type"] == "update" and latest["id"] != item["id"]
    assert (await client.get(f"/api/v1/notifications/{item['id']}", headers=bob_h)).status_code == 404


async def test_favourites_and_boosts_notify_the_author_and_show_the_post(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    posted = (await post_status(client, alice_h, status="like me")).json()
    await client.post(f"/api/v1/statuses/{posted['id']}/favourite", headers=bob_h)
    await client.post(f"/api/v1/statuses/{posted['id']}/reblog", headers=bob_h)

    items = await wait_for(client, alice_h, 2)
    assert sorted(n["type"] for n in items) == ["favourite", "reblog"]
    assert all(n["status"]["id"] == posted["id"] for n in items)  # the boosted post, not the boost

    await client.post(f"/api/v1/statuses/{posted['id']}/unfavourite", headers=bob_h)
    await client.post(f"/api/v1/statuses/{posted['id']}/unreblog", headers=bob_h)
    assert await listing(client, alice_h) == []


# -- who is not told -------------------------------------------------------------------------------

async def test_a_mention_from_a_blocked_account_creates_nothing(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    assert (await client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice_h)).status_code == 200
    await post_status(client, bob_h, status="@alice can you hear me")
    await nothing_for(client, alice_h)


async def test_blocking_removes_what_the_blocked_account_caused_for_good(client):
    """As Mastodon's AfterBlockService: the blocker's notifications from the blocked account go,
    of every type, held-back ones (and so their request) too; lifting the block brings none back."""
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    carol, carol_h = await person("carol")
    posted = (await post_status(client, alice_h, status="like me")).json()
    assert (await client.post(f"/api/v1/statuses/{posted['id']}/favourite", headers=bob_h)).status_code == 200
    await post_status(client, bob_h, status="@alice hello")
    await post_status(client, bob_h, status="@alice a private word", visibility="direct")  # held back: a request
    assert (await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob_h)).status_code == 200
    await post_status(client, carol_h, status="@alice from carol")
    await settled()

    async def seen() -> dict:
        v2 = await client.get("/api/v2/notifications", headers=alice_h)
        assert v2.status_code == 200
        assert_matches_spec(v2, "GET", "/api/v2/notifications")
        counts = [(await client.get(f"/api/{version}/notifications/unread_count", headers=alice_h)).json()["count"]
                  for version in ("v1", "v2")]
        requests = (await client.get("/api/v1/notifications/requests", headers=alice_h)).json()
        names = {a["id"]: a["username"] for a in v2.json()["accounts"]}
        senders = [names[i] for g in v2.json()["notification_groups"] for i in g["sample_account_ids"]]
        return {"v1": sorted(n["account"]["username"] for n in await listing(client, alice_h)),
                "v2": sorted(senders), "counts": counts,
                "requests": [r["account"]["username"] for r in requests]}

    assert await seen() == {"v1": ["bob", "bob", "bob", "carol"], "v2": ["bob", "bob", "bob", "carol"],
                            "counts": [4, 4],
                            "requests": ["bob"]}
    assert (await client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice_h)).status_code == 200
    after_block = {"v1": ["carol"], "v2": ["carol"], "counts": [1, 1], "requests": []}
    assert await seen() == after_block
    assert (await client.post(f"/api/v1/accounts/{bob.id}/unblock", headers=alice_h)).status_code == 200
    assert await seen() == after_block
    assert await listing(client, alice_h, include_filtered="true", account_id=str(bob.id)) == []
    assert len(await listing(client, bob_h)) == 0  # the blocked account's own notifications are theirs


async def test_a_mute_hides_notifications_only_when_asked_to(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    carol, carol_h = await person("carol")
    await client.post(f"/api/v1/accounts/{bob.id}/mute", headers=alice_h)  # notifications: true by default
    await client.post(f"/api/v1/accounts/{carol.id}/mute", json={"notifications": False}, headers=alice_h)
    await post_status(client, bob_h, status="@alice psst")
    await post_status(client, carol_h, status="@alice hey")
    await settled()
    assert [n["account"]["id"] for n in await listing(client, alice_h)] == [str(carol.id)]


async def test_a_mention_from_staff_who_outrank_you_passes_mutes_but_not_a_block(client):
    """As Mastodon's NotifyService: a moderator's message reaches a user who mutes them, or the
    thread, or someone else in the post. Likes are not messages; and a moderator does not
    outrank an admin. A block still stops it here (blocks hide posts both ways)."""
    bob, bob_h = await person("bob")
    mallory, mallory_h = await person("mallory")
    carol, carol_h = await person("carol")
    dora, dora_h = await person("dora")
    mona, mona_h = await person("mona")
    async with db.session() as session:
        for account, role in ((dora, "admin"), (mona, "moderator")):
            await session.execute(update(User).where(User.account_id == account.id).values(role=role))
    for muted in (dora, mona):
        assert (await client.post(f"/api/v1/accounts/{muted.id}/mute", headers=bob_h)).status_code == 200
    assert (await client.post(f"/api/v1/accounts/{mona.id}/mute", headers=dora_h)).status_code == 200
    assert (await client.post(f"/api/v1/accounts/{mallory.id}/block", headers=bob_h)).status_code == 200
    assert (await client.post(f"/api/v1/accounts/{dora.id}/block", headers=carol_h)).status_code == 200
    thread = (await post_status(client, bob_h, status="my thread")).json()
    assert (await client.post(f"/api/v1/statuses/{thread['id']}/mute", headers=bob_h)).status_code == 200
    flamebait = (await post_status(client, mallory_h, status="flamebait")).json()

    by_dora = [(await post_status(client, dora_h, **data)).json()["id"] for data in (
        {"status": "@bob a word from the moderators"},
        {"status": "@bob in your muted thread", "in_reply_to_id": thread["id"]},
        {"status": "@bob about this", "in_reply_to_id": flamebait["id"]},
        {"status": "@bob privately", "visibility": "direct"})]
    assert (await client.post(f"/api/v1/statuses/{thread['id']}/favourite", headers=dora_h)).status_code == 200
    by_mona = (await post_status(client, mona_h, status="@bob @dora @carol from a moderator")).json()["id"]
    await post_status(client, dora_h, status="@carol you blocked me")
    await settled()

    told = await listing(client, bob_h)
    assert [(n["type"], n["status"]["id"]) for n in told] == [("mention", by_mona)] + [
        ("mention", status_id) for status_id in reversed(by_dora)]
    [conversation] = (await client.get("/api/v1/conversations", headers=bob_h)).json()
    assert conversation["last_status"]["id"] == by_dora[-1]
    assert await listing(client, dora_h) == []
    assert [n["status"]["id"] for n in await listing(client, carol_h)] == [by_mona]


async def test_a_private_post_mentioning_someone_who_may_not_see_it_creates_nothing(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    # bob blocks alice, then mentions her in a private post she may not see.
    await client.post(f"/api/v1/accounts/{alice.id}/block", headers=bob_h)
    posted = await post_status(client, bob_h, status="@alice you will not see this", visibility="private")
    assert posted.status_code == 200
    await nothing_for(client, alice_h)


async def test_a_muted_conversation_is_silent(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    root = (await post_status(client, alice_h, status="a thread")).json()
    assert (await client.post(f"/api/v1/statuses/{root['id']}/mute", headers=alice_h)).status_code == 200
    await post_status(client, bob_h, status="@alice a reply", in_reply_to_id=root["id"])
    await client.post(f"/api/v1/statuses/{root['id']}/favourite", headers=bob_h)
    await nothing_for(client, alice_h)


async def test_a_mention_replying_to_someone_the_recipient_blocks_is_filtered(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    mallory, mallory_h = await person("mallory")
    await client.post(f"/api/v1/accounts/{mallory.id}/block", headers=alice_h)
    troll = (await post_status(client, mallory_h, status="flamebait")).json()
    await post_status(client, bob_h, status="@alice look at this", in_reply_to_id=troll["id"])
    await nothing_for(client, alice_h)


async def test_a_deleted_post_takes_its_notification_with_it(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    posted = (await post_status(client, bob_h, status="@alice oops")).json()
    [item] = await wait_for(client, alice_h)
    assert (await client.delete(f"/api/v1/statuses/{posted['id']}", headers=bob_h)).status_code == 200
    assert await listing(client, alice_h) == []
    gone = await client.get(f"/api/v1/notifications/{item['id']}", headers=alice_h)
    assert gone.status_code == 404
    assert_matches_spec(gone, "GET", "/api/v1/notifications/{id}")


# -- the worker ------------------------------------------------------------------------------------

async def test_running_the_actor_twice_creates_one_notification(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    posted = (await post_status(client, bob_h, status="@alice once")).json()
    await wait_for(client, alice_h)
    await settled()

    # The same job delivered again (and a forced re-run without its outbox row): nothing new.
    from workers.notifications import notify  # loaded by the worker pool, on the app's broker
    await asyncio.to_thread(notify, event="status_posted", id=int(posted["id"]))
    await asyncio.to_thread(notify, event="status_posted", id=int(posted["id"]))
    assert len(await listing(client, alice_h)) == 1
    assert await notifications.process("status_posted", int(posted["id"])) == []
    assert await notifications.process("no_such_event", 1) == []  # dropped, not retried forever


async def test_a_like_reaches_the_liked_accounts_open_stream_as_a_notification(client, live_server):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    posted = (await post_status(client, alice_h, status="like me live")).json()
    token = alice_h["Authorization"].removeprefix("Bearer ")
    async with socket(live_server, token, "stream=user:notification") as ws:
        await until_listening(ws, streaming.notifications_channel(alice.id))
        await client.post(f"/api/v1/statuses/{posted['id']}/favourite", headers=bob_h)
        received = await frame(ws)
    assert received["event"] == "notification" and received["stream"] == ["user:notification"]
    payload = json.loads(received["payload"])  # Mastodon's encoding: the entity as a JSON string
    validator = Draft202012Validator({**spec()["components"]["schemas"]["Notification"],
                                      "components": spec()["components"]})
    assert not [e.message for e in validator.iter_errors(payload)]
    assert payload["type"] == "favourite" and payload["account"]["id"] == str(bob.id)
    assert payload["status"]["id"] == posted["id"]
    assert payload == (await listing(client, alice_h))[0]


async def committed_like(liker, status_id: int) -> tuple[Favourite, int]:
    """What a favourite request commits, a favourite and its notify outbox row, as if the web
    process died right after the commit: the job is never enqueued."""
    async with db.session() as session:
        favourite = Favourite(account_id=liker.id, status_id=status_id)
        session.add(favourite)
        await session.flush()
        row = OutboxJob(actor_name=notifications.ACTOR, kwargs={"event": "favourite", "id": favourite.id},
                        enqueued_at=utcnow())
        session.add(row)
        await session.flush()
        return favourite, row.id


async def test_a_like_notifies_exactly_once_however_often_and_however_concurrently_its_job_runs(client, live_server):
    alice, alice_h = await person("alice")
    bob, _ = await person("bob")
    posted = (await post_status(client, alice_h, status="like me once")).json()
    await settled()
    favourite, outbox_id = await committed_like(bob, int(posted["id"]))
    from workers.notifications import notify  # loaded by the worker pool, on the app's broker

    def run():
        return asyncio.to_thread(notify, event="favourite", id=favourite.id, outbox_id=outbox_id)

    token = alice_h["Authorization"].removeprefix("Bearer ")
    async with socket(live_server, token, "stream=user:notification") as ws:
        await until_listening(ws, streaming.notifications_channel(alice.id))
        await asyncio.gather(run(), run())  # the message and a redelivery of it, at the same moment
        assert (await frame(ws))["event"] == "notification"
        await run()  # and once more, later
        await no_frame(ws)
    assert [n["type"] for n in await listing(client, alice_h)] == ["favourite"]
    assert await outbox_size() == 0


async def test_a_like_whose_worker_dies_mid_job_is_notified_once_by_the_sweeper(client):
    alice, alice_h = await person("alice")
    bob, _ = await person("bob")
    posted = (await post_status(client, alice_h, status="like me later")).json()
    await settled()
    favourite, outbox_id = await committed_like(bob, int(posted["id"]))
    # A worker takes the job and dies before its transaction commits (the database rolls it back).
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            assert await claim(session, outbox_id)
            assert len(await notifications.create(session, "favourite", favourite.id)) == 1
            raise RuntimeError("worker killed")
    assert await listing(client, alice_h) == []
    assert await outbox_size() == 1  # still owed
    assert await sweep_outbox_once(stale_after=timedelta(0)) == 1
    await wait_for(client, alice_h)
    await settled()
    assert [n["type"] for n in await listing(client, alice_h)] == ["favourite"]


# -- reading: filters, pagination, dismiss, clear, unread count -------------------------------------

async def many_mentions(recipient, count: int, author_h, client) -> list[int]:
    """`count` notifications for `recipient` about one real post (rows made directly: fast)."""
    posted = (await post_status(client, author_h, status="@alice bulk")).json()
    await settled()
    async with db.session() as session:
        await session.execute(Notification.__table__.delete().where(Notification.account_id == recipient.id))
        for n in range(count):
            session.add(Notification(account_id=recipient.id, from_account_id=int(posted["account"]["id"]),
                                     type="mention", activity_id=n + 1, status_id=int(posted["id"])))
    async with db.session() as session:
        rows = (await session.exec(Notification.__table__.select().where(
            Notification.account_id == recipient.id).order_by(Notification.id.desc()))).all()
    return [r.id for r in rows]


async def test_limit_above_the_maximum_is_clamped_and_link_headers_page_on(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    ids = await many_mentions(alice, 85, bob_h, client)

    default = await client.get("/api/v1/notifications", headers=alice_h)
    assert len(default.json()) == 40
    first = await client.get("/api/v1/notifications", params={"limit": 500}, headers=alice_h)
    assert [int(n["id"]) for n in first.json()] == ids[:80]
    link = first.headers["link"]
    assert f"max_id={ids[79]}" in link and f"min_id={ids[0]}" in link
    next_url = link.split(";")[0].strip("<>")
    rest = await client.get(next_url, headers=alice_h)
    assert [int(n["id"]) for n in rest.json()] == ids[80:]
    # Unlike most lists, Mastodon's notifications give next on any page that holds something.
    assert cursors(rest) == {"next": ("max_id", str(ids[84])), "prev": ("min_id", str(ids[80]))}

    newer = await client.get("/api/v1/notifications", params={"min_id": ids[3], "limit": 2}, headers=alice_h)
    assert [int(n["id"]) for n in newer.json()] == [ids[1], ids[2]]  # just above min_id, newest first
    since = await client.get("/api/v1/notifications", params={"since_id": ids[3], "limit": 2}, headers=alice_h)
    assert [int(n["id"]) for n in since.json()] == [ids[0], ids[1]]


async def test_malformed_pagination_ids_and_limits_are_refused(client):
    _, alice_h = await person("alice")
    for params in ({"max_id": "abc"}, {"since_id": "1e5"}, {"min_id": "-3"}, {"limit": "many"}, {"limit": 0}):
        response = await client.get("/api/v1/notifications", params=params, headers=alice_h)
        assert response.status_code == 422, params
        assert "error" in response.json()  # (the spec's 422 is registration's, with `details`)


async def test_types_exclude_types_and_account_id_filter_and_unknown_types_are_ignored(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    carol, carol_h = await person("carol")
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob_h)
    await post_status(client, carol_h, status="@alice hi")
    await wait_for(client, alice_h, 2)

    async def types(**params):
        return [n["type"] for n in await listing(client, alice_h, **params)]

    assert await types(**{"types[]": ["mention", "no_such_type"]}) == ["mention"]
    assert sorted(await types(**{"exclude_types[]": ["no_such_type"]})) == ["follow", "mention"]
    assert await types(**{"exclude_types[]": "mention"}) == ["follow"]
    assert await types(**{"types[]": "no_such_type"}) == []  # Mastodon: no known type asked, none shown
    assert await types(account_id=str(bob.id)) == ["follow"]
    assert await types(account_id="not-a-number") == []
    assert await types(account_id="³") == []  # a non-ASCII digit is no id either


async def test_dismiss_and_clear(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    carol, carol_h = await person("carol")
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob_h)
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=carol_h)
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=carol_h)
    first, second = await wait_for(client, alice_h, 2)
    [bobs] = await wait_for(client, bob_h)

    # Someone else's notification, a missing one and a malformed id: 404, nothing removed.
    for notification_id in (bobs["id"], "99999", "not-an-id", "³"):
        refused = await client.post(f"/api/v1/notifications/{notification_id}/dismiss", headers=alice_h)
        assert refused.status_code == 404
        assert_matches_spec(refused, "POST", "/api/v1/notifications/{id}/dismiss")
    assert len(await listing(client, bob_h)) == 1
    hidden = await client.get(f"/api/v1/notifications/{bobs['id']}", headers=alice_h)
    assert hidden.status_code == 404

    dismissed = await client.post(f"/api/v1/notifications/{first['id']}/dismiss", headers=alice_h)
    assert dismissed.status_code == 200 and dismissed.json() == {}
    assert_matches_spec(dismissed, "POST", "/api/v1/notifications/{id}/dismiss")
    assert [n["id"] for n in await listing(client, alice_h)] == [second["id"]]

    cleared = await client.post("/api/v1/notifications/clear", headers=alice_h)
    assert cleared.status_code == 200 and cleared.json() == {}
    assert_matches_spec(cleared, "POST", "/api/v1/notifications/clear")
    assert await listing(client, alice_h) == []
    assert len(await listing(client, bob_h)) == 1  # only one's own are cleared


async def test_unread_count_counts_past_the_notifications_marker(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    ids = await many_mentions(alice, 5, bob_h, client)

    async def count(**params):
        response = await client.get("/api/v1/notifications/unread_count", params=params, headers=alice_h)
        assert response.status_code == 200
        assert_matches_spec(response, "GET", "/api/v1/notifications/unread_count")
        return response.json()["count"]

    assert await count() == 5  # no marker yet: everything is unread
    assert await count(limit=3) == 3  # capped, as Mastodon
    assert await count(**{"types[]": "follow"}) == 0
    async with db.session() as session:
        session.add(Marker(account_id=alice.id, timeline="notifications", last_read_id=ids[2]))
    assert await count() == 2
    assert (await client.get("/api/v1/notifications/unread_count", params={"limit": "x"},
                             headers=alice_h)).status_code == 422


async def test_scopes_and_authentication(client):
    alice, _ = await person("alice")
    reader = bearer(await token_for(alice, "read:notifications"))
    other = bearer(await token_for(alice, "read:statuses write:statuses"))
    assert (await client.get("/api/v1/notifications", headers=reader)).status_code == 200
    assert (await client.get("/api/v1/notifications", headers=other)).status_code == 403
    assert (await client.post("/api/v1/notifications/clear", headers=reader)).status_code == 403
    anonymous = await client.get("/api/v1/notifications")
    assert anonymous.status_code == 401
    assert_matches_spec(anonymous, "GET", "/api/v1/notifications")


async def test_a_nul_in_a_path_is_a_clear_400(client):
    _, headers = await person("alice")
    for path in ("/api/v2/notifications/a%00b", "/api/v2/notifications/a%00b/accounts",
                 "/api/v1/timelines/tag/a%00b"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 400, (path, response.text)
        assert "NUL" in response.json()["error"]
    dismissed = await client.post("/api/v2/notifications/a%00b/dismiss", headers=headers)
    assert dismissed.status_code == 400


# -- a real client library ---------------------------------------------------------------------------

def client_library_session(base: str, alice_token: str, bob_token: str) -> dict:
    """Mastodon.py (synchronous) against `starling serve`: notifications, grouped ones, dismiss, clear."""
    alice, bob = mastodon_for(base, alice_token), mastodon_for(base, bob_token)
    seen: dict = {}
    posted = alice.status_post("hello, anyone?")
    bob.account_follow(alice.me().id)
    bob.status_favourite(posted.id)
    bob.status_post("@alice hi there")
    deadline = time.monotonic() + 10
    while len(alice.notifications()) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    listed = alice.notifications()
    seen["types"] = sorted(n.type for n in listed)
    seen["mentions"] = [n.status.content for n in alice.notifications(types=["mention"])]
    seen["one"] = alice.notifications(id=listed[0].id).id == listed[0].id
    seen["unread"] = alice.notifications_unread_count().count
    seen["grouped"] = sorted(g.type for g in alice.grouped_notifications().notification_groups)
    alice.notifications_dismiss(listed[0].id)
    seen["after_dismiss"] = len(alice.notifications())
    alice.notifications_clear()
    seen["after_clear"] = alice.notifications()
    return seen


async def test_mastodon_py_reads_dismisses_and_clears_notifications(live_server):
    alice, _ = await make_user("alice")
    bob, _ = await make_user("bob")
    seen = await asyncio.to_thread(client_library_session, live_server, await token_for(alice),
                                   await token_for(bob))
    assert seen["types"] == ["favourite", "follow", "mention"]
    assert len(seen["mentions"]) == 1 and "hi there" in seen["mentions"][0]
    assert seen["one"] is True and seen["unread"] == 3
    assert seen["grouped"] == ["favourite", "follow", "mention"]
    assert seen["after_dismiss"] == 2 and seen["after_clear"] == []
