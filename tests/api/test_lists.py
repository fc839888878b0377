"""Lists: CRUD, members (only followed accounts, all or nothing), list timelines with
replies_policy, and someone else's list answering 404."""
from __future__ import annotations

from sqlalchemy import update

from app import db
from app.models import Account, Follow, ListAccount
from app.models.base import utcnow
from tests.support.links import cursors
from tests.support.openapi import assert_matches_spec
from tests.support.polling import settled
from tests.support.world import count, follow, make_user, post_status, signed_in

LISTS = "/api/v1/lists"


async def make_list(client, headers, **data) -> dict:
    response = await client.post(LISTS, json={"title": "Friends", **data}, headers=headers)
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "POST", LISTS)
    return response.json()


async def test_create_show_update_and_delete(client):
    alice, alice_h = await signed_in("alice")
    made = await make_list(client, alice_h)
    assert made == {"id": made["id"], "title": "Friends", "replies_policy": "list", "exclusive": False}

    shown = await client.get(f"{LISTS}/{made['id']}", headers=alice_h)
    assert_matches_spec(shown, "GET", "/api/v1/lists/{id}")
    assert shown.json() == made
    updated = await client.put(f"{LISTS}/{made['id']}", json={"title": "Close friends", "replies_policy": "none",
                                                             "exclusive": True}, headers=alice_h)
    assert_matches_spec(updated, "PUT", "/api/v1/lists/{id}")
    assert updated.json() == {**made, "title": "Close friends", "replies_policy": "none", "exclusive": True}
    second = await make_list(client, alice_h, title="Work", replies_policy="followed")
    listed = await client.get(LISTS, headers=alice_h)
    assert_matches_spec(listed, "GET", LISTS)
    assert [item["title"] for item in listed.json()] == ["Close friends", "Work"]

    deleted = await client.delete(f"{LISTS}/{second['id']}", headers=alice_h)
    assert_matches_spec(deleted, "DELETE", "/api/v1/lists/{id}")
    assert deleted.json() == {}
    assert (await client.get(f"{LISTS}/{second['id']}", headers=alice_h)).status_code == 404


async def test_bad_titles_and_replies_policies_are_refused(client):
    alice, alice_h = await signed_in("alice")
    for data in ({"title": "  "}, {}, {"title": "x" * 256}, {"title": "ok", "replies_policy": "everyone"}):
        response = await client.post(LISTS, json=data, headers=alice_h)
        assert response.status_code == 422, data
        assert_matches_spec(response, "POST", LISTS)
    made = await make_list(client, alice_h)
    refused = await client.put(f"{LISTS}/{made['id']}", json={"replies_policy": "all"}, headers=alice_h)
    assert refused.status_code == 422 and "Replies policy" in refused.json()["error"]
    assert (await client.put(f"{LISTS}/{made['id']}", json={"title": ""}, headers=alice_h)).status_code == 422
    assert (await client.get(LISTS, headers=alice_h)).json() == [made]


async def test_an_account_may_have_50_lists(client):
    alice, alice_h = await signed_in("alice")
    for n in range(50):
        assert (await client.post(LISTS, json={"title": f"list {n}"}, headers=alice_h)).status_code == 200
    refused = await client.post(LISTS, json={"title": "one more"}, headers=alice_h)
    assert refused.status_code == 422 and "maximum number of lists" in refused.json()["error"]
    assert len((await client.get(LISTS, headers=alice_h)).json()) == 50
    _, bob_h = await signed_in("bob")  # a limit per account
    assert (await client.post(LISTS, json={"title": "bob's"}, headers=bob_h)).status_code == 200


