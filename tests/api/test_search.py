"""GET /api/v2/search and GET /api/v1/accounts/search against the real PostgreSQL backend
(and Meilisearch too when STARLING_TEST_MEILISEARCH_URL names a server): what may be found,
hashtags, accounts, pagination and bad input."""
from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid

import pytest
from sqlalchemy import update

from app import db
from app.config import configure
from app.models import Account
from app.models.base import utcnow
from app.services import search as search_service
from tests.support.openapi import assert_matches_spec
from tests.support.services import free_port
from tests.support.world import bearer, block, follow, make_user, mastodon_for, post_status, token_for

MEILISEARCH_URL = os.environ.get("STARLING_TEST_MEILISEARCH_URL", "")
WORD = "zebrafish"


@pytest.fixture(params=["postgresql", "meilisearch"])
def backend(request, settings):
    """The status search backend under test; Meilisearch only when a server is configured."""
    if request.param == "meilisearch":
        if not MEILISEARCH_URL:
            pytest.skip("no Meilisearch server: set STARLING_TEST_MEILISEARCH_URL to run the Meilisearch backend")
        configure(dataclasses.replace(settings, meilisearch_url=MEILISEARCH_URL,
                                      meilisearch_index=f"test_{uuid.uuid4().hex[:12]}"))
    yield request.param
    configure(settings)


async def sync_index(backend: str) -> None:
    """Meilisearch indexes in a worker: rebuild and wait, so the test sees a settled index."""
    if backend == "meilisearch":
        await search_service.current_backend().reindex()  # waits for its last batch


