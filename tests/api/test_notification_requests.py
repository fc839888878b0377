"""Filtering notifications (Mastodon 4.3): the policy (GET/PATCH /api/v2/notifications/policy, and
/api/v1/notifications/policy as booleans), what it holds back or drops, and the requests of
held-back senders (/api/v1/notifications/requests), accepted or dismissed. Notifications come
from the `notify` worker in the test process."""
from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import update

from app import db
from app.models import Account, Follow, User
from app.models.base import utcnow
from app.services import streaming
from tests.api.test_conversations import direct
from tests.api.test_notifications import listing, person
from tests.api.test_streaming import frame, socket, until_listening
from tests.support.links import cursors
from tests.support.openapi import assert_matches_spec
from tests.support.polling import eventually, settled
from tests.support.world import bearer, follow, post_status, token_for

POLICY = "/api/v2/notifications/policy"
V1_POLICY = "/api/v1/notifications/policy"  # not in Mastodon's OpenAPI description: no spec to check against
REQUESTS = "/api/v1/notifications/requests"


async def policy(client, headers) -> dict:
    response = await client.get(POLICY, headers=headers)
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", POLICY)
    return response.json()


async def requests(client, headers, **params) -> list[dict]:
    response = await client.get(REQUESTS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", REQUESTS)
    return response.json()


async def conversations(client, headers) -> list[dict]:
    return (await client.get("/api/v1/conversations", headers=headers)).json()


async def unread(client, headers) -> int:
    return (await client.get("/api/v1/notifications/unread_count", headers=headers)).json()["count"]


async def test_the_policy_has_mastodons_defaults_and_changes_field_by_field(client):
    alice, headers = await person("alice")
    assert await policy(client, headers) == {
        "for_not_following": "accept", "for_not_followers": "accept", "for_new_accounts": "accept",
        "for_private_mentions": "filter", "for_limited_accounts": "filter",
        "summary": {"pending_requests_count": 0, "pending_notifications_count": 0}}

    changed = await client.patch(POLICY, data={"for_not_following": "filter"}, headers=headers)  # a form, as Mastodon.py
    assert changed.status_code == 200, changed.text
    assert_matches_spec(changed, "PATCH", POLICY)
    assert changed.json()["for_not_following"] == "filter" and changed.json()["for_private_mentions"] == "filter"
    again = await client.patch(POLICY, json={"for_private_mentions": "drop", "for_new_accounts": "filter"},
                               headers=headers)
    assert again.status_code == 200
    now = await policy(client, headers)
    assert (now["for_not_following"], now["for_private_mentions"], now["for_new_accounts"]) == ("filter", "drop", "filter")

    # Bad input: an unknown action is a 422 that changes nothing, even beside a good field.
    bad = await client.patch(POLICY, json={"for_not_followers": "filter", "for_limited_accounts": "ignore"},
                             headers=headers)
    assert bad.status_code == 422 and "for_limited_accounts" in bad.json()["error"]
    assert await policy(client, headers) == now
    for value in ("", "ACCEPT"):
        assert (await client.patch(POLICY, json={"for_new_accounts": value}, headers=headers)).status_code == 422
    reader = bearer(await token_for(alice, "read:notifications"))
    assert (await client.patch(POLICY, json={"for_not_following": "accept"}, headers=reader)).status_code == 403
    assert (await client.get(POLICY)).status_code == 401
    assert await policy(client, headers) == now


async def test_the_v1_policy_is_the_v2_policy_as_booleans(client):
    """Older apps use /api/v1/notifications/policy (Mastodon's REST::V1::NotificationPolicySerializer):
    a field is true unless its v2 setting is accept; true sets filter, false sets accept."""
    alice, alice_h = await person("alice")
    _, bob_h = await person("bob")
    await direct(client, bob_h, "@alice hello")  # held back: one request
    await settled()

    shown = await client.get(V1_POLICY, headers=alice_h)
    assert shown.status_code == 200, shown.text
    assert shown.json() == {
        "filter_not_following": False, "filter_not_followers": False, "filter_new_accounts": False,
        "filter_private_mentions": True, "summary": {"pending_requests_count": 1, "pending_notifications_count": 1}}
    # drop filters too: it reads true.
    assert (await client.patch(POLICY, json={"for_new_accounts": "drop"}, headers=alice_h)).status_code == 200

    # As apps send them: JSON booleans, or form words.
    changed = await client.patch(V1_POLICY, json={"filter_not_following": True, "filter_private_mentions": False},
                                 headers=alice_h)
    assert changed.status_code == 200, changed.text
    expected = {"filter_not_following": True, "filter_not_followers": False, "filter_new_accounts": True,
                "filter_private_mentions": False, "summary": {"pending_requests_count": 1,
                                                             "pending_notifications_count": 1}}
    assert changed.json() == expected
    v2 = await policy(client, alice_h)
    assert (v2["for_not_following"], v2["for_new_accounts"], v2["for_private_mentions"]) == ("filter", "drop", "accept")
    put = await client.put(V1_POLICY, data={"filter_not_followers": "1", "filter_not_following": "false"},
                           headers=alice_h)
    assert put.status_code == 200, put.text
    expected = {**expected, "filter_not_followers": True, "filter_not_following": False}
    assert put.json() == expected
    assert (await policy(client, alice_h))["for_not_followers"] == "filter"

    # Not a boolean: a 422 naming the field, and nothing changes, even beside a good field.
    before = await policy(client, alice_h)
    for bad in ({"filter_new_accounts": "maybe"}, {"filter_not_following": True, "filter_new_accounts": [1]},
                {"filter_private_mentions": 2}):
        refused = await client.patch(V1_POLICY, json=bad, headers=alice_h)
        assert refused.status_code == 422, (bad, refused.text)
        assert set(refused.json()["details"]) <= set(bad) and "boolean" in refused.json()["error"]
    assert await policy(client, alice_h) == before
    assert (await client.get(V1_POLICY, headers=alice_h)).json() == expected

    reader = bearer(await token_for(alice, "read:notifications"))
    assert (await client.get(V1_POLICY, headers=reader)).status_code == 200
    assert (await client.patch(V1_POLICY, json={"filter_not_following": True}, headers=reader)).status_code == 403
    assert (await client.get(V1_POLICY)).status_code == 401
    assert await policy(client, alice_h) == before


async def test_a_private_mention_from_a_stranger_waits_in_a_request(client, live_server):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    bob_token = bob_h["Authorization"].removeprefix("Bearer ")
    async with socket(live_server, bob_token, "stream=user:notification") as ws:
        await until_listening(ws, streaming.notifications_channel(bob.id))
        first = await direct(client, alice_h, "@bob hello, stranger")
        await settled()  # its notification made first (the notify jobs may run in any order)
        public = await post_status(client, alice_h, status="@bob said out loud")
        # The stream tells only of the mention that was let through.
        event = await frame(ws)
        assert json.loads(event["payload"])["status"]["id"] == public.json()["id"]
    second = await direct(client, alice_h, "@bob are you there?")
    await settled()

    shown = await listing(client, bob_h)
    assert [n["status"]["id"] for n in shown] == [public.json()["id"]]
    assert await unread(client, bob_h) == 1
    held = await listing(client, bob_h, include_filtered="true")
    assert [n["status"]["id"] for n in held] == [second["id"], public.json()["id"], first["id"]]
    # Opening the request in an app lists the sender's notifications: the held ones too.
    from_alice = await listing(client, bob_h, account_id=str(alice.id))
    assert [n["status"]["id"] for n in from_alice] == [second["id"], public.json()["id"], first["id"]]
    grouped = (await client.get("/api/v2/notifications", headers=bob_h)).json()
    assert [g["page_max_id"] for g in grouped["notification_groups"]] == [shown[0]["id"]]
    assert await conversations(client, bob_h) == []  # not until accepted

    [request] = await requests(client, bob_h)
    assert request["account"]["id"] == str(alice.id) and request["notifications_count"] == "2"
    assert request["last_status"]["id"] == second["id"]
    assert (await policy(client, bob_h))["summary"] == {"pending_requests_count": 1, "pending_notifications_count": 2}
    one = await client.get(f"{REQUESTS}/{request['id']}", headers=bob_h)
    assert one.status_code == 200 and one.json() == request
    assert_matches_spec(one, "GET", f"{REQUESTS}/{{id}}")

    # Someone else's request, an unknown or malformed id: 404, and nothing changes.
    carol, carol_h = await person("carol")
    for path in (f"{REQUESTS}/{request['id']}", f"{REQUESTS}/999999", f"{REQUESTS}/nope"):
        assert (await client.get(path, headers=carol_h)).status_code == 404
        for action in ("accept", "dismiss"):
            assert (await client.post(f"{path}/{action}", headers=carol_h)).status_code == 404
    several = await client.post(f"{REQUESTS}/dismiss", json={"id": [request["id"], "x"]}, headers=carol_h)
    assert several.status_code == 200 and several.json() == {}  # others' ids are ignored, as Mastodon
    assert len(await requests(client, bob_h)) == 1
    assert (await client.get(REQUESTS, params={"max_id": "x"}, headers=bob_h)).status_code == 422
    assert (await client.post(f"{REQUESTS}/accept", headers=bob_h)).status_code == 400  # no id[]

    # The request counts what it still holds: a held mention dismissed, or its post deleted.
    newest_held = next(n for n in held if n["status"]["id"] == second["id"])
    assert (await client.post(f"/api/v1/notifications/{newest_held['id']}/dismiss", headers=bob_h)).status_code == 200
    [request] = await requests(client, bob_h)
    assert request["notifications_count"] == "1" and request["last_status"]["id"] == first["id"]
    assert (await client.delete(f"/api/v1/statuses/{first['id']}", headers=alice_h)).status_code == 200
    assert await requests(client, bob_h) == []
    assert (await policy(client, bob_h))["summary"] == {"pending_requests_count": 0, "pending_notifications_count": 0}


async def test_accepting_a_request_lets_the_sender_through_from_then_on(client, live_server):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    held = await direct(client, alice_h, "@bob hello")
    await settled()
    [request] = await requests(client, bob_h)

    bob_token = bob_h["Authorization"].removeprefix("Bearer ")
    async with socket(live_server, bob_token, "stream=user") as ws:
        await until_listening(ws, streaming.notifications_channel(bob.id))
        await ws.send(json.dumps({"type": "subscribe", "stream": "direct"}))
        await until_listening(ws, streaming.direct_channel(bob.id))
        accepted = await client.post(f"{REQUESTS}/{request['id']}/accept", headers=bob_h)
        assert accepted.status_code == 200 and accepted.json() == {}
        # The open app hears of the conversation the held direct post joined, then that the
        # held notifications are merged (Mastodon's web app reloads its list on that event).
        joined = await frame(ws)
        assert joined["stream"] == ["direct"] and joined["event"] == "conversation"
        assert json.loads(joined["payload"])["last_status"]["id"] == held["id"]
        merged_event = await frame(ws)
        assert merged_event["stream"] == ["user"] and merged_event["event"] == "notifications_merged"
    assert_matches_spec(accepted, "POST", f"{REQUESTS}/{{id}}/accept")
    assert [n["status"]["id"] for n in await listing(client, bob_h)] == [held["id"]]
    [conversation] = await conversations(client, bob_h)
    assert conversation["last_status"]["id"] == held["id"] and conversation["unread"] is True
    assert await requests(client, bob_h) == []
    assert (await policy(client, bob_h))["summary"]["pending_requests_count"] == 0
    merged = await client.get(f"{REQUESTS}/merged", headers=bob_h)
    assert merged.status_code == 200 and merged.json() == {"merged": True}

    later = await direct(client, alice_h, "@bob and again", in_reply_to_id=held["id"])
    await eventually(lambda: listing(client, bob_h), until=lambda items: len(items) == 2)
    assert (await conversations(client, bob_h))[0]["last_status"]["id"] == later["id"]
    assert await requests(client, bob_h) == []


async def test_dismissing_requests_drops_what_they_held(client):
    alice, alice_h = await person("alice")
    carol, carol_h = await person("carol")
    _, bob_h = await person("bob")
    await direct(client, alice_h, "@bob one")
    await direct(client, carol_h, "@bob two")
    await settled()
    both = await requests(client, bob_h)
    assert {r["account"]["id"] for r in both} == {str(alice.id), str(carol.id)}
    # As Mastodon: next only on a full page (two of 40 is the last); prev by min_id.
    full = await client.get(REQUESTS, params={"limit": 2}, headers=bob_h)
    assert cursors(full) == {"next": ("max_id", both[1]["id"]), "prev": ("min_id", both[0]["id"])}
    last = await client.get(REQUESTS, headers=bob_h)
    assert cursors(last) == {"prev": ("min_id", both[0]["id"])}
    dismissed = await client.post(f"{REQUESTS}/dismiss", data={"id[]": [r["id"] for r in both]}, headers=bob_h)
    assert dismissed.status_code == 200
    assert_matches_spec(dismissed, "POST", f"{REQUESTS}/dismiss")
    assert await requests(client, bob_h) == []
    assert await listing(client, bob_h, include_filtered="true") == []

    # Not a permission: the next one is held back again, in a new request.
    await direct(client, alice_h, "@bob three")
    await settled()
    [again] = await requests(client, bob_h)
    assert again["account"]["id"] == str(alice.id) and again["notifications_count"] == "1"


async def test_followed_senders_and_answers_to_ones_own_private_mention_pass(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    carol, carol_h = await person("carol")
    await follow(bob, carol)
    from_followed = await direct(client, carol_h, "@bob from someone you follow")
    mine = await direct(client, bob_h, "@alice a question from me")
    answer = await direct(client, alice_h, "@bob the answer", in_reply_to_id=mine["id"])
    await settled()
    assert {n["status"]["id"] for n in await listing(client, bob_h)} == {from_followed["id"], answer["id"]}
    assert await requests(client, bob_h) == []
    assert len(await conversations(client, bob_h)) == 2


async def test_held_back_notifications_say_so_and_join_no_group(client):
    """As Mastodon: a notification the policy held back carries `filtered: true` (others have no
    such key) and has no group of its own kind, so a group of likes never counts its sender."""
    bob, bob_h = await person("bob")
    friends = [await person(name) for name in ("carol", "dave")]
    stranger, stranger_h = await person("stranger")
    for friend, _ in friends:
        await follow(bob, friend)
    post = (await post_status(client, bob_h, status="like me")).json()
    assert (await client.patch(POLICY, json={"for_not_following": "filter"}, headers=bob_h)).status_code == 200
    for _, headers in (friends[0], (stranger, stranger_h), friends[1]):
        liked = await client.post(f"/api/v1/statuses/{post['id']}/favourite", headers=headers)
        assert liked.status_code == 200, liked.text
        await settled()

    everything = await listing(client, bob_h, include_filtered="true")
    assert [(n["account"]["username"], n.get("filtered")) for n in everything] == [
        ("dave", None), ("stranger", True), ("carol", None)]
    assert "filtered" not in everything[0]
    held = everything[1]
    assert held["group_key"] == f"ungrouped-{held['id']}"
    assert everything[0]["group_key"] == everything[2]["group_key"] != held["group_key"]

    grouped = await client.get("/api/v2/notifications", params={"include_filtered": "true"}, headers=bob_h)
    assert grouped.status_code == 200, grouped.text
    assert_matches_spec(grouped, "GET", "/api/v2/notifications")
    groups = grouped.json()["notification_groups"]
    likes = {g["group_key"]: g for g in groups}
    accepted = likes[everything[0]["group_key"]]
    assert accepted["notifications_count"] == 2 and set(accepted["sample_account_ids"]) == {
        str(friend.id) for friend, _ in friends}
    assert likes[held["group_key"]]["sample_account_ids"] == [str(stranger.id)]
    default = (await client.get("/api/v2/notifications", headers=bob_h)).json()["notification_groups"]
    assert [g["group_key"] for g in default] == [accepted["group_key"]]
    # Opened by its key, as an app opens what it listed with include_filtered.
    opened = await client.get(f"/api/v2/notifications/{held['group_key']}", headers=bob_h)
    assert opened.status_code == 200, opened.text
    assert opened.json()["notification_groups"][0]["sample_account_ids"] == [str(stranger.id)]
    senders = await client.get(f"/api/v2/notifications/{held['group_key']}/accounts", headers=bob_h)
    assert [a["id"] for a in senders.json()] == [str(stranger.id)]
    friends_group = await client.get(f"/api/v2/notifications/{accepted['group_key']}/accounts", headers=bob_h)
    assert {a["id"] for a in friends_group.json()} == {str(friend.id) for friend, _ in friends}


async def test_other_categories_filter_or_drop_any_filterable_type(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    dave, dave_h = await person("dave")
    await follow(bob, dave)
    post = (await post_status(client, bob_h, status="like me")).json()

    # drop: nothing is made at all, not even held back.
    assert (await client.patch(POLICY, json={"for_not_following": "drop"}, headers=bob_h)).status_code == 200
    assert (await client.post(f"/api/v1/statuses/{post['id']}/favourite", headers=alice_h)).status_code == 200
    assert (await client.post(f"/api/v1/statuses/{post['id']}/favourite", headers=dave_h)).status_code == 200
    await settled()
    assert [n["account"]["id"] for n in await listing(client, bob_h, include_filtered="true")] == [str(dave.id)]

    # filter: kept but held back; not a mention, so no request (as Mastodon).
    assert (await client.patch(POLICY, json={"for_not_following": "accept", "for_new_accounts": "filter"},
                               headers=bob_h)).status_code == 200
    followed = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice_h)
    assert followed.status_code == 200
    await settled()
    assert [n["type"] for n in await listing(client, bob_h)] == ["favourite"]  # dave's: bob follows him
    assert [n["type"] for n in (await listing(client, bob_h, include_filtered="true"))] == ["follow", "favourite"]
    assert await requests(client, bob_h) == []

    # A limited (silenced) account is filtered by default, unless followed.
    assert (await client.patch(POLICY, json={"for_new_accounts": "accept"}, headers=bob_h)).status_code == 200
    async with db.session() as session:
        await session.execute(update(Account).where(Account.id.in_([alice.id, dave.id])).values(silenced_at=utcnow()))
    await post_status(client, alice_h, status="@bob from a limited account")
    await post_status(client, dave_h, status="@bob from a limited account you follow")
    await settled()
    mentions = await listing(client, bob_h, types="mention")
    assert [n["account"]["id"] for n in mentions] == [str(dave.id)]
    [request] = await requests(client, bob_h)
    assert request["account"]["id"] == str(alice.id)


async def test_new_followers_count_as_not_following_and_staff_reach_whom_they_outrank(client):
    bob, bob_h = await person("bob")
    carol, carol_h = await person("carol")
    admin, admin_h = await person("dora")
    async with db.session() as session:
        await session.execute(update(User).where(User.account_id == admin.id).values(role="admin"))
    assert (await client.patch(POLICY, json={"for_not_followers": "filter"}, headers=bob_h)).status_code == 200
    await follow(carol, bob)
    post = (await post_status(client, bob_h, status="like me")).json()
    assert (await client.post(f"/api/v1/statuses/{post['id']}/favourite", headers=carol_h)).status_code == 200
    await settled()
    assert await listing(client, bob_h) == []  # carol has followed bob for less than 3 days

    async with db.session() as session:
        await session.execute(update(Follow).where(Follow.account_id == carol.id)
                              .values(created_at=utcnow() - timedelta(days=4)))
    second = (await post_status(client, bob_h, status="like me again")).json()
    assert (await client.post(f"/api/v1/statuses/{second['id']}/favourite", headers=carol_h)).status_code == 200
    note = await direct(client, admin_h, "@bob a word from the moderators")
    await settled()
    shown = await listing(client, bob_h)
    assert [(n["type"], n["status"]["id"]) for n in shown] == [("mention", note["id"]), ("favourite", second["id"])]
