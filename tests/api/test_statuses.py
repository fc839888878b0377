"""Statuses API: posting (text, mentions, tags, links, media, replies, Idempotency-Key, limits),
viewing, editing with history and source, deleting for redraft."""
from __future__ import annotations

import asyncio
import dataclasses

import httpx
from mastodon import Mastodon
from sqlalchemy import event, update
from sqlmodel import select

from app import db
from app.api.entities.status import render_statuses
from app.config import configure
from app.main import create_app
from app.models import Account, MediaAttachment, Mention, Poll, Status, StatusEdit, StatusTag, Tag, Tombstone, User
from tests.support.openapi import assert_matches_spec
from tests.support.world import bearer, count, make_media, make_user, signed_in, token_for

STATUSES = "/api/v1/statuses"


async def reload(model, row_id):
    async with db.session() as session:
        return await session.get(model, row_id)


async def post(client, headers, **data) -> httpx.Response:
    return await client.post(STATUSES, json=data, headers=headers)


# -- posting ------------------------------------------------------------------------------------

async def test_accounts_not_yet_confirmed_or_approved_cannot_be_mentioned(client):
    _, headers = await signed_in("alice")
    await make_user("pending", approved=False)
    await make_user("unconfirmed", confirmed=False)
    response = await post(client, headers, status="hello @pending and @unconfirmed")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mentions"] == [] and "mention" not in body["content"]
    assert await count(Mention) == 0


async def test_post_renders_mentions_hashtags_and_links(client, settings):
    alice, headers = await signed_in("alice")
    bob, _ = await make_user("bob")
    text = (f"Hi @bob, @bob@{settings.domain} and @ghost! #Cats & <b>dogs</b>\n"
            "see https://example.com/a?b=1\n\nbye")
    response = await post(client, headers, status=text, language="en")
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "POST", STATUSES)
    body = response.json()
    base = settings.base_url
    mention = (f'<span class="h-card" translate="no"><a href="{base}/@bob" class="u-url mention">'
               f'@<span>bob</span></a></span>')
    assert body["content"] == (
        f"<p>Hi {mention}, {mention} and @ghost! "
        f'<a href="{base}/tags/cats" class="mention hashtag" rel="tag">#<span>Cats</span></a> '
        "&amp; &lt;b&gt;dogs&lt;/b&gt;<br />see "
        '<a href="https://example.com/a?b=1" target="_blank" rel="nofollow noopener">'
        '<span class="invisible">https://</span><span class="">example.com/a?b=1</span>'
        '<span class="invisible"></span></a></p><p>bye</p>'
    )
    assert body["mentions"] == [{"id": str(bob.id), "username": "bob", "url": f"{base}/@bob", "acct": "bob"}]
    assert body["tags"] == [{"name": "cats", "url": f"{base}/tags/cats"}]  # by its key, as Mastodon
    accented = (await post(client, headers, status="#Café au lait, #日本語 #ＣＡＦＥ")).json()
    # One tag however spelt, named by its key, its URL a URI, as Mastodon's.
    assert accented["tags"] == [{"name": "cafe", "url": f"{base}/tags/cafe"},
                                {"name": "日本語", "url": f"{base}/tags/%E6%97%A5%E6%9C%AC%E8%AA%9E"}]
    assert f'href="{base}/tags/cafe"' in accented["content"]
    assert_matches_spec(await client.get(f"/api/v1/statuses/{accented['id']}", headers=headers), "GET",
                        "/api/v1/statuses/{id}")
    assert body["application"] == {"name": "Test app", "website": None}
    assert body["visibility"] == "public" and body["language"] == "en"
    assert body["uri"] == f"{base}/users/alice/statuses/{body['id']}"
    assert body["url"] == f"{base}/@alice/{body['id']}"
    assert body["account"]["statuses_count"] == 1
    assert (body["favourited"], body["reblogged"], body["bookmarked"], body["pinned"]) == (False, False, False, False)


