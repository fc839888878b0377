"""GET /api/v1/accounts/:id/statuses: filters, pagination, visibility and blocks."""
from __future__ import annotations

import re

from sqlalchemy import update
from starlette.requests import Request

from app import db
from app.api.pagination import Page
from app.models import Account, User
from tests.support.links import cursors
from tests.support.openapi import assert_matches_spec
from tests.support.world import block, follow, make_media, post_status, signed_in

PATH = "/api/v1/accounts/{id}/statuses"


async def listed(client, account: Account, headers=None, **params) -> list[str]:
    response = await client.get(f"/api/v1/accounts/{account.id}/statuses", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", PATH)
    return [s["id"] for s in response.json()]


async def test_filters_replies_boosts_media_tags_and_pins(client):
    alice, alice_h = await signed_in("alice")
    bob, bob_h = await signed_in("bob")
    bobs = (await post_status(client, bob_h, status="bob's post")).json()["id"]
    plain = (await post_status(client, alice_h, status="hello #Cats")).json()["id"]
    self_reply = (await post_status(client, alice_h, status="and more", in_reply_to_id=plain)).json()["id"]
    reply_to_bob = (await post_status(client, alice_h, status="@bob hi", in_reply_to_id=bobs)).json()["id"]
    media = await make_media(alice)
    with_media = (await post_status(client, alice_h, status="", media_ids=[str(media.id)])).json()["id"]
    boost = (await client.post(f"/api/v1/statuses/{bobs}/reblog", headers=alice_h)).json()["id"]
    pinned = (await client.post(f"/api/v1/statuses/{plain}/pin", headers=alice_h)).json()

    assert await listed(client, alice) == [boost, with_media, reply_to_bob, self_reply, plain]
    # Mastodon keeps replies to oneself (threads) when leaving replies out
    assert await listed(client, alice, exclude_replies="true") == [boost, with_media, self_reply, plain]
    assert await listed(client, alice, exclude_reblogs="true") == [with_media, reply_to_bob, self_reply, plain]
    assert await listed(client, alice, only_media="true") == [with_media]
    assert await listed(client, alice, tagged="cats") == [plain]
    assert await listed(client, alice, tagged="#CATS") == [plain]
    assert await listed(client, alice, tagged="dogs") == []
    assert await listed(client, alice, pinned="true") == [plain]
    assert pinned["pinned"] is True
    own_view = await client.get(f"/api/v1/accounts/{alice.id}/statuses", params={"pinned": "true"}, headers=alice_h)
    assert own_view.json()[0]["pinned"] is True
    bad = await client.get(f"/api/v1/accounts/{alice.id}/statuses", params={"pinned": "maybe"})
    assert bad.status_code == 422


async def test_pinned_come_newest_pin_first(client):
    alice, alice_h = await signed_in("alice")
    first = (await post_status(client, alice_h, status="first")).json()["id"]
    second = (await post_status(client, alice_h, status="second")).json()["id"]
    for status_id in (second, first):
        await client.post(f"/api/v1/statuses/{status_id}/pin", headers=alice_h)
    assert await listed(client, alice, pinned="true") == [first, second]


async def test_pagination_with_link_headers(client):
    alice, alice_h = await signed_in("alice")
    ids = [(await post_status(client, alice_h, status=f"n{n}")).json()["id"] for n in range(5)]
    first = await client.get(f"/api/v1/accounts/{alice.id}/statuses", params={"limit": 2})
    assert [s["id"] for s in first.json()] == [ids[4], ids[3]]
    link = first.headers["link"]
    assert f"max_id={ids[3]}" in link and f"min_id={ids[4]}" in link
    assert await listed(client, alice, limit=2, max_id=ids[3]) == [ids[2], ids[1]]
    # As Mastodon: next only on a full page (a short one is the last), prev by min_id.
    last = await client.get(f"/api/v1/accounts/{alice.id}/statuses", params={"limit": 2, "max_id": ids[1]})
    assert [s["id"] for s in last.json()] == [ids[0]]
    assert cursors(last) == {"prev": ("min_id", ids[0])}
    assert await listed(client, alice, since_id=ids[2]) == [ids[4], ids[3]]
    assert await listed(client, alice, limit=2, min_id=ids[0]) == [ids[2], ids[1]]


async def test_link_headers_are_on_the_instances_own_base_url_whatever_host_was_asked(client, settings):
    """Behind a proxy the request may come as http:// or to an internal name: the Link still
    leads to the instance's own address, which https apps can follow."""
    alice, alice_h = await signed_in("alice")
    for n in range(3):
        await post_status(client, alice_h, status=f"n{n}")
    page = await client.get(f"http://upstream.internal:3000/api/v1/accounts/{alice.id}/statuses",
                            params={"limit": 2})
    assert page.status_code == 200
    targets = re.findall(r"<([^>]+)>", page.headers["link"])
    assert len(targets) == 2
    assert all(t.startswith(f"{settings.base_url}/api/v1/accounts/{alice.id}/statuses?") for t in targets)


def test_link_headers_keep_a_mount_prefix_once():
    """Mounted under a prefix, the server puts it in the path as well as in root_path (ASGI 2.3):
    the Link carries it once."""
    scope = {"type": "http", "method": "GET", "root_path": "/social", "path": "/social/api/v1/timelines/home",
             "query_string": b"limit=2", "headers": []}
    link = Page(limit=2).link_header(Request(scope), [5, 9])["Link"]
    assert "/social/api/v1/timelines/home?limit=2&max_id=5" in link and "/social/social/" not in link


def test_link_headers_leave_next_out_of_a_last_page_and_take_the_prev_cursor_asked_for():
    scope = {"type": "http", "method": "GET", "path": "/api/v1/blocks", "query_string": b"limit=2", "headers": []}
    page = Page(limit=2)
    assert page.full([1, 2]) and not page.full([1])
    last = page.link_header(Request(scope), [5], continues=False, prev_key="since_id")["Link"]
    assert 'rel="next"' not in last and last.endswith('/api/v1/blocks?limit=2&since_id=5>; rel="prev"')
    both = page.link_header(Request(scope), [5, 9])["Link"]  # the default: timelines, notifications
    assert 'max_id=5>; rel="next"' in both and 'min_id=9>; rel="prev"' in both


async def test_visibility_levels_per_viewer(client):
    alice, alice_h = await signed_in("alice")
    follower, follower_h = await signed_in("follower")
    _, stranger_h = await signed_in("stranger")
    await follow(follower, alice)
    public = (await post_status(client, alice_h, status="public")).json()["id"]
    unlisted = (await post_status(client, alice_h, status="unlisted", visibility="unlisted")).json()["id"]
    private = (await post_status(client, alice_h, status="private", visibility="private")).json()["id"]
    direct = (await post_status(client, alice_h, status="@follower direct", visibility="direct")).json()["id"]
    to_nobody = (await post_status(client, alice_h, status="note to self", visibility="direct")).json()["id"]
    deleted = (await post_status(client, alice_h, status="deleted")).json()["id"]
    await client.delete(f"/api/v1/statuses/{deleted}", headers=alice_h)

    assert await listed(client, alice) == [unlisted, public]
    assert await listed(client, alice, stranger_h) == [unlisted, public]
    assert await listed(client, alice, follower_h) == [direct, private, unlisted, public]
    assert await listed(client, alice, alice_h) == [to_nobody, direct, private, unlisted, public]


async def test_blocks_either_way_empty_the_list(client):
    alice, alice_h = await signed_in("alice")
    blocked, blocked_h = await signed_in("blocked")
    blocker, blocker_h = await signed_in("blocker")
    await post_status(client, alice_h, status="hi")
    await post_status(client, blocker_h, status="from the blocker")
    await block(alice, blocked)
    await block(blocker, alice)
    assert await listed(client, alice, blocked_h) == []  # alice blocks them
    assert await listed(client, blocker, alice_h) == []  # they block alice
    assert len(await listed(client, alice)) == 1


async def test_unknown_or_unconfirmed_accounts_are_not_found(client):
    alice, _ = await signed_in("alice")
    for account_id in ("31337", "99999999999999999999", "abc"):
        response = await client.get(f"/api/v1/accounts/{account_id}/statuses")
        assert response.status_code == 404, account_id
    assert_matches_spec(response, "GET", PATH)
    async with db.session() as session:
        await session.execute(update(User).where(User.account_id == alice.id).values(confirmed_at=None))
    assert (await client.get(f"/api/v1/accounts/{alice.id}/statuses")).status_code == 404


async def test_boosts_of_muted_authors_are_left_out(client):
    alice, alice_h = await signed_in("alice")
    muted, muted_h = await signed_in("muted")
    _, viewer_h = await signed_in("viewer")
    theirs = (await post_status(client, muted_h, status="muted voice")).json()["id"]
    boost = (await client.post(f"/api/v1/statuses/{theirs}/reblog", headers=alice_h)).json()["id"]
    assert await listed(client, alice, viewer_h) == [boost]
    await client.post(f"/api/v1/accounts/{muted.id}/mute", headers=viewer_h)
    assert await listed(client, alice, viewer_h) == []
    assert await listed(client, alice) == [boost]
