"""Grouped notifications (v2): "A and 10 others liked your post", driven through the real API."""
from __future__ import annotations

from sqlalchemy import update

from app import db
from app.models import Marker, Notification
from tests.support.links import cursors
from tests.support.openapi import assert_matches_spec
from tests.support.polling import settled
from tests.support.world import bearer, make_user, post_status, token_for


async def person(name: str):
    account, _ = await make_user(name)
    return account, bearer(await token_for(account))


async def grouped(client, headers, **params) -> dict:
    response = await client.get("/api/v2/notifications", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", "/api/v2/notifications")
    return response.json()


async def liked_by(client, status_id: str, names: list[str]) -> list:
    fans = []
    for name in names:
        fan, headers = await person(name)
        assert (await client.post(f"/api/v1/statuses/{status_id}/favourite", headers=headers)).status_code == 200
        await settled()  # one at a time: notifications are then in the order of the likes
        fans.append(fan)
    return fans


async def test_favourites_of_one_post_are_one_group_with_the_newest_first(client):
    alice, alice_h = await person("alice")
    posted = (await post_status(client, alice_h, status="a post people like")).json()
    fans = await liked_by(client, posted["id"], ["bob", "carol", "dave"])

    body = await grouped(client, alice_h)
    [group] = body["notification_groups"]
    assert group["type"] == "favourite" and group["notifications_count"] == 3
    assert group["group_key"].startswith(f"favourite-{posted['id']}-")
    assert group["sample_account_ids"] == [str(f.id) for f in reversed(fans)]
    assert group["status_id"] == posted["id"]
    assert group["page_min_id"] < group["page_max_id"] == str(group["most_recent_notification_id"])
    assert [s["id"] for s in body["statuses"]] == [posted["id"]]
    # Every account referred to is listed once: the senders and the status's author.
    assert sorted(a["id"] for a in body["accounts"]) == sorted([str(alice.id), *(str(f.id) for f in fans)])
    assert "partial_accounts" not in body

    # The v1 list shows the same three, each with the group's key.
    flat = (await client.get("/api/v1/notifications", headers=alice_h)).json()
    assert {n["group_key"] for n in flat} == {group["group_key"]} and len(flat) == 3


async def test_grouped_types_leaves_other_types_ungrouped(client):
    alice, alice_h = await person("alice")
    posted = (await post_status(client, alice_h, status="ungroup me")).json()
    await liked_by(client, posted["id"], ["bob", "carol"])

    body = await grouped(client, alice_h, **{"grouped_types[]": "follow"})
    groups = body["notification_groups"]
    assert [g["notifications_count"] for g in groups] == [1, 1]
    assert all(g["group_key"] == f"ungrouped-{g['most_recent_notification_id']}" for g in groups)


async def test_follows_mentions_and_boosts_group_as_mastodon_does(client):
    alice, alice_h = await person("alice")
    posted = (await post_status(client, alice_h, status="boost me")).json()
    for name in ("bob", "carol"):
        _, headers = await person(name)
        # Each notification made before the next action: the worker's threads may otherwise
        # make them in another order, and which group is newest is part of what is checked.
        await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=headers)
        await settled()
        await client.post(f"/api/v1/statuses/{posted['id']}/reblog", headers=headers)
        await settled()
        await post_status(client, headers, status=f"@alice from {name}")
        await settled()

    groups = (await grouped(client, alice_h))["notification_groups"]
    counts = {}
    for g in groups:
        counts.setdefault(g["type"], []).append(g["notifications_count"])
    assert counts == {"mention": [1, 1], "reblog": [2], "follow": [2]}
    assert [g["type"] for g in groups][:2] == ["mention", "reblog"]  # newest activity first