async def test_others_do_not_see_which_app_posted(client):
    alice, headers = await signed_in("alice")
    _, bob_headers = await signed_in("bob")
    status_id = (await post(client, headers, status="hello")).json()["id"]
    assert (await client.get(f"{STATUSES}/{status_id}", headers=bob_headers)).json()["application"] is None
    anonymous = await client.get(f"{STATUSES}/{status_id}")
    assert anonymous.status_code == 200
    assert_matches_spec(anonymous, "GET", "/api/v1/statuses/{id}")
    assert anonymous.json()["application"] is None and "favourited" not in anonymous.json()


async def test_hashtags_are_shared_case_insensitively(client):
    _, headers = await signed_in()
    await post(client, headers, status="#Cats")
    await post(client, headers, status="#cats and #CATS again")
    assert await count(Tag) == 1
    assert await count(StatusTag) == 2


async def test_hashtags_the_database_folds_together_make_one_tag(client):
    # Python lower-cases 'İ' to 'i' plus a combining dot, and marks belong to hashtags; the key
    # folds 'İ' to 'I' first (as Mastodon's normaliser ends with a plain 'i'): one tag.
    _, headers = await signed_in()
    response = await client.post(STATUSES, json={"status": "#İstanbul and #istanbul"}, headers=headers)
    assert response.status_code == 200, response.text
    assert len(response.json()["tags"]) == 1
    assert await count(Tag) == 1 and await count(StatusTag) == 1


async def test_hashtags_keep_their_marks_and_a_name_of_nothing_is_no_hashtag(client):
    _, headers = await signed_in()
    thai = (await post(client, headers, status="#สวัสดี ครับ")).json()
    assert [t["name"] for t in thai["tags"]] == ["สวัสดี"]  # vowel marks included (was cut to สว)
    # NFKC turns one ligature into 18 letters: the key is cut, the post still goes out.
    long = await post(client, headers, status="#" + "\ufdfa" * 20)
    assert long.status_code == 200, long.text
    assert len(long.json()["tags"]) == 1
    # A name that normalises to a lone mark is no hashtag: no tag, nothing to show or follow.
    nothing = (await post(client, headers, status="#\ufe70 alone")).json()
    assert nothing["tags"] == []
    assert (await client.get("/api/v1/tags/\ufe70")).status_code == 404
    assert (await client.post("/api/v1/tags/\ufe70/follow", headers=headers)).status_code == 404
    found = await client.get("/api/v2/search", params={"q": "#\ufe70", "type": "hashtags"}, headers=headers)
    assert found.status_code == 200 and found.json()["hashtags"] == []  # not every tag there is
    assert await count(Tag) == 2