async def search(client, headers, q: str, **params):
    response = await client.get("/api/v2/search", params={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", "/api/v2/search")
    return response.json()


def texts(body) -> set[str]:
    return {s["content"] for s in body["statuses"]}


async def posted(client, headers, text: str, **data) -> dict:
    response = await post_status(client, headers, status=text, **data)
    assert response.status_code == 200, response.text
    return response.json()


async def test_what_a_search_may_find(client, backend):
    alice, _ = await make_user("alice")
    names = ("bob", "carol", "dave", "erin", "frank")
    people = {name: (await make_user(name))[0] for name in names}
    h = {name: bearer(await token_for(acct)) for name, acct in people.items()}
    h["alice"] = bearer(await token_for(alice))
    await follow(alice, people["bob"])  # alice may see bob's private posts, but not find them
    await follow(people["carol"], alice)

    found = {}
    found["bob public"] = await posted(client, h["bob"], f"{WORD} bob public")
    found["bob unlisted"] = await posted(client, h["bob"], f"{WORD} bob unlisted", visibility="unlisted")
    unseen = {}
    unseen["bob private"] = await posted(client, h["bob"], f"{WORD} bob private", visibility="private")
    liked = await posted(client, h["bob"], f"{WORD} bob private liked", visibility="private")
    assert (await client.post(f"/api/v1/statuses/{liked['id']}/favourite", headers=h["alice"])).status_code == 200
    found["bob private liked"] = liked
    found["bob direct to alice"] = await posted(client, h["bob"], f"@alice {WORD} bob direct", visibility="direct")
    unseen["bob direct to carol"] = await posted(client, h["bob"], f"@carol {WORD} bob direct", visibility="direct")

    # carol does not allow indexing: her posts are found only through an interaction
    patched = await client.patch("/api/v1/accounts/update_credentials", data={"indexable": "false"}, headers=h["carol"])
    assert patched.status_code == 200, patched.text
    unseen["carol public"] = await posted(client, h["carol"], f"{WORD} carol public")
    bookmarked = await posted(client, h["carol"], f"{WORD} carol bookmarked")
    assert (await client.post(f"/api/v1/statuses/{bookmarked['id']}/bookmark", headers=h["alice"])).status_code == 200
    found["carol bookmarked"] = bookmarked
    boosted = await posted(client, h["carol"], f"{WORD} carol boosted")
    assert (await client.post(f"/api/v1/statuses/{boosted['id']}/reblog", headers=h["alice"])).status_code == 200
    found["carol boosted"] = boosted
    replied = await posted(client, h["carol"], f"{WORD} carol replied to")
    await posted(client, h["alice"], "nice one", in_reply_to_id=replied["id"])
    found["carol replied to"] = replied

    # blocks either way, suspension, deletion
    unseen["dave blocks alice"] = await posted(client, h["dave"], f"{WORD} dave public")
    await block(people["dave"], alice)
    unseen["alice blocks erin"] = await posted(client, h["erin"], f"{WORD} erin public")
    await block(alice, people["erin"])
    unseen["frank suspended"] = await posted(client, h["frank"], f"{WORD} frank public")
    async with db.session() as session:
        await session.execute(update(Account).where(Account.id == people["frank"].id).values(suspended_at=utcnow()))
    gone = await posted(client, h["bob"], f"{WORD} bob deleted")
    assert (await client.delete(f"/api/v1/statuses/{gone['id']}", headers=h["bob"])).status_code == 200
    unseen["deleted"] = gone

    # the searcher's own posts, whatever their visibility
    found["alice private"] = await posted(client, h["alice"], f"{WORD} alice private", visibility="private")
    found["alice direct"] = await posted(client, h["alice"], f"@bob {WORD} alice direct", visibility="direct")

    await sync_index(backend)
    body = await search(client, h["alice"], WORD, type="statuses", limit=40)
    ids = [s["id"] for s in body["statuses"]]
    assert set(ids) == {s["id"] for s in found.values()}, {k for k, s in {**found, **unseen}.items()
                                                          if (s["id"] in ids) != (k in found)}
    if backend == "postgresql":  # newest first; Meilisearch ranks by relevance, then recency
        assert ids == sorted(ids, key=int, reverse=True)
    assert not any(s["reblog"] for s in body["statuses"])  # boosts themselves are never results

    # carol may find bob's public posts but not his private one she was not part of
    carol_ids = {s["id"] for s in (await search(client, h["carol"], WORD, type="statuses", limit=40))["statuses"]}
    assert found["bob public"]["id"] in carol_ids and found["bob direct to alice"]["id"] not in carol_ids
    assert unseen["bob direct to carol"]["id"] in carol_ids  # she is mentioned in it

    # anonymous visitors get no posts at all (as Mastodon)
    assert (await search(client, {}, WORD))["statuses"] == []


async def test_words_phrases_and_unicode(client):
    alice, _ = await make_user("alice")
    headers = bearer(await token_for(alice))
    first = await posted(client, headers, "The quick brown fox jumps")
    second = await posted(client, headers, "brown bread and a quick lunch")
    cjk = await posted(client, headers, "日本語 テスト 🐦")
    cw = await posted(client, headers, "behind the warning", spoiler_text="spoilerword")

    def ids(body):
        return [s["id"] for s in body["statuses"]]

    assert ids(await search(client, headers, "quick brown", type="statuses")) == [second["id"], first["id"]]
    assert ids(await search(client, headers, "QUICK Brown", type="statuses")) == [second["id"], first["id"]]
    assert ids(await search(client, headers, '"quick brown"', type="statuses")) == [first["id"]]  # a phrase
    assert ids(await search(client, headers, "brown -fox", type="statuses")) == [second["id"]]
    assert ids(await search(client, headers, "日本語", type="statuses")) == [cjk["id"]]
    assert ids(await search(client, headers, "spoilerword", type="statuses")) == [cw["id"]]
    assert ids(await search(client, headers, "nothingmatches", type="statuses")) == []


async def test_hashtags_and_posts_by_hashtag(client):
    alice, _ = await make_user("alice")
    headers = bearer(await token_for(alice))
    tagged = await posted(client, headers, "Birds! #Birdwatching today")
    await posted(client, headers, "#birdsong at dawn")
    await posted(client, headers, "birdwatching without the tag")

    body = await search(client, headers, "#birdwatching", type="statuses")
    assert [s["id"] for s in body["statuses"]] == [tagged["id"]]

    body = await search(client, headers, "bird", type="hashtags")
    assert sorted(t["name"] for t in body["hashtags"]) == ["Birdwatching", "birdsong"]
    body = await search(client, headers, "#birdwatching", type="hashtags")
    tag = body["hashtags"][0]
    assert tag["name"] == "Birdwatching" and tag["url"].endswith("/tags/birdwatching")
    assert len(tag["history"]) == 7 and tag["history"][0]["uses"] == "1" and tag["history"][0]["accounts"] == "1"
    assert (await search(client, headers, "bird watching", type="hashtags"))["hashtags"] == []


async def test_account_search(client, settings):
    alice, _ = await make_user("alice")
    headers = bearer(await token_for(alice))
    names = ["nipper", "nipsey", "niptuck", "hidden_nip", "blocker_nip", "nipsuspended"]
    people = {n: (await make_user(n))[0] for n in names}
    async with db.session() as session:
        await session.execute(update(Account).where(Account.id == people["niptuck"].id)
                              .values(display_name="Tuck Everlasting", followers_count=50))
        await session.execute(update(Account).where(Account.id == people["hidden_nip"].id)
                              .values(display_name="Nip Hidden", discoverable=False))
        await session.execute(update(Account).where(Account.id == people["nipsuspended"].id)
                              .values(suspended_at=utcnow()))
    await follow(alice, people["nipsey"])
    await block(people["blocker_nip"], alice)

    response = await client.get("/api/v1/accounts/search", params={"q": "nip"}, headers=headers)
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", "/api/v1/accounts/search")
    found = [a["username"] for a in response.json()]
    assert found[0] == "nipsey"  # followed first
    assert set(found) == {"nipper", "nipsey", "niptuck"}  # not discoverable, blocking, suspended: absent

    async def usernames(q, **params):
        r = await client.get("/api/v1/accounts/search", params={"q": q, **params}, headers=headers)
        assert r.status_code == 200, r.text
        return [a["username"] for a in r.json()]

    assert await usernames("tuck") == ["niptuck"]  # a word of the display name
    assert await usernames("Everlast") == ["niptuck"]
    assert await usernames("@nipp") == ["nipper"]
    assert await usernames(f"nipper@{settings.domain}") == ["nipper"]  # acct with our domain
    assert await usernames("nipper@elsewhere.example") == []
    assert await usernames("hidden_nip") == ["hidden_nip"]  # an exact username is always found
    assert await usernames("nip", following="true") == ["nipsey"]
    await follow(alice, people["hidden_nip"])
    assert "hidden_nip" in await usernames("nip")  # followed: found even when not discoverable
    assert len(await usernames("nip", limit=1)) == 1
    assert await usernames("nip", offset=100) == []

    body = await search(client, headers, "nip", type="accounts")
    assert body["accounts"][0]["username"] in ("nipsey", "hidden_nip")
    followed = await search(client, headers, "nip", type="accounts", following="true")
    assert {a["username"] for a in followed["accounts"]} == {"nipsey", "hidden_nip"}
    await block(alice, people["nipper"])  # whom the searcher blocks is gone too
    assert "nipper" not in await usernames("nip")
    assert "nipper" not in {a["username"] for a in (await search(client, headers, "nip"))["accounts"]}
    assert (await client.get("/api/v1/accounts/search", params={"q": "nip"})).status_code == 401
    anonymous = await search(client, {}, "nip")  # v2 without a token: accounts and hashtags
    assert {a["username"] for a in anonymous["accounts"]} == {"nipper", "nipsey", "niptuck"}


async def test_pagination(client):
    alice, _ = await make_user("alice")
    headers = bearer(await token_for(alice))
    ids = [(await posted(client, headers, f"page{n} pagedword"))["id"] for n in range(45)]
    newest_first = list(reversed(ids))

    def got(body):
        return [s["id"] for s in body["statuses"]]

    assert got(await search(client, headers, "pagedword", type="statuses")) == newest_first[:20]
    assert got(await search(client, headers, "pagedword", type="statuses", limit=1000)) == newest_first[:40]
    assert got(await search(client, headers, "pagedword", type="statuses", offset=40)) == newest_first[40:]
    assert got(await search(client, headers, "pagedword", offset=40)) == newest_first[:20]  # no type: no offset
    assert got(await search(client, headers, "pagedword", type="statuses", max_id=ids[5])) == list(reversed(ids[:5]))
    assert got(await search(client, headers, "pagedword", type="statuses", min_id=ids[-3])) == newest_first[:2]


@pytest.mark.parametrize("q", [
    "' OR 1=1 --", "a & b | !c", '"unterminated', "日本語", "🐦🔥", "foo:*", "((( )))", "\\", "%_%", "!", "-",
    "-onlynegative", "or", "<->", "a <-> b", "status = 'public' OR 1=1", "visibility = direct", "#", "#!!",
    "@", "@@", "@a@b@c", "x" * 999, "\u202e\u0301", "SELECT * FROM statuses;",
])
async def test_odd_queries_are_answered_not_crashed(client, q):
    alice, _ = await make_user("alice")
    headers = bearer(await token_for(alice))
    await posted(client, headers, "an ordinary post")
    body = await search(client, headers, q)
    assert all(s["content"] != "" for s in body["statuses"])
    response = await client.get("/api/v1/accounts/search", params={"q": q}, headers=headers)
    assert response.status_code == 200, response.text


async def test_bad_parameters_are_clear_errors(client):
    alice, _ = await make_user("alice")
    headers = bearer(await token_for(alice))

    async def error(params, status, path="/api/v2/search", auth=headers):
        response = await client.get(path, params=params, headers=auth)
        assert response.status_code == status, response.text
        assert isinstance(response.json()["error"], str)
        return response.json()["error"]

    assert "q" in await error({}, 400)
    assert "q" in await error({"q": ""}, 400)
    assert "q" in await error({"q": "   "}, 400)
    assert "too long" in await error({"q": "x" * 10_240}, 422)
    assert "NUL" in await error({"q": "a\x00b"}, 400)
    assert "offset" in await error({"q": "a", "type": "statuses", "offset": "-1"}, 422)
    assert "offset" in await error({"q": "a", "type": "statuses", "offset": "ten"}, 422)
    assert "limit" in await error({"q": "a", "limit": "0"}, 422)
    assert "limit" in await error({"q": "a", "limit": "-5"}, 422)
    assert "type" in await error({"q": "a", "type": "everything"}, 422)
    assert "max_id" in await error({"q": "a", "max_id": "abc"}, 422)
    assert "account_id" in await error({"q": "a", "account_id": "x"}, 422)
    assert "following" in await error({"q": "a", "following": "maybe"}, 422)
    assert "authentication" in await error({"q": "a", "type": "statuses", "offset": "1"}, 401, auth={})
    assert "authentication" in await error({"q": "a", "resolve": "true"}, 401, auth={})
    assert "q" in await error({"q": ""}, 400, path="/api/v1/accounts/search")
    assert "too long" in await error({"q": "x" * 10_240}, 422, path="/api/v1/accounts/search")
    assert "offset" in await error({"q": "a", "offset": "-1"}, 422, path="/api/v1/accounts/search")
    # limit above the maximum is clamped, as Mastodon does
    response = await client.get("/api/v1/accounts/search", params={"q": "ali", "limit": "100000"}, headers=headers)
    assert response.status_code == 200 and [a["username"] for a in response.json()] == ["alice"]


async def test_account_id_filter_and_scope(client):
    alice, _ = await make_user("alice")
    bob, _ = await make_user("bob")
    ha, hb = bearer(await token_for(alice)), bearer(await token_for(bob))
    mine = await posted(client, ha, "shared topicword")
    await posted(client, hb, "shared topicword")
    body = await search(client, ha, "topicword", type="statuses", account_id=str(alice.id))
    assert [s["id"] for s in body["statuses"]] == [mine["id"]]
    assert (await search(client, ha, "topicword", type="statuses", account_id="12345"))["statuses"] == []
    no_search_scope = bearer(await token_for(alice, scopes="read:accounts"))
    response = await client.get("/api/v2/search", params={"q": "topicword"}, headers=no_search_scope)
    assert response.status_code == 403


async def test_meilisearch_unreachable_is_a_clear_503(client, settings):
    """A configured Meilisearch that does not answer (nothing listens on the port): status
    search says so with a 503; accounts and hashtags (always PostgreSQL) still answer."""
    alice, _ = await make_user("alice")
    headers = bearer(await token_for(alice))
    configure(dataclasses.replace(settings, meilisearch_url=f"http://127.0.0.1:{free_port()}"))
    try:
        response = await client.get("/api/v2/search", params={"q": "anything", "type": "statuses"}, headers=headers)
        assert response.status_code == 503, response.text
        assert response.json() == {"error": "Search is temporarily unavailable"}
        assert_matches_spec(response, "GET", "/api/v2/search")
        body = await search(client, headers, "ali", type="accounts")
        assert [a["username"] for a in body["accounts"]] == ["alice"]
    finally:
        configure(settings)


async def test_posts_are_searchable_at_once_and_follow_edits_and_deletes(client):
    alice, _ = await make_user("alice")
    headers = bearer(await token_for(alice))
    status = await posted(client, headers, "first draft with oldword")
    assert [s["id"] for s in (await search(client, headers, "oldword", type="statuses"))["statuses"]] == [status["id"]]
    edited = await client.put(f"/api/v1/statuses/{status['id']}", json={"status": "second draft with newword"},
                              headers=headers)
    assert edited.status_code == 200, edited.text
    assert (await search(client, headers, "oldword", type="statuses"))["statuses"] == []
    assert [s["id"] for s in (await search(client, headers, "newword", type="statuses"))["statuses"]] == [status["id"]]
    assert (await client.delete(f"/api/v1/statuses/{status['id']}", headers=headers)).status_code == 200
    assert (await search(client, headers, "newword", type="statuses"))["statuses"] == []


def search_with_mastodon_py(base_url: str, token: str) -> dict:
    client = mastodon_for(base_url, token)
    found = client.search_v2("marmalade", result_type="statuses")
    people = client.account_search("mabel")
    tags = client.search_v2("#orchard", result_type="hashtags")
    client.tag_follow("orchard")
    return {"statuses": [s["content"] for s in found["statuses"]], "accounts": [a["acct"] for a in people],
            "hashtags": [t["name"] for t in tags["hashtags"]],
            "followed": [t["name"] for t in client.followed_tags()]}


async def test_mastodon_py_searches_posts_people_and_hashtags(live_server, client):
    """A real client library against a running server: posts by word, people by name prefix,
    hashtags, and following one."""
    mabel, _ = await make_user("mabel")
    mabel_h = bearer(await token_for(mabel))
    reader, _ = await make_user("reader")
    await post_status(client, mabel_h, status="Fresh marmalade from the #orchard today")
    await post_status(client, mabel_h, status="Nothing to see here")
    result = await asyncio.to_thread(search_with_mastodon_py, live_server, await token_for(reader))
    assert len(result["statuses"]) == 1 and "marmalade" in result["statuses"][0]
    assert result["accounts"] == ["mabel"]
    assert result["hashtags"] == ["orchard"]
    assert result["followed"] == ["orchard"]