async def test_pages_of_groups_follow_the_link_header(client):
    alice, alice_h = await person("alice")
    first = (await post_status(client, alice_h, status="first")).json()
    second = (await post_status(client, alice_h, status="second")).json()
    await liked_by(client, first["id"], ["bob", "carol"])
    await liked_by(client, second["id"], ["dave"])

    response = await client.get("/api/v2/notifications", params={"limit": 1}, headers=alice_h)
    [newest] = response.json()["notification_groups"]
    assert newest["status_id"] == second["id"]
    next_url = response.headers["link"].split(";")[0].strip("<>")
    older = (await client.get(next_url, headers=alice_h)).json()
    [group] = older["notification_groups"]
    assert group["status_id"] == first["id"] and group["notifications_count"] == 2

    # Paging up from the oldest notification (bob's like) reaches carol's like of the same post first.
    oldest = (await client.get("/api/v1/notifications", headers=alice_h)).json()[-1]
    going_up = await grouped(client, alice_h, min_id=oldest["id"], limit=1)
    [up] = going_up["notification_groups"]
    assert up["status_id"] == first["id"] and up["notifications_count"] == 2
    assert int(up["page_min_id"]) > int(oldest["id"])


async def test_partial_avatars_and_a_bad_expand_accounts(client):
    alice, alice_h = await person("alice")
    posted = (await post_status(client, alice_h, status="many fans")).json()
    fans = await liked_by(client, posted["id"], ["bob", "carol", "dave"])

    body = await grouped(client, alice_h, expand_accounts="partial_avatars")
    assert sorted(a["id"] for a in body["accounts"]) == sorted([str(alice.id), str(fans[-1].id)])
    assert sorted(a["id"] for a in body["partial_accounts"]) == sorted(str(f.id) for f in fans[:-1])
    assert set(body["partial_accounts"][0]) == {"id", "acct", "locked", "bot", "url", "avatar", "avatar_static"}

    bad = await client.get("/api/v2/notifications", params={"expand_accounts": "everything"}, headers=alice_h)
    assert bad.status_code == 400 and "expand_accounts" in bad.json()["error"]


async def test_one_group_its_accounts_and_dismissing_it(client):
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    posted = (await post_status(client, alice_h, status="one group")).json()
    fans = await liked_by(client, posted["id"], ["carol", "dave"])
    [group] = (await grouped(client, alice_h))["notification_groups"]
    key = group["group_key"]

    one = await client.get(f"/api/v2/notifications/{key}", headers=alice_h)
    assert one.status_code == 200
    assert_matches_spec(one, "GET", "/api/v2/notifications/{group_key}")
    [same] = one.json()["notification_groups"]
    assert same["notifications_count"] == 2 and "page_min_id" not in same

    accounts = await client.get(f"/api/v2/notifications/{key}/accounts", headers=alice_h)
    assert accounts.status_code == 200
    assert_matches_spec(accounts, "GET", "/api/v2/notifications/{group_key}/accounts")
    assert [a["id"] for a in accounts.json()] == [str(f.id) for f in reversed(fans)]
    # As Mastodon: two of 40 is the last page (no next); prev by min_id. A full page goes on.
    assert set(cursors(accounts)) == {"prev"} and cursors(accounts)["prev"][0] == "min_id"
    full = await client.get(f"/api/v2/notifications/{key}/accounts", params={"limit": 2}, headers=alice_h)
    assert set(cursors(full)) == {"next", "prev"}

    # Someone else's group: not found, and dismissing it removes nothing of alice's.
    assert (await client.get(f"/api/v2/notifications/{key}", headers=bob_h)).status_code == 404
    assert (await client.get("/api/v2/notifications/ungrouped-³", headers=alice_h)).status_code == 404
    missing = await client.get("/api/v2/notifications/ungrouped-12345", headers=alice_h)
    assert missing.status_code == 404
    assert_matches_spec(missing, "GET", "/api/v2/notifications/{group_key}")
    await client.post(f"/api/v2/notifications/{key}/dismiss", headers=bob_h)
    assert len((await grouped(client, alice_h))["notification_groups"]) == 1

    dismissed = await client.post(f"/api/v2/notifications/{key}/dismiss", headers=alice_h)
    assert dismissed.status_code == 200 and dismissed.json() == {}
    assert_matches_spec(dismissed, "POST", "/api/v2/notifications/{group_key}/dismiss")
    assert (await grouped(client, alice_h))["notification_groups"] == []
    assert (await client.get("/api/v1/notifications", headers=alice_h)).json() == []