async def test_form_encoded_post_with_defaults_from_the_user(client):
    alice, headers = await signed_in()
    async with db.session() as session:
        await session.exec(update(User).where(User.account_id == alice.id).values(
            default_privacy="unlisted", default_sensitive=True, default_language="de"))
    response = await client.post(STATUSES, data={"status": "hallo"}, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert (body["visibility"], body["sensitive"], body["language"]) == ("unlisted", True, "de")


async def test_content_warning_makes_the_post_sensitive(client):
    _, headers = await signed_in()
    body = (await post(client, headers, status="spoilers", spoiler_text="Film ending")).json()
    assert body["spoiler_text"] == "Film ending" and body["sensitive"] is True


async def test_length_is_counted_as_mastodon_counts_it(client, settings):
    _, headers = await signed_in()
    await make_user("bob")
    long_url = "https://example.com/" + "a" * 300
    # 23 for the link + 257 characters = 280: allowed, though the raw text is far longer.
    ok = await post(client, headers, status=long_url + " " + "x" * 256)
    assert ok.status_code == 200, ok.text
    # A mention with a domain counts as "@bob" only.
    mention = f"@bob@{settings.domain} "
    assert (await post(client, headers, status=mention + "y" * (280 - len("@bob ")))).status_code == 200
    emoji = "👍🏽" * 280  # one user-perceived character each
    assert (await post(client, headers, status=emoji)).status_code == 200
    before = await count(Status)

    too_long = await post(client, headers, status="x" * 281)
    assert too_long.status_code == 422
    assert_matches_spec(too_long, "POST", STATUSES)
    assert too_long.json()["error"] == "Validation failed: Text character limit of 280 exceeded"
    # The content warning counts too.
    assert (await post(client, headers, status="x" * 200, spoiler_text="w" * 81)).status_code == 422
    assert await count(Status) == before


async def test_empty_post_is_refused(client):
    alice, headers = await signed_in()
    for data in ({"status": ""}, {"status": "   \n "}, {}):
        response = await post(client, headers, **data)
        assert response.status_code == 422
        assert response.json() == {"error": "Validation failed: Text can't be blank", "details": {}}
    assert await count(Status) == 0
    assert (await reload(Account, alice.id)).statuses_count == 0


async def test_bad_visibility_and_scheduling_are_refused(client):
    _, headers = await signed_in()
    assert (await post(client, headers, status="x", visibility="friends")).status_code == 422
    scheduled = await post(client, headers, status="x", scheduled_at="2099-01-01T00:00:00Z")
    assert scheduled.status_code == 422 and "not supported" in scheduled.json()["error"]
    assert await count(Status) == 0


async def test_posting_needs_a_user_token_with_write_statuses(client):
    account, _ = await make_user("alice")
    read_only = bearer(await token_for(account, "read"))
    assert (await post(client, read_only, status="x")).status_code == 403
    app_only = bearer(await token_for(None, "write"))
    assert (await post(client, app_only, status="x")).status_code == 422
    assert (await post(client, {}, status="x")).status_code == 401
    assert await count(Status) == 0


# -- media --------------------------------------------------------------------------------------

async def test_media_are_attached_in_order_and_allow_an_empty_text(client):
    alice, headers = await signed_in()
    first, second = await make_media(alice, description="a cat"), await make_media(alice)
    response = await post(client, headers, media_ids=[str(second.id), str(first.id)])
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "POST", STATUSES)
    body = response.json()
    assert [m["id"] for m in body["media_attachments"]] == [str(second.id), str(first.id)]
    assert body["media_attachments"][1]["description"] == "a cat"
    assert (await reload(MediaAttachment, first.id)).status_id == int(body["id"])


async def test_someone_elses_processing_used_or_too_many_media_are_refused(client):
    alice, headers = await signed_in()
    bob, _ = await make_user("bob")
    bobs = await make_media(bob)
    processing = await make_media(alice, state="processing")
    mine = [await make_media(alice) for _ in range(5)]

    others = await post(client, headers, status="x", media_ids=[str(bobs.id)])
    assert others.status_code == 422
    assert_matches_spec(others, "POST", STATUSES)
    waiting = await post(client, headers, status="x", media_ids=[str(processing.id)])
    assert waiting.status_code == 422 and "processing" in waiting.json()["error"]
    five = await post(client, headers, status="x", media_ids=[str(m.id) for m in mine])
    assert five.status_code == 422 and five.json()["error"] == "Cannot attach more than 4 files"
    with_poll = await post(client, headers, status="x", media_ids=[str(mine[0].id)],
                           poll={"options": ["a", "b"], "expires_in": 3600})
    assert with_poll.status_code == 422
    # A valid attachment next to a bad one is not attached either.
    mixed = await post(client, headers, status="x", media_ids=[str(mine[0].id), str(bobs.id)])
    assert mixed.status_code == 422

    assert await count(Status) == 0
    assert await count(MediaAttachment, MediaAttachment.status_id.is_not(None)) == 0

    used = await post(client, headers, status="x", media_ids=[str(mine[0].id)])
    assert used.status_code == 200
    again = await post(client, headers, status="y", media_ids=[str(mine[0].id)])
    assert again.status_code == 422
    assert await count(Status) == 1


# -- replies ------------------------------------------------------------------------------------