async def test_someone_elses_list_is_not_found(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    await follow(bob, alice)
    theirs = await make_list(client, alice_h)
    base = f"{LISTS}/{theirs['id']}"
    for method, url, kwargs in (("GET", base, {}), ("PUT", base, {"json": {"title": "mine"}}), ("DELETE", base, {}),
                                ("GET", f"{base}/accounts", {}),
                                ("POST", f"{base}/accounts", {"json": {"account_ids": [str(alice.id)]}}),
                                ("GET", f"/api/v1/timelines/list/{theirs['id']}", {}),
                                ("GET", f"{LISTS}/not-a-number", {}), ("GET", f"{LISTS}/99999999999999999999", {})):
        response = await client.request(method, url, headers=bob_h, **kwargs)
        assert response.status_code == 404, (method, url)
        assert response.json() == {"error": "Record not found"}
    assert (await client.get(base, headers=alice_h)).json()["title"] == "Friends"
    assert (await client.get(LISTS)).status_code == 401


async def test_members_must_be_followed_and_are_added_all_or_nothing(client):
    alice, alice_h = await signed_in("alice")
    bob, _ = await make_user("bob")
    carol, _ = await make_user("carol")
    stranger, _ = await make_user("stranger")
    await follow(alice, bob)
    await follow(alice, carol)
    made = await make_list(client, alice_h)
    members = f"{LISTS}/{made['id']}/accounts"

    refused = await client.post(members, json={"account_ids": [str(bob.id), str(stranger.id)]}, headers=alice_h)
    assert refused.status_code == 404
    assert_matches_spec(refused, "POST", "/api/v1/lists/{id}/accounts")
    assert await count(ListAccount) == 0
    assert (await client.post(members, json={"account_ids": ["nope"]}, headers=alice_h)).status_code == 404
    nobody = await client.post(members, json={}, headers=alice_h)  # nobody to add: fine, as Mastodon
    assert (nobody.status_code, nobody.json()) == (200, {}) and await count(ListAccount) == 0

    added = await client.post(members, json={"account_ids": [str(bob.id), str(carol.id)]}, headers=alice_h)
    assert added.status_code == 200 and added.json() == {}
    again = await client.post(members, json={"account_ids": [str(bob.id)]}, headers=alice_h)
    assert again.status_code == 422 and again.json()["error"] == "Validation failed: Account has already been taken"

    page = await client.get(members, params={"limit": 1}, headers=alice_h)
    assert_matches_spec(page, "GET", "/api/v1/lists/{id}/accounts")
    assert [a["id"] for a in page.json()] == [str(carol.id)]
    following = await client.get(page.links["next"]["url"], headers=alice_h)
    assert [a["id"] for a in following.json()] == [str(bob.id)]
    # As Mastodon's account lists: prev by since_id, and a short page has no next.
    assert cursors(page)["prev"] == ("since_id", str(carol.id))
    both = await client.get(members, params={"limit": 3}, headers=alice_h)
    assert [a["id"] for a in both.json()] == [str(carol.id), str(bob.id)]
    assert cursors(both) == {"prev": ("since_id", str(carol.id))}
    everyone = await client.get(members, params={"limit": 0}, headers=alice_h)
    assert [a["id"] for a in everyone.json()] == [str(carol.id), str(bob.id)] and "link" not in everyone.headers

    in_lists = await client.get(f"/api/v1/accounts/{bob.id}/lists", headers=alice_h)
    assert_matches_spec(in_lists, "GET", "/api/v1/accounts/{id}/lists")
    assert [item["id"] for item in in_lists.json()] == [made["id"]]

    removed = await client.request("DELETE", members, json={"account_ids": [str(carol.id), str(stranger.id)]},
                                   headers=alice_h)
    assert_matches_spec(removed, "DELETE", "/api/v1/lists/{id}/accounts")
    assert removed.json() == {}
    # Unfollowing takes the account out of every list.
    assert (await client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=alice_h)).status_code == 200
    assert (await client.get(members, headers=alice_h)).json() == []
    assert (await client.get(f"/api/v1/accounts/{bob.id}/lists", headers=alice_h)).json() == []


async def test_members_are_paged_40_by_default_up_to_80_without_suspended_ones(client):
    alice, alice_h = await signed_in("alice")
    made = (await client.post("/api/v1/lists", json={"title": "Many"}, headers=alice_h)).json()
    members = f"/api/v1/lists/{made['id']}/accounts"
    async with db.session() as session:  # 42 followed accounts, written straight in (a test's worth of time)
        people = [Account(username=f"member{n}", domain="far.example", uri=f"https://far.example/users/member{n}")
                  for n in range(42)]
        session.add_all(people)
        await session.flush()
        session.add_all([Follow(account_id=alice.id, target_account_id=p.id) for p in people])
    added = await client.post(members, json={"account_ids": [str(p.id) for p in people]}, headers=alice_h)
    assert added.status_code == 200, added.text
    assert len((await client.get(members, headers=alice_h)).json()) == 40
    assert len((await client.get(members, params={"limit": 80}, headers=alice_h)).json()) == 42
    async with db.session() as session:
        await session.execute(update(Account).where(Account.id == people[0].id).values(suspended_at=utcnow()))
    listed = (await client.get(members, params={"limit": 500}, headers=alice_h)).json()
    assert len(listed) == 41 and str(people[0].id) not in {a["id"] for a in listed}


