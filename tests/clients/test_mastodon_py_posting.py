"""Issue 3 end to end with Mastodon.py against a running `starling serve`: post, a thread
three levels deep, like, boost, bookmark, pin, edit, delete, who liked and boosted,
account statuses (pinned, exclude_replies), then a block that makes the blocker's
posts disappear for the blocked.

Mastodon.py is synchronous, so the scenario runs in a worker thread while the test's
event loop stays free for the fixtures.
"""
from __future__ import annotations

import asyncio

from mastodon.errors import MastodonNotFoundError

from tests.support.world import make_user, mastodon_for, token_for


def ids(items) -> list:
    return [item.id for item in items]


def posting_session(base: str, alice_token: str, bob_token: str, carol_token: str) -> dict:
    alice, bob, carol = (mastodon_for(base, t) for t in (alice_token, bob_token, carol_token))
    me = alice.me()
    seen: dict = {}

    root = alice.status_post("Where do we meet? #plans")
    one = bob.status_post("@alice at the station", in_reply_to_id=root.id)
    two = alice.status_post("@bob which exit?", in_reply_to_id=one.id)
    three = bob.status_post("@alice north", in_reply_to_id=two.id)
    seen["descendants"] = (ids(bob.status_context(root.id).descendants), [one.id, two.id, three.id])
    seen["ancestors"] = (ids(carol.status_context(three.id).ancestors), [root.id, one.id, two.id])

    liked = carol.status_favourite(root.id)
    bob.status_favourite(root.id)
    boosted = carol.status_reblog(root.id)
    marked = carol.status_bookmark(root.id)
    pinned = alice.status_pin(root.id)
    seen["flags"] = (liked.favourited, boosted.reblog.reblogged, marked.bookmarked, pinned.pinned)
    seen["counts"] = (alice.status(root.id).favourites_count, alice.status(root.id).reblogs_count)
    seen["favourited_by"] = sorted(a.acct for a in alice.status_favourited_by(root.id))
    seen["reblogged_by"] = [a.acct for a in alice.status_reblogged_by(root.id)]
    seen["bookmarks"] = ids(carol.bookmarks())
    carol.status_favourite(one.id)
    first_page = carol.favourites(limit=1)
    seen["favourites"] = (ids(first_page), ids(carol.fetch_next(first_page) or []), [one.id, root.id])

    edited = alice.status_update(root.id, "Where do we meet? #plans (updated)")
    seen["edited"] = ("updated" in edited.content, edited.pinned)
    seen["pinned_list"] = ids(alice.account_statuses(me.id, pinned=True))
    seen["without_replies"] = ids(alice.account_statuses(me.id, exclude_replies=True))
    seen["all_of_alice"] = ids(bob.account_statuses(me.id))
    seen["expected_alice"] = [two.id, root.id]
    seen["root"] = root.id

    deleted = bob.status_delete(three.id)
    seen["deleted_text"] = deleted.text
    seen["after_delete"] = ids(alice.status_context(root.id).descendants)
    seen["expected_after_delete"] = [one.id, two.id]

    # carol is blocked by alice: alice's posts vanish for her everywhere
    alice.account_block(carol.me().id)
    try:
        carol.status(root.id)
        seen["blocked_status"] = "visible"
    except MastodonNotFoundError:
        seen["blocked_status"] = "404"
    context = carol.status_context(one.id)
    seen["blocked_context"] = (ids(context.ancestors), ids(context.descendants))
    seen["blocked_account_statuses"] = ids(carol.account_statuses(me.id))
    seen["blocked_bookmarks"] = ids(carol.bookmarks())
    seen["one"] = one.id
    return seen


async def test_mastodon_py_posts_a_thread_interacts_and_a_block_hides_it(live_server):
    accounts = [(await make_user(name))[0] for name in ("alice", "bob", "carol")]
    tokens = [await token_for(account) for account in accounts]
    seen = await asyncio.to_thread(posting_session, live_server, *tokens)

    assert seen["descendants"][0] == seen["descendants"][1]
    assert seen["ancestors"][0] == seen["ancestors"][1]
    assert seen["flags"] == (True, True, True, True)
    assert seen["counts"] == (2, 1)
    assert seen["favourited_by"] == ["bob", "carol"]
    assert seen["reblogged_by"] == ["carol"]
    assert seen["bookmarks"] == [seen["root"]]
    page, next_page, expected = seen["favourites"]
    assert page + next_page == expected  # Mastodon.py followed our Link header
    assert seen["edited"] == (True, True)
    assert seen["pinned_list"] == [seen["root"]]
    assert seen["without_replies"] == [seen["root"]]  # alice's reply to bob is left out
    assert seen["all_of_alice"] == seen["expected_alice"]
    assert seen["deleted_text"] == "@alice north"
    assert seen["after_delete"] == seen["expected_after_delete"]
    assert seen["blocked_status"] == "404"
    assert seen["blocked_context"] == ([], [])  # bob's reply is there, alice's posts around it are not
    assert seen["blocked_account_statuses"] == []
    assert seen["blocked_bookmarks"] == []