async def test_reply_counts_and_threads(client):
    alice, headers = await signed_in("alice")
    bob, bob_headers = await signed_in("bob")
    root = (await post(client, headers, status="root")).json()
    reply = (await post(client, bob_headers, status="@alice yes", in_reply_to_id=root["id"])).json()
    assert reply["in_reply_to_id"] == root["id"]
    assert reply["in_reply_to_account_id"] == str(alice.id)
    nested = (await post(client, headers, status="deeper", in_reply_to_id=reply["id"])).json()
    assert (await client.get(f"{STATUSES}/{root['id']}")).json()["replies_count"] == 1
    async with db.session() as session:
        rows = {s.id: s for s in (await session.exec(select(Status))).all()}
    assert rows[int(nested["id"])].conversation_id == rows[int(reply["id"])].conversation_id == int(root["id"])


async def test_reply_to_an_invisible_or_deleted_post_is_not_found(client):
    alice, headers = await signed_in("alice")
    _, bob_headers = await signed_in("bob")
    private = (await post(client, headers, status="followers only", visibility="private")).json()
    gone = (await post(client, headers, status="soon gone")).json()
    assert (await client.delete(f"{STATUSES}/{gone['id']}", headers=headers)).status_code == 200
    before = await count(Status)
    for target in (private["id"], gone["id"], "123", "not-a-number"):
        response = await post(client, bob_headers, status="reply", in_reply_to_id=target)
        assert response.status_code == 404
        assert_matches_spec(response, "POST", STATUSES)
        assert response.json()["error"] == "The post you are trying to reply to does not appear to exist."
    assert await count(Status) == before


# -- Idempotency-Key and the posting budget -----------------------------------------------------

async def test_idempotency_key_returns_the_first_status(client):
    alice, headers = await signed_in()
    first = await client.post(STATUSES, json={"status": "once"}, headers={**headers, "Idempotency-Key": "k1"})
    second = await client.post(STATUSES, json={"status": "once"}, headers={**headers, "Idempotency-Key": "k1"})
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert await count(Status) == 1
    assert (await reload(Account, alice.id)).statuses_count == 1
    other = await client.post(STATUSES, json={"status": "once"}, headers={**headers, "Idempotency-Key": "k2"})
    assert other.json()["id"] != first.json()["id"]
    # Keys are per account.
    _, bob_headers = await signed_in("bob")
    bobs = await client.post(STATUSES, json={"status": "once"}, headers={**bob_headers, "Idempotency-Key": "k1"})
    assert bobs.json()["id"] != first.json()["id"]
    assert await count(Status) == 3


async def test_failed_post_does_not_burn_its_idempotency_key(client):
    _, headers = await signed_in()
    keyed = {**headers, "Idempotency-Key": "retry-me"}
    assert (await client.post(STATUSES, json={"status": ""}, headers=keyed)).status_code == 422
    assert (await client.post(STATUSES, json={"status": "now"}, headers=keyed)).status_code == 200
    assert await count(Status) == 1


async def test_posting_budget_answers_429_with_rate_limit_headers(settings):
    _, headers = await signed_in()
    try:
        # create_app installs its settings as the process-wide ones: put the test settings back after.
        limited = create_app(dataclasses.replace(settings, rate_limits=True, rate_limit_statuses=2))
        transport = httpx.ASGITransport(app=limited, client=("127.0.0.1", 50001))
        async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as client:
            assert (await post(client, headers, status="one")).status_code == 200
            assert (await post(client, headers, status="two")).status_code == 200
            third = await post(client, headers, status="three")
    finally:
        configure(settings)
    assert third.status_code == 429
    assert_matches_spec(third, "POST", STATUSES)
    assert third.headers["X-RateLimit-Limit"] == "2"
    assert third.headers["X-RateLimit-Remaining"] == "0"
    assert third.headers["X-RateLimit-Reset"].endswith("Z")
    assert await count(Status) == 2


# -- viewing several ----------------------------------------------------------------------------