async def test_members_come_newest_account_first_and_page_by_account_id(client):
    """As Mastodon (paginate_by_max_id on the list's accounts): whatever order they were added
    in, and a client that pages on with the last account's id gets the rest; adding or
    removing nobody is fine."""
    alice, alice_h = await signed_in("alice")
    people = [(await signed_in(name))[0] for name in ("bob", "carol", "dave", "erin")]
    for person in people:
        await follow(alice, person)
    made = (await client.post("/api/v1/lists", json={"title": "Friends"}, headers=alice_h)).json()
    members = f"/api/v1/lists/{made['id']}/accounts"
    for person in (people[1], people[3], people[0], people[2]):  # added out of account order
        added = await client.post(members, json={"account_ids": [str(person.id)]}, headers=alice_h)
        assert added.status_code == 200, added.text
    newest_first = [str(p.id) for p in sorted(people, key=lambda p: p.id, reverse=True)]
    first = await client.get(members, params={"limit": 2}, headers=alice_h)
    assert [a["id"] for a in first.json()] == newest_first[:2]
    assert f"max_id={newest_first[1]}" in first.headers["link"]
    rest = await client.get(members, params={"limit": 2, "max_id": newest_first[1]}, headers=alice_h)
    assert [a["id"] for a in rest.json()] == newest_first[2:]
    for method in ("POST", "DELETE"):
        nobody = await client.request(method, members, json={"account_ids": []}, headers=alice_h)
        assert (nobody.status_code, nobody.json()) == (200, {})
    assert [a["id"] for a in (await client.get(members, headers=alice_h)).json()] == newest_first


async def list_timeline(client, headers, list_id) -> list[str]:
    response = await client.get(f"/api/v1/timelines/list/{list_id}", headers=headers)
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