async def test_clearing_through_v2_takes_everything_of_ones_own(client):
    """Mastodon routes POST /api/v2/notifications/clear too (Api::V2::NotificationsController#clear):
    "clear" is not taken for a group key."""
    alice, alice_h = await person("alice")
    bob, bob_h = await person("bob")
    posted = (await post_status(client, alice_h, status="like me")).json()
    await liked_by(client, posted["id"], ["carol", "dave"])
    await post_status(client, bob_h, status="@alice a private word", visibility="direct")  # held back: a request
    await post_status(client, alice_h, status="@bob hi")
    await settled()
    assert len((await grouped(client, alice_h, include_filtered="true"))["notification_groups"]) == 2

    reader = bearer(await token_for(alice, "read:notifications"))
    assert (await client.post("/api/v2/notifications/clear", headers=reader)).status_code == 403
    cleared = await client.post("/api/v2/notifications/clear", headers=alice_h)
    assert cleared.status_code == 200 and cleared.json() == {}
    assert (await grouped(client, alice_h, include_filtered="true"))["notification_groups"] == []
    assert (await client.get("/api/v1/notifications/requests", headers=alice_h)).json() == []
    assert len((await grouped(client, bob_h))["notification_groups"]) == 1  # only one's own are cleared


async def test_unread_group_count_and_policy(client):
    alice, alice_h = await person("alice")
    posted = (await post_status(client, alice_h, status="count me")).json()
    await liked_by(client, posted["id"], ["bob", "carol"])
    _, dave_h = await person("dave")
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=dave_h)
    await settled()

    async def count(**params):
        response = await client.get("/api/v2/notifications/unread_count", params=params, headers=alice_h)
        assert response.status_code == 200
        assert_matches_spec(response, "GET", "/api/v2/notifications/unread_count")
        return response.json()["count"]

    assert await count() == 2  # one favourite group, one follow group
    assert await count(**{"grouped_types[]": "follow"}) == 3
    flat = (await client.get("/api/v1/notifications", headers=alice_h)).json()
    async with db.session() as session:
        session.add(Marker(account_id=alice.id, timeline="notifications", last_read_id=int(flat[1]["id"])))
    assert await count() == 1

    policy = await client.get("/api/v2/notifications/policy", headers=alice_h)
    assert policy.status_code == 200
    assert_matches_spec(policy, "GET", "/api/v2/notifications/policy")


async def test_malformed_ids_and_limits(client):
    _, alice_h = await person("alice")
    for params in ({"max_id": "abc"}, {"min_id": "1.5"}, {"limit": "x"}):
        response = await client.get("/api/v2/notifications", params=params, headers=alice_h)
        assert response.status_code == 422, params
    clamped = await client.get("/api/v2/notifications", params={"limit": 1000}, headers=alice_h)
    assert clamped.status_code == 200
    assert (await client.get("/api/v2/notifications")).status_code == 401


async def test_a_group_keeps_collecting_for_twelve_hours_then_a_new_one_starts(client):
    alice, alice_h = await person("alice")
    posted = (await post_status(client, alice_h, status="slow burner")).json()
    await liked_by(client, posted["id"], ["bob"])
    [group] = (await grouped(client, alice_h))["notification_groups"]
    prefix, hour = group["group_key"].rsplit("-", 1)

    async def started_hours_ago(hours: int) -> None:
        """Pretend the existing group began `hours` ago (its key carries its first hour)."""
        async with db.session() as session:
            await session.execute(update(Notification).where(Notification.account_id == alice.id)
                                  .values(group_key=f"{prefix}-{int(hour) - hours}"))

    await started_hours_ago(11)
    await liked_by(client, posted["id"], ["carol"])
    [joined] = (await grouped(client, alice_h))["notification_groups"]
    assert joined["notifications_count"] == 2 and joined["group_key"] == f"{prefix}-{int(hour) - 11}"

    await started_hours_ago(13)
    await liked_by(client, posted["id"], ["dave"])
    groups = (await grouped(client, alice_h))["notification_groups"]
    assert [g["notifications_count"] for g in groups] == [1, 2]
    assert groups[0]["group_key"] == f"{prefix}-{hour}"