async def test_index_returns_visible_statuses_in_the_order_asked(client):
    _, headers = await signed_in("alice")
    one = (await post(client, headers, status="one")).json()["id"]
    two = (await post(client, headers, status="two")).json()["id"]
    secret = (await post(client, headers, status="secret", visibility="direct")).json()["id"]
    response = await client.get(STATUSES, params=[("id[]", two), ("id[]", "999"), ("id[]", secret), ("id[]", one)])
    assert response.status_code == 200
    assert_matches_spec(response, "GET", STATUSES)
    assert [s["id"] for s in response.json()] == [two, one]
    mine = await client.get(STATUSES, params=[("id[]", secret)], headers=headers)
    assert [s["id"] for s in mine.json()] == [secret]


# -- editing ------------------------------------------------------------------------------------

async def test_edit_records_history_and_source(client):
    alice, headers = await signed_in("alice")
    await make_user("bob")
    created = (await post(client, headers, status="first @bob #one", spoiler_text="cw")).json()
    path = f"{STATUSES}/{created['id']}"
    edited = await client.put(path, json={"status": "second #two", "spoiler_text": "", "sensitive": False},
                              headers=headers)
    assert edited.status_code == 200, edited.text
    assert_matches_spec(edited, "PUT", "/api/v1/statuses/{id}")
    body = edited.json()
    assert body["edited_at"] is not None and body["content"] == (
        f'<p>second <a href="{body["tags"][0]["url"]}" class="mention hashtag" rel="tag">#<span>two</span></a></p>')
    assert body["mentions"] == [] and [t["name"] for t in body["tags"]] == ["two"]
    assert body["spoiler_text"] == "" and body["sensitive"] is False

    third = await client.put(path, json={"status": "third"}, headers=headers)
    assert third.status_code == 200
    history = await client.get(f"{path}/history")
    assert history.status_code == 200
    assert_matches_spec(history, "GET", "/api/v1/statuses/{id}/history")
    versions = history.json()
    assert len(versions) == 3
    assert versions[1]["content"].startswith("<p>second ") and versions[2]["content"] == "<p>third</p>"
    assert versions[0]["spoiler_text"] == "cw" and "first" in versions[0]["content"]
    assert versions[0]["created_at"] == created["created_at"]

    source = await client.get(f"{path}/source", headers=headers)
    assert source.status_code == 200
    assert_matches_spec(source, "GET", "/api/v1/statuses/{id}/source")
    assert source.json() == {"id": created["id"], "text": "third", "spoiler_text": ""}


async def test_history_of_an_unedited_status_is_the_status_itself(client):
    _, headers = await signed_in()
    created = (await post(client, headers, status="as is")).json()
    history = (await client.get(f"{STATUSES}/{created['id']}/history")).json()
    assert len(history) == 1 and history[0]["content"] == "<p>as is</p>"
    assert await count(StatusEdit) == 0


async def test_edit_that_changes_nothing_records_nothing(client):
    _, headers = await signed_in()
    created = (await post(client, headers, status="same")).json()
    response = await client.put(f"{STATUSES}/{created['id']}", json={"status": "same"}, headers=headers)
    assert response.status_code == 200 and response.json()["edited_at"] is None
    assert await count(StatusEdit) == 0


async def test_edit_swaps_media_and_poll(client):
    alice, headers = await signed_in()
    kept, dropped, added = await make_media(alice), await make_media(alice), await make_media(alice)
    created = (await post(client, headers, status="pics", media_ids=[str(kept.id), str(dropped.id)])).json()
    path = f"{STATUSES}/{created['id']}"
    body = (await client.put(path, json={"status": "pics", "media_ids": [str(added.id), str(kept.id)]},
                             headers=headers)).json()
    assert [m["id"] for m in body["media_attachments"]] == [str(added.id), str(kept.id)]
    assert (await reload(MediaAttachment, dropped.id)).status_id is None
    polled = await client.put(path, json={"status": "now a poll", "poll": {"options": ["x", "y"], "expires_in": 600}},
                              headers=headers)
    assert polled.status_code == 200
    assert [o["title"] for o in polled.json()["poll"]["options"]] == ["x", "y"]
    assert polled.json()["media_attachments"] == []
    history = (await client.get(f"{path}/history")).json()
    assert [len(v["media_attachments"]) for v in history] == [2, 2, 0]
    assert history[-1]["poll"] == {"options": [{"title": "x"}, {"title": "y"}]}


