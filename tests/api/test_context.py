"""GET /api/v1/statuses/:id/context: ancestors root first, descendants depth first,
filtered by what the viewer may see."""
from __future__ import annotations

from app import db
from app.services import blocks
from tests.support.openapi import assert_matches_spec
from tests.support.world import bearer, follow, make_user, token_for


async def user(name: str):
    account, _ = await make_user(name)
    return account, bearer(await token_for(account))


async def reply(client, headers, text: str, to: str | None = None, visibility: str = "public") -> str:
    data = {"status": text, "visibility": visibility}
    if to:
        data["in_reply_to_id"] = to
    response = await client.post("/api/v1/statuses", json=data, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["id"]


async def context(client, status_id: str, headers=None) -> tuple[list[str], list[str]]:
    response = await client.get(f"/api/v1/statuses/{status_id}/context", headers=headers or {})
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", "/api/v1/statuses/{id}/context")
    body = response.json()
    return [s["content"] for s in body["ancestors"]], [s["content"] for s in body["descendants"]]


def texts(*names: str) -> list[str]:
    return [f"<p>{n}</p>" for n in names]


async def build_thread(client):
    """root
       ├─ r1 (bob)
       │   ├─ r1a (alice)
       │   │   └─ r1a1 (bob)
       │   └─ r1b (carol)
       ├─ r2 (carol)
       └─ r3 (dave, followers only)"""
    people = {name: await user(name) for name in ("alice", "bob", "carol", "dave", "erin")}
    h = {name: headers for name, (_, headers) in people.items()}
    ids = {"root": await reply(client, h["alice"], "root")}
    ids["r1"] = await reply(client, h["bob"], "r1", ids["root"])
    ids["r1a"] = await reply(client, h["alice"], "r1a", ids["r1"])
    ids["r2"] = await reply(client, h["carol"], "r2", ids["root"])
    ids["r1a1"] = await reply(client, h["bob"], "r1a1", ids["r1a"])
    ids["r1b"] = await reply(client, h["carol"], "r1b", ids["r1"])
    ids["r3"] = await reply(client, h["dave"], "r3", ids["root"], visibility="private")
    await follow(people["erin"][0], people["dave"][0])
    return people, h, ids


async def test_thread_order_three_levels_deep(client):
    people, h, ids = await build_thread(client)
    ancestors, descendants = await context(client, ids["root"])
    assert ancestors == []
    assert descendants == texts("r1", "r1a", "r1a1", "r1b", "r2")  # r3 is for dave's followers
    ancestors, descendants = await context(client, ids["r1a1"])
    assert ancestors == texts("root", "r1", "r1a") and descendants == []
    ancestors, descendants = await context(client, ids["r1"], h["bob"])
    assert ancestors == texts("root") and descendants == texts("r1a", "r1a1", "r1b")


async def test_private_replies_only_for_those_who_may_see_them(client):
    people, h, ids = await build_thread(client)
    _, as_follower = await context(client, ids["root"], h["erin"])
    assert as_follower == texts("r1", "r1a", "r1a1", "r1b", "r2", "r3")
    _, as_stranger = await context(client, ids["root"], h["carol"])
    assert "<p>r3</p>" not in as_stranger
    # The private reply's own context: 404 for those who may not see it, never 403.
    hidden = await client.get(f"/api/v1/statuses/{ids['r3']}/context", headers=h["carol"])
    assert hidden.status_code == 404
    assert_matches_spec(hidden, "GET", "/api/v1/statuses/{id}/context")
    ancestors, _ = await context(client, ids["r3"], h["erin"])
    assert ancestors == texts("root")


async def test_blocked_and_muted_authors_drop_out_of_the_thread(client):
    people, h, ids = await build_thread(client)
    async with db.session() as session:
        await blocks.block(session, people["alice"][0].id, people["carol"][0].id)
        await blocks.mute(session, people["alice"][0].id, people["bob"][0].id)
    _, descendants = await context(client, ids["root"], h["alice"])
    # bob's replies are muted and carol is blocked; alice's own reply under bob's stays.
    assert descendants == texts("r1a")
    _, for_carol = await context(client, ids["r1"], h["carol"])
    # Nothing of alice for the account she blocked; bob's reply under her post is bob's to show.
    assert for_carol == texts("r1a1", "r1b")


async def test_a_deleted_post_does_not_break_the_thread(client):
    people, h, ids = await build_thread(client)
    assert (await client.delete(f"/api/v1/statuses/{ids['r1a']}", headers=h["alice"])).status_code == 200
    _, descendants = await context(client, ids["root"])
    assert descendants == texts("r1", "r1a1", "r1b", "r2")
    ancestors, _ = await context(client, ids["r1a1"])
    assert ancestors == texts("root", "r1")


async def test_anonymous_visitors_get_a_shallower_thread(client):
    _, headers = await user("alice")
    parent = root = await reply(client, headers, "0")
    for n in range(1, 23):
        parent = await reply(client, headers, str(n), parent)
    _, anonymous = await context(client, root)
    assert anonymous == texts(*[str(n) for n in range(1, 21)])  # depth 20, as Mastodon
    _, signed_in = await context(client, root, headers)
    assert len(signed_in) == 22
