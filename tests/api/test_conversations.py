"""Direct-message conversations: GET /api/v1/conversations, read, delete; what a deleted post
does to them; someone else's conversation and malformed ids. (The `direct` stream is in
test_streaming.py.)"""
from __future__ import annotations

from app import db
from app.models import AccountConversation
from app.services import blocks
from tests.support.links import cursors
from tests.support.openapi import assert_matches_spec
from tests.support.world import block, count, follow, post_status, signed_in

CONVERSATIONS = "/api/v1/conversations"


async def direct(client, headers, text: str, **data) -> dict:
    response = await post_status(client, headers, status=text, visibility="direct", **data)
    assert response.status_code == 200, response.text
    return response.json()


async def listed(client, headers, **params) -> list[dict]:
    response = await client.get(CONVERSATIONS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", CONVERSATIONS)
    return response.json()


async def test_a_direct_post_starts_a_conversation_for_each_participant(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    carol, carol_h = await signed_in("carol")
    for reader in (bob, carol):  # a direct post from someone one does not follow is filtered
        await follow(reader, alice)
    await post_status(client, alice_h, status="@bob a public mention is no conversation")
    first = await direct(client, alice_h, "@bob psst")

    [mine] = await listed(client, alice_h)
    assert mine["unread"] is False  # she wrote it
    assert [a["id"] for a in mine["accounts"]] == [str(bob.id)] and mine["last_status"]["id"] == first["id"]
    [theirs] = await listed(client, bob_h)
    assert theirs["unread"] is True and [a["id"] for a in theirs["accounts"]] == [str(alice.id)]
    assert theirs["last_status"]["id"] == first["id"] and theirs["id"] != mine["id"]
    assert await listed(client, carol_h) == []

    # bob answers: the same conversation, now unread for alice and read for bob.
    answer = await direct(client, bob_h, "@alice what?", in_reply_to_id=first["id"])
    [mine] = await listed(client, alice_h)
    assert mine["unread"] is True and mine["last_status"]["id"] == answer["id"]
    [theirs] = await listed(client, bob_h)
    assert theirs["unread"] is False

    # carol brought into the thread makes another conversation (other participants).
    widened = await direct(client, alice_h, "@bob @carol join us", in_reply_to_id=answer["id"])
    newest, older = await listed(client, alice_h)
    assert newest["last_status"]["id"] == widened["id"] and older["id"] == mine["id"]
    assert sorted(a["id"] for a in newest["accounts"]) == sorted([str(bob.id), str(carol.id)])
    [carols] = await listed(client, carol_h)
    assert carols["unread"] is True and carols["last_status"]["id"] == widened["id"]


async def test_a_direct_post_to_nobody_is_a_conversation_with_oneself(client):
    alice, alice_h = await signed_in("alice")
    note = await direct(client, alice_h, "a note to self")
    [mine] = await listed(client, alice_h)
    assert [a["id"] for a in mine["accounts"]] == [str(alice.id)]  # as Mastodon: never an empty list
    assert mine["last_status"]["id"] == note["id"]


async def test_read_delete_and_paging(client):
    alice, alice_h = await signed_in("alice")
    names = ["bob", "carol", "dave"]
    people = [await signed_in(n) for n in names]
    for reader, _ in people:
        await follow(reader, alice)
    posts = [await direct(client, alice_h, f"@{n} hello") for n in names]
    for _, headers in people:
        assert (await listed(client, headers))[0]["unread"] is True

    # Newest first; the Link header pages by the last status, without skips or repeats.
    first = await client.get(CONVERSATIONS, params={"limit": 2}, headers=alice_h)
    assert [c["last_status"]["id"] for c in first.json()] == [posts[2]["id"], posts[1]["id"]]
    assert f"max_id={posts[1]['id']}" in first.headers["link"] and f"min_id={posts[2]['id']}" in first.headers["link"]
    rest = await listed(client, alice_h, limit=2, max_id=posts[1]["id"])
    assert [c["last_status"]["id"] for c in rest] == [posts[0]["id"]]
    # As Mastodon: a short page is the last (no next); prev by min_id.
    last = await client.get(CONVERSATIONS, params={"limit": 2, "max_id": posts[1]["id"]}, headers=alice_h)
    assert cursors(last) == {"prev": ("min_id", posts[0]["id"])}
    upwards = await listed(client, alice_h, limit=1, min_id=posts[0]["id"])
    assert [c["last_status"]["id"] for c in upwards] == [posts[1]["id"]]

    bob_h = people[0][1]
    [bobs] = await listed(client, bob_h)
    read = await client.post(f"{CONVERSATIONS}/{bobs['id']}/read", headers=bob_h)
    assert read.status_code == 200, read.text
    assert_matches_spec(read, "POST", "/api/v1/conversations/{id}/read")
    assert read.json()["unread"] is False and (await listed(client, bob_h))[0]["unread"] is False

    # Someone else's conversation, an unknown or malformed id: 404, and nothing changes.
    for other in (f"{CONVERSATIONS}/{bobs['id']}", f"{CONVERSATIONS}/999999", f"{CONVERSATIONS}/nope"):
        assert (await client.post(f"{other}/read", headers=alice_h)).status_code == 404
        assert (await client.delete(other, headers=alice_h)).status_code == 404
    assert await count(AccountConversation) == 6
    assert (await client.get(CONVERSATIONS)).status_code == 401
    _, read_only = await signed_in("erin", scopes="read")
    assert (await client.post(f"{CONVERSATIONS}/{bobs['id']}/read", headers=read_only)).status_code == 403
    assert (await client.get(CONVERSATIONS, params={"max_id": "x"}, headers=alice_h)).status_code == 422

    removed = await client.delete(f"{CONVERSATIONS}/{bobs['id']}", headers=bob_h)
    assert removed.status_code == 200 and removed.json() == {}
    assert await listed(client, bob_h) == []
    assert len(await listed(client, alice_h)) == 3  # hers stays


async def test_deleting_posts_moves_the_conversation_back_and_then_ends_it(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    await follow(bob, alice)
    first = await direct(client, alice_h, "@bob one")
    second = await direct(client, alice_h, "@bob two", in_reply_to_id=first["id"])
    assert (await client.delete(f"/api/v1/statuses/{second['id']}", headers=alice_h)).status_code == 200
    [theirs] = await listed(client, bob_h)
    assert theirs["last_status"]["id"] == first["id"]
    assert (await client.delete(f"/api/v1/statuses/{first['id']}", headers=alice_h)).status_code == 200
    assert await listed(client, bob_h) == [] and await listed(client, alice_h) == []
    assert await count(AccountConversation) == 0


async def test_blocks_and_mutes_keep_conversations_out(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    carol, carol_h = await signed_in("carol")
    dave, dave_h = await signed_in("dave")
    for reader in (bob, carol, dave):
        await follow(reader, alice)
    await block(bob, alice)  # bob blocks alice
    async with db.session() as session:
        await blocks.mute(session, carol.id, alice.id)  # carol mutes alice
    posted = await direct(client, alice_h, "@bob @carol @dave hello all")
    assert await listed(client, bob_h) == [] and await listed(client, carol_h) == []
    [daves] = await listed(client, dave_h)
    assert daves["last_status"]["id"] == posted["id"]
    [mine] = await listed(client, alice_h)
    assert sorted(a["id"] for a in mine["accounts"]) == sorted(str(p.id) for p in (bob, carol, dave))

    # A block made afterwards takes away dave's conversations with alice (Mastodon's
    # AfterBlockService), his other ones stay; alice's with him stay too.
    await follow(dave, carol)  # (a direct post from someone not followed is held as a request)
    others = await direct(client, carol_h, "@dave just us")
    await block(dave, alice)
    assert [c["last_status"]["id"] for c in await listed(client, dave_h)] == [others["id"]]
    assert [c["last_status"]["id"] for c in await listed(client, alice_h)] == [posted["id"]]


async def test_a_direct_post_joins_a_conversation_exactly_where_its_mention_notifies(client):
    """As Mastodon adds the conversation where the notification goes: a mute that leaves
    notifications on does not keep it out; a muted thread, or a block of someone else the post
    mentions, does (neither gets the mention either)."""
    alice, alice_h = await signed_in("alice")
    erin, erin_h = await signed_in("erin")
    frank, frank_h = await signed_in("frank")
    gina, gina_h = await signed_in("gina")
    hugo, _ = await signed_in("hugo")
    for reader in (erin, frank, gina):
        await follow(reader, alice)
    muted = await client.post(f"/api/v1/accounts/{alice.id}/mute", data={"notifications": "false"}, headers=erin_h)
    assert muted.status_code == 200 and muted.json()["muting_notifications"] is False
    await block(gina, hugo)

    first = await direct(client, alice_h, "@erin @frank hello")
    [erins] = await listed(client, erin_h)
    assert erins["last_status"]["id"] == first["id"] and erins["unread"] is True
    assert len(await listed(client, frank_h)) == 1

    assert (await client.post(f"/api/v1/statuses/{first['id']}/mute", headers=frank_h)).status_code == 200
    reply = await direct(client, alice_h, "@erin @frank still there?", in_reply_to_id=first["id"])
    [erins] = await listed(client, erin_h)
    assert erins["last_status"]["id"] == reply["id"]
    [franks] = await listed(client, frank_h)
    assert franks["last_status"]["id"] == first["id"]  # the muted thread did not move

    await direct(client, alice_h, "@gina @hugo a word")
    assert await listed(client, gina_h) == []