async def test_editing_someone_elses_or_a_deleted_post_is_not_found(client):
    _, headers = await signed_in("alice")
    _, bob_headers = await signed_in("bob")
    created = (await post(client, headers, status="mine")).json()
    path = f"{STATUSES}/{created['id']}"
    response = await client.put(path, json={"status": "hijacked"}, headers=bob_headers)
    assert response.status_code == 404
    assert_matches_spec(response, "PUT", "/api/v1/statuses/{id}")
    assert (await reload(Status, int(created["id"]))).text == "mine"
    assert await count(StatusEdit) == 0
    too_long = await client.put(path, json={"status": "x" * 281}, headers=headers)
    assert too_long.status_code == 422
    assert (await reload(Status, int(created["id"]))).text == "mine"
    await client.delete(path, headers=headers)
    assert (await client.put(path, json={"status": "again"}, headers=headers)).status_code == 404


# -- deleting -----------------------------------------------------------------------------------

async def test_delete_returns_the_source_for_redraft_and_fixes_counts(client):
    alice, headers = await signed_in("alice")
    bob, bob_headers = await signed_in("bob")
    picture = await make_media(alice)
    root = (await post(client, bob_headers, status="root")).json()
    created = (await post(client, headers, status="hello #tag", in_reply_to_id=root["id"],
                          media_ids=[str(picture.id)])).json()
    # bob boosts it (a reblog row, as the interactions service will write it).
    async with db.session() as session:
        session.add(Status(uri=f"{bob.uri}/statuses/boost", account_id=bob.id, reblog_of_id=int(created["id"])))
        await session.exec(update(Account).where(Account.id == bob.id).values(statuses_count=Account.statuses_count + 1))
    assert (await reload(Account, bob.id)).statuses_count == 2

    response = await client.delete(f"{STATUSES}/{created['id']}", headers=headers)
    assert response.status_code == 200
    assert_matches_spec(response, "DELETE", "/api/v1/statuses/{id}")
    body = response.json()
    assert body["text"] == "hello #tag"
    assert [m["id"] for m in body["media_attachments"]] == [str(picture.id)]

    assert (await client.get(f"{STATUSES}/{created['id']}", headers=headers)).status_code == 404
    assert (await client.get(f"{STATUSES}/{root['id']}")).json()["replies_count"] == 0
    assert (await reload(Account, alice.id)).statuses_count == 0
    assert (await reload(Account, bob.id)).statuses_count == 1  # the boost went with it
    assert await count(Status, Status.reblog_of_id.is_not(None), Status.deleted_at.is_(None)) == 0
    assert await count(Tombstone, Tombstone.uri == created["uri"]) == 1
    # The media can be used again for the redraft.
    redraft = await post(client, headers, status=body["text"], media_ids=[str(picture.id)])
    assert redraft.status_code == 200


async def test_delete_keeps_the_poll_in_the_answer(client):
    _, headers = await signed_in()
    created = (await post(client, headers, status="vote", poll={"options": ["a", "b"], "expires_in": 600,
                                                                "multiple": True})).json()
    body = (await client.delete(f"{STATUSES}/{created['id']}", headers=headers)).json()
    assert body["poll"]["multiple"] is True and [o["title"] for o in body["poll"]["options"]] == ["a", "b"]