async def test_a_list_shows_a_boosted_post_once_as_home_does(client):
    """As Mastodon's list feeds (the home feed's reblog rule): a boost is held back while its
    post, or a boost of it already shown, is among the 40 entries under it; the held-back
    entries still count for the paging, so scrolling neither skips nor repeats."""
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    carol, carol_h = await signed_in("carol")
    dave, dave_h = await signed_in("dave")
    _, erin_h = await signed_in("erin")  # not a member
    for target in (bob, carol, dave):
        await follow(alice, target)
    made = await make_list(client, alice_h)
    await client.post(f"{LISTS}/{made['id']}/accounts", json={"account_ids": [str(bob.id), str(carol.id), str(dave.id)]},
                      headers=alice_h)

    async def boost(headers, status) -> str:
        response = await client.post(f"/api/v1/statuses/{status['id']}/reblog", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()["id"]

    bobs = (await post_status(client, bob_h, status="bob's post")).json()
    erins = (await post_status(client, erin_h, status="erin's post")).json()
    await boost(carol_h, bobs)  # bob's own post is right under it: held back
    carol_boosts_erin = await boost(carol_h, erins)  # the first of erin's post in the list: shown
    await boost(dave_h, erins)  # carol's boost of it is right under it: held back
    daves = (await post_status(client, dave_h, status="dave's post")).json()
    await settled()

    shown = [daves["id"], carol_boosts_erin, bobs["id"]]
    assert await list_timeline(client, alice_h, made["id"]) == shown
    # One entry a page, down through the Link header, then back up: every entry once.
    paged, url = [], f"/api/v1/timelines/list/{made['id']}?limit=1"
    while url:
        response = await client.get(url, headers=alice_h)
        assert response.status_code == 200, response.text
        paged += [s["id"] for s in response.json()]
        url = response.links.get("next", {}).get("url") if response.json() else None
    assert paged == shown
    newer = await client.get(f"/api/v1/timelines/list/{made['id']}", params={"min_id": bobs["id"]}, headers=alice_h)
    assert [s["id"] for s in newer.json()] == shown[:2]


async def test_a_held_back_boost_is_judged_the_same_however_a_page_is_read(client):
    """A boost's verdict rests on the 40 entries under it alone: here a boost of an older post,
    41 entries down, behind a boost that is itself held back. Read downwards (the held-back one
    judged from further down) or upwards from just under it, the boost shows both times."""
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    carol, carol_h = await signed_in("carol")
    for target in (bob, carol):
        await follow(alice, target)
    made = await make_list(client, alice_h)
    await client.post(f"{LISTS}/{made['id']}/accounts", json={"account_ids": [str(bob.id), str(carol.id)]},
                      headers=alice_h)
    z = (await post_status(client, bob_h, status="z")).json()
    x = (await post_status(client, bob_h, status="x")).json()
    held = (await client.post(f"/api/v1/statuses/{z['id']}/reblog", headers=carol_h)).json()  # z is right under
    between = [(await post_status(client, bob_h, status=f"post {n}")).json()["id"] for n in range(39)]
    boost = (await client.post(f"/api/v1/statuses/{x['id']}/reblog", headers=carol_h)).json()  # x is 41 down
    await settled()

    down, url = [], f"/api/v1/timelines/list/{made['id']}?limit=40"
    while url:
        response = await client.get(url, headers=alice_h)
        down += [s["id"] for s in response.json()]
        url = response.links.get("next", {}).get("url") if response.json() else None
    assert down == [boost["id"], *reversed(between), x["id"], z["id"]]  # the boost of z held back
    assert held["id"] not in down
    up = await client.get(f"/api/v1/timelines/list/{made['id']}",
                          params={"min_id": str(int(boost["id"]) - 1), "limit": 1}, headers=alice_h)
    assert [s["id"] for s in up.json()] == [boost["id"]]


async def test_accounts_asked_to_follow_join_at_once_and_show_once_accepted(client):
    """As Mastodon: an account whose follow request is pending can be added; its posts show
    in the list once the request is accepted, and a rejected request takes it out."""
    alice, alice_h = await signed_in("alice")
    carol, carol_h = await signed_in("carol", locked=True)
    dave, dave_h = await signed_in("dave", locked=True)
    for target in (carol, dave):
        await follow(alice, target)  # requests: both are locked
    made = await make_list(client, alice_h)
    members = f"{LISTS}/{made['id']}/accounts"
    added = await client.post(members, json={"account_ids": [str(carol.id), str(dave.id)]}, headers=alice_h)
    assert added.status_code == 200, added.text
    assert {a["id"] for a in (await client.get(members, headers=alice_h)).json()} == {str(carol.id), str(dave.id)}
    early = await post_status(client, carol_h, status="public, but carol is not followed yet")
    assert await list_timeline(client, alice_h, made["id"]) == []

    assert (await client.post(f"/api/v1/follow_requests/{alice.id}/authorize", headers=carol_h)).status_code == 200
    assert (await client.post(f"/api/v1/follow_requests/{alice.id}/reject", headers=dave_h)).status_code == 200
    await settled()
    assert [a["id"] for a in (await client.get(members, headers=alice_h)).json()] == [str(carol.id)]
    later = await post_status(client, carol_h, status="now she may", visibility="private")
    assert await list_timeline(client, alice_h, made["id"]) == [later.json()["id"], early.json()["id"]]
    # The membership hangs on the follow now: unfollowing takes carol out.
    assert (await client.post(f"/api/v1/accounts/{carol.id}/unfollow", headers=alice_h)).status_code == 200
    assert (await client.get(members, headers=alice_h)).json() == []
    assert await count(ListAccount) == 0


async def test_the_owner_may_be_a_member_of_their_own_list(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    await follow(alice, bob)
    made = await make_list(client, alice_h, exclusive=True)
    members = f"{LISTS}/{made['id']}/accounts"
    added = await client.post(members, json={"account_ids": [str(alice.id), str(bob.id)]}, headers=alice_h)
    assert added.status_code == 200, added.text
    assert {a["id"] for a in (await client.get(members, headers=alice_h)).json()} == {str(alice.id), str(bob.id)}
    mine = (await post_status(client, alice_h, status="me, in my own list")).json()
    theirs = (await post_status(client, bob_h, status="bob")).json()
    await settled()
    assert await list_timeline(client, alice_h, made["id"]) == [theirs["id"], mine["id"]]
    # An exclusive list takes its members out of home, but one's own posts stay (Mastodon).
    home = (await client.get("/api/v1/timelines/home", headers=alice_h)).json()
    assert [s["id"] for s in home] == [mine["id"]]
    in_lists = await client.get(f"/api/v1/accounts/{alice.id}/lists", headers=alice_h)
    assert [item["id"] for item in in_lists.json()] == [made["id"]]


async def test_list_timeline_follows_the_replies_policy(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    carol, carol_h = await signed_in("carol")
    dave, dave_h = await signed_in("dave")
    for target in (bob, carol, dave):
        await follow(alice, target)
    question_carol = (await post_status(client, carol_h, status="carol asks")).json()
    question_dave = (await post_status(client, dave_h, status="dave asks")).json()
    plain = (await post_status(client, bob_h, status="plain")).json()
    to_carol = (await post_status(client, bob_h, status="@carol answer", in_reply_to_id=question_carol["id"])).json()
    to_dave = (await post_status(client, bob_h, status="@dave answer", in_reply_to_id=question_dave["id"])).json()
    question_alice = (await post_status(client, alice_h, status="alice asks")).json()
    to_alice = (await post_status(client, bob_h, status="@alice answer", in_reply_to_id=question_alice["id"])).json()
    await settled()

    async def timeline(policy):
        made = await make_list(client, alice_h, title=policy, replies_policy=policy)
        await client.post(f"{LISTS}/{made['id']}/accounts", json={"account_ids": [str(bob.id), str(carol.id)]},
                          headers=alice_h)
        response = await client.get(f"/api/v1/timelines/list/{made['id']}", headers=alice_h)
        assert_matches_spec(response, "GET", "/api/v1/timelines/list/{list_id}")
        return [s["id"] for s in response.json()]

    # A reply to the list's owner (alice) shows under every policy, as in Mastodon.
    assert await timeline("none") == [to_alice["id"], plain["id"], question_carol["id"]]
    assert await timeline("list") == [to_alice["id"], to_carol["id"], plain["id"], question_carol["id"]]
    assert await timeline("followed") == [to_alice["id"], to_dave["id"], to_carol["id"], plain["id"],
                                          question_carol["id"]]


async def test_direct_posts_never_show_in_a_list(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    await follow(alice, bob)
    made = await make_list(client, alice_h, title="friends")
    await client.post(f"{LISTS}/{made['id']}/accounts", json={"account_ids": [str(bob.id)]}, headers=alice_h)
    public = (await post_status(client, bob_h, status="for everyone")).json()
    secret = (await post_status(client, bob_h, status="@alice just for you", visibility="direct")).json()
    await settled()
    listed = await client.get(f"/api/v1/timelines/list/{made['id']}", headers=alice_h)
    assert [s["id"] for s in listed.json()] == [public["id"]]
    # Mastodon sends a direct post to the home feeds of those it mentions, not to their lists.
    home = await client.get("/api/v1/timelines/home", headers=alice_h)
    assert [s["id"] for s in home.json()] == [secret["id"], public["id"]]


async def test_a_list_leaves_out_boosts_of_posts_by_accounts_the_owner_muted(client):
    """As home (and Mastodon's list feeds): a member's boost of a muted account's post is not shown."""
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    carol, carol_h = await signed_in("carol")
    await follow(alice, bob)
    made = await client.post("/api/v1/lists", json={"title": "Bob"}, headers=alice_h)
    list_id = made.json()["id"]
    added = await client.post(f"/api/v1/lists/{list_id}/accounts", json={"account_ids": [str(bob.id)]}, headers=alice_h)
    assert added.status_code == 200, added.text
    carols = (await post_status(client, carol_h, status="carol speaking")).json()
    boost = await client.post(f"/api/v1/statuses/{carols['id']}/reblog", headers=bob_h)
    own = (await post_status(client, bob_h, status="bob speaking")).json()
    assert boost.status_code == 200, boost.text
    assert (await client.post(f"/api/v1/accounts/{carol.id}/mute", headers=alice_h)).status_code == 200
    listed = await client.get(f"/api/v1/timelines/list/{list_id}", headers=alice_h)
    assert listed.status_code == 200, listed.text
    assert [s["id"] for s in listed.json()] == [own["id"]]
    home = await client.get("/api/v1/timelines/home", headers=alice_h)
    assert [s["id"] for s in home.json()] == [own["id"]]