async def test_deleting_someone_elses_post_is_not_found(client):
    alice, headers = await signed_in("alice")
    _, bob_headers = await signed_in("bob")
    created = (await post(client, headers, status="mine")).json()
    response = await client.delete(f"{STATUSES}/{created['id']}", headers=bob_headers)
    assert response.status_code == 404
    assert_matches_spec(response, "DELETE", "/api/v1/statuses/{id}")
    assert (await reload(Status, int(created["id"]))).deleted_at is None
    assert (await reload(Account, alice.id)).statuses_count == 1
    assert (await client.delete(f"{STATUSES}/999", headers=headers)).status_code == 404


async def test_polls_on_posts_are_checked(client):
    _, headers = await signed_in()
    cases = [
        ({"options": ["only"], "expires_in": 600}, "more than one item"),
        ({"options": ["a", "b", "c", "d", "e"], "expires_in": 600}, "more than 4 items"),
        ({"options": ["a", "x" * 51], "expires_in": 600}, "50 characters"),
        ({"options": ["a", "a"], "expires_in": 600}, "duplicate"),
        ({"options": ["a", "b"], "expires_in": 299}, "too soon"),
        ({"options": ["a", "b"], "expires_in": 2_629_747}, "too far"),
        ({"options": ["a", "b"]}, "expires in"),
    ]
    for poll, message in cases:
        response = await post(client, headers, status="poll", poll=poll)
        assert response.status_code == 422, poll
        assert message in response.json()["error"], response.json()
    assert await count(Status) == 0 and await count(Poll) == 0


# -- the batch serializer -----------------------------------------------------------------------

async def queries_to_render(statuses_ids: list[int], viewer: Account | None) -> int:
    executed = []

    def count_statement(*args):
        executed.append(args[2])

    engine = db.engine().sync_engine
    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        async with db.session() as session:
            rows = (await session.exec(select(Status).where(Status.id.in_(statuses_ids)))).all()
            executed.clear()
            rendered = await render_statuses(session, rows, viewer)
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
    assert len(rendered) == len(statuses_ids)
    return len(executed)


async def test_rendering_many_statuses_takes_no_more_queries_than_rendering_two(client):
    alice, headers = await signed_in("alice")
    bob, bob_headers = await signed_in("bob")
    ids = []
    for n in range(12):
        data = {"status": f"post {n} @bob #tag{n}"}
        if n % 3 == 0:
            data["poll"] = {"options": ["a", "b"], "expires_in": 600}
        if n % 4 == 0:
            data["media_ids"] = [str((await make_media(alice)).id)]
            data.pop("poll", None)
        ids.append(int((await post(client, headers, **data)).json()["id"]))
    async with db.session() as session:
        for n, original in enumerate(ids[:4]):
            session.add(Status(uri=f"{bob.uri}/boosts/{n}", account_id=bob.id, reblog_of_id=original))
    async with db.session() as session:
        boosts = list((await session.exec(select(Status.id).where(Status.reblog_of_id.is_not(None)))).all())
    # A handful that already needs every kind of lookup: media, a poll, a boost of another post.
    few = await queries_to_render([ids[0], ids[3], boosts[1]], bob)
    many = await queries_to_render(ids + boosts, bob)
    assert many <= few
    assert await queries_to_render(ids + boosts, None) <= few


# -- a real client ------------------------------------------------------------------------------

def mastodon_py_session(base: str, alice_token: str, bob_token: str) -> dict:
    """What a Mastodon.py user does: post with a poll, reply three levels deep, read the thread,
    vote, edit, read history and source, delete for redraft."""
    alice = Mastodon(access_token=alice_token, api_base_url=base, version_check_mode="none")
    bob = Mastodon(access_token=bob_token, api_base_url=base, version_check_mode="none")
    root = alice.status_post("Lunch? #food", poll=alice.make_poll(["pizza", "soup"], expires_in=3600),
                             idempotency_key="lunch-1")
    again = alice.status_post("Lunch? #food", poll=alice.make_poll(["pizza", "soup"], expires_in=3600),
                              idempotency_key="lunch-1")
    one = bob.status_post("@alice pizza!", in_reply_to_id=root.id)
    two = alice.status_post("@bob agreed", in_reply_to_id=one.id, visibility="unlisted")
    three = bob.status_post("@alice great", in_reply_to_id=two.id, spoiler_text="food talk")
    thread = bob.status_context(root.id)
    voted = bob.poll_vote(root.poll.id, [0])
    edited = alice.status_update(root.id, "Lunch at noon? #food")
    history = alice.status_history(root.id)
    source = alice.status_source(root.id)
    deleted = bob.status_delete(three.id)
    return {
        "same": root.id == again.id,
        "descendants": [s.id for s in thread.descendants],
        "expected": [one.id, two.id, three.id],
        "votes": [o.votes_count for o in voted.options],
        "edited": edited.content,
        "history": len(history),
        "source": source.text,
        "deleted": (deleted.text, deleted.spoiler_text),
        "replies": alice.status(one.id).replies_count,
    }


async def test_mastodon_py_posts_threads_votes_edits_and_deletes(live_server):
    alice, _ = await make_user("alice")
    bob, _ = await make_user("bob")
    result = await asyncio.to_thread(mastodon_py_session, live_server, await token_for(alice), await token_for(bob))
    assert result["same"] is True
    assert result["descendants"] == result["expected"]
    assert result["votes"] == [1, 0]
    assert result["edited"].startswith("<p>Lunch at noon? ")
    assert result["history"] == 2
    assert result["source"] == "Lunch at noon? #food"
    assert result["deleted"] == ("@alice great", "food talk")
    assert result["replies"] == 1


async def test_a_nul_character_in_a_post_is_a_400_and_posts_nothing(client):
    _, headers = await signed_in("alice")
    response = await client.post("/api/v1/statuses", json={"status": "hello\x00world"}, headers=headers)
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]
    assert await count(Status) == 0


async def test_a_lone_surrogate_or_absurd_nesting_is_a_400_and_posts_nothing(client):
    _, headers = await signed_in("alice")
    headers = {**headers, "Content-Type": "application/json"}
    lone = await client.post("/api/v1/statuses", content=b'{"status": "half a pair \\ud800"}', headers=headers)
    assert lone.status_code == 400 and "surrogate" in lone.json()["error"]
    deep = await client.post("/api/v1/statuses", content=b'{"status": "x", "a": ' + b"[" * 100_000 + b"]" * 100_000
                             + b"}", headers=headers)
    assert deep.status_code == 400
    named = "a" + "[][b]" * 3000  # a Rails-style name nested thousands deep, in the query or a form
    assert (await client.get("/api/v1/timelines/public", params={named: "1"})).status_code == 400
    form = await client.post("/api/v1/statuses", data={"status": "x", named: "1"},
                             headers={"Authorization": headers["Authorization"]})
    assert form.status_code == 400 and "nested" in form.json()["error"]
    assert await count(Status) == 0


async def test_ids_in_digits_that_are_not_ascii_are_unknown_not_a_crash(client):
    # "³" and "¹" count as digits to Python's str.isdigit but are no number.
    _, headers = await signed_in("alice")
    for path in ("/api/v1/statuses/\u00b3", "/api/v1/statuses/\u00b3/context", "/api/v1/polls/\u00b3"):
        assert (await client.get(path, headers=headers)).status_code == 404, path
    assert (await client.post("/api/v1/statuses/\u00b9/reblog", headers=headers)).status_code == 404
    response = await client.get("/api/v1/statuses", params={"id[]": "\u00b9"}, headers=headers)
    assert response.status_code == 200 and response.json() == []
    response = await client.get("/api/v1/accounts", params={"id[]": "\u00b9"}, headers=headers)
    assert response.status_code == 200 and response.json() == []
    response = await client.get("/api/v1/accounts/relationships", params={"id[]": "\u00b9"}, headers=headers)
    assert response.status_code == 200 and response.json() == []
    response = await client.get("/api/v1/favourites", params={"max_id": "\u00b9"}, headers=headers)
    assert response.status_code == 422
