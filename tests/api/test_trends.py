"""Discovery beyond search: GET /api/v1/tags/:name, trends (tags, statuses, links) with
time-decayed scores, and GET /api/v2/suggestions."""
from __future__ import annotations

import time
import uuid

from sqlalchemy import update
from sqlmodel import select

from app import db
from app.models import Account, PreviewCard, Status, StatusPreviewCard, StatusTag, SuggestionDismissal, Tag
from tests.support.fake_web import fake_web
from tests.support.links import cursors
from tests.support.openapi import assert_matches_spec
from tests.support.polling import eventually, settled
from tests.support.world import bearer, block, count, follow, make_user, post_status, token_for


async def posted(client, headers, text: str, **data) -> dict:
    response = await post_status(client, headers, status=text, **data)
    assert response.status_code == 200, response.text
    return response.json()


async def old_post(account: Account, hours_ago: float, *, favourites: int = 0, tag: str | None = None) -> int:
    """A public post written `hours_ago` (its snowflake id says so), straight into the database."""
    status_id = (int((time.time() - hours_ago * 3600) * 1000) << 16) | 1
    async with db.session() as session:
        session.add(Status(id=status_id, uri=f"https://example.com/old/{uuid.uuid4()}", account_id=account.id,
                           text="old news", content="<p>old news</p>", favourites_count=favourites))
        await session.flush()
        if tag:
            tag_row = Tag(name=tag)
            session.add(tag_row)
            await session.flush()
            session.add(StatusTag(status_id=status_id, tag_id=tag_row.id))
    return status_id


async def test_one_tag(client):
    alice, _ = await make_user("alice")
    headers = bearer(await token_for(alice))
    await posted(client, headers, "I like #Cats")
    response = await client.get("/api/v1/tags/cats", headers=headers)
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", "/api/v1/tags/{name}")
    body = response.json()
    assert body["name"] == "Cats" and body["following"] is False and body["history"][0]["uses"] == "1"
    # A valid name nobody used: a blank tag, as Mastodon answers (and nothing stored).
    unused = await client.get("/api/v1/tags/dogs")
    assert unused.status_code == 200
    assert_matches_spec(unused, "GET", "/api/v1/tags/{name}")
    assert unused.json()["name"] == "dogs" and unused.json()["id"] == ""
    assert [day["uses"] for day in unused.json()["history"]] == ["0"] * 7
    assert await count(Tag) == 1  # cats only
    assert (await client.get("/api/v1/tags/no%20such")).status_code == 404
    assert "following" not in (await client.get("/api/v1/tags/CATS")).json()  # anonymous


async def test_trending_tags_by_recent_distinct_accounts(client):
    people = [(await make_user(name))[0] for name in ("ann", "ben", "cid", "dot")]
    headers = [bearer(await token_for(p)) for p in people]
    for h in headers[:3]:
        await posted(client, h, "#busy today")
    for h in headers[:2]:
        await posted(client, h, "#quieter today")
    await posted(client, headers[0], "#lonely today")  # one account is not a trend
    await posted(client, headers[0], "#busy again")  # the same account again counts once
    # four accounts, but 40 hours ago: decayed below today's two
    first = await old_post(people[0], 40, tag="yesterdays")
    async with db.session() as session:
        tag_id = (await session.exec(select(StatusTag.tag_id).where(StatusTag.status_id == first))).one()
    for p in people[1:]:
        status_id = await old_post(p, 40)
        async with db.session() as session:
            session.add(StatusTag(status_id=status_id, tag_id=tag_id))

    response = await client.get("/api/v1/trends/tags")
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", "/api/v1/trends/tags")
    assert [t["name"] for t in response.json()] == ["busy", "quieter", "yesterdays"]
    assert [t["name"] for t in (await client.get("/api/v1/trends/tags", params={"limit": 1, "offset": 1})).json()] == [
        "quieter"]
    assert (await client.get("/api/v1/trends", params={"limit": 1})).json()[0]["name"] == "busy"
    assert (await client.get("/api/v1/trends/tags", params={"offset": -1})).status_code == 422


async def test_trending_statuses_decay_and_rules(client):
    alice, _ = await make_user("alice")
    bob, _ = await make_user("bob")
    hidden, _ = await make_user("hidden")
    ha, hb, hh = [bearer(await token_for(a)) for a in (alice, bob, hidden)]
    fresh = await posted(client, ha, "fresh and liked")
    for h in (hb, hh):
        assert (await client.post(f"/api/v1/statuses/{fresh['id']}/favourite", headers=h)).status_code == 200
    old = await old_post(bob, 30, favourites=5)  # more favourites, but 30 hours of decay (half-life 6 h)
    await posted(client, ha, "nobody cares")  # no interactions: not trending
    private = await posted(client, ha, "private but liked", visibility="private")
    await follow(bob, alice)
    assert (await client.post(f"/api/v1/statuses/{private['id']}/favourite", headers=hb)).status_code == 200
    shy = await posted(client, hh, "by an account that is not discoverable")
    assert (await client.post(f"/api/v1/statuses/{shy['id']}/favourite", headers=ha)).status_code == 200
    async with db.session() as session:
        await session.execute(update(Account).where(Account.id == hidden.id).values(discoverable=False))

    response = await client.get("/api/v1/trends/statuses")
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", "/api/v1/trends/statuses")
    assert [s["id"] for s in response.json()] == [fresh["id"], str(old)]
    paged = [(await client.get("/api/v1/trends/statuses", params={"limit": 1, "offset": n})).json() for n in (0, 1, 2)]
    assert [[s["id"] for s in page] for page in paged] == [[fresh["id"]], [str(old)], []]

    await block(bob, alice)  # the viewer's blocks apply on top, before the page is cut
    mine = await client.get("/api/v1/trends/statuses", headers=hb, params={"limit": 1})
    assert [s["id"] for s in mine.json()] == [str(old)]  # a full page, not an empty one
    assert (await client.get("/api/v1/trends/statuses", headers=hb, params={"limit": 1, "offset": 1})).json() == []
    assert [s["id"] for s in (await client.get("/api/v1/trends/statuses", headers=ha)).json()] == [fresh["id"]]

    links = await client.get("/api/v1/trends/links")
    assert links.status_code == 200 and links.json() == []
    assert_matches_spec(links, "GET", "/api/v1/trends/links")


async def test_suggestions(client):
    names = ("alice", "bob", "carol", "dave", "erin", "frank", "shy")
    people = {n: (await make_user(n))[0] for n in names}
    headers = bearer(await token_for(people["alice"]))
    await follow(people["alice"], people["bob"])
    await follow(people["alice"], people["carol"])
    for friend in ("bob", "carol"):
        await follow(people[friend], people["dave"])
        await follow(people[friend], people["shy"])
    await follow(people["carol"], people["frank"])
    async with db.session() as session:
        await session.execute(update(Account).where(Account.id == people["shy"].id).values(discoverable=False))
        await session.execute(update(Account).where(Account.id == people["erin"].id).values(followers_count=99))

    response = await client.get("/api/v2/suggestions", headers=headers)
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", "/api/v2/suggestions")
    got = [(s["account"]["username"], s["sources"]) for s in response.json()]
    assert got[:2] == [("dave", ["friends_of_friends"]), ("frank", ["friends_of_friends"])]
    assert got[2] == ("erin", ["most_followed"])
    usernames = [u for u, _ in got]
    assert not {"alice", "bob", "carol", "shy"} & set(usernames)
    assert len((await client.get("/api/v2/suggestions", params={"limit": 1}, headers=headers)).json()) == 1
    assert len((await client.get("/api/v2/suggestions", params={"limit": 500}, headers=headers)).json()) == len(got)
    assert (await client.get("/api/v2/suggestions")).status_code == 401

    # The older list: the same accounts, bare.
    older = await client.get("/api/v1/suggestions", headers=headers)
    assert_matches_spec(older, "GET", "/api/v1/suggestions")
    assert [a["username"] for a in older.json()] == usernames

    # Dismissed for good; an unknown, malformed or own id answers {} as well and changes nothing.
    dismissed = await client.delete(f"/api/v1/suggestions/{people['dave'].id}", headers=headers)
    assert dismissed.status_code == 200 and dismissed.json() == {}
    assert_matches_spec(dismissed, "DELETE", "/api/v1/suggestions/{account_id}")
    assert (await client.delete(f"/api/v1/suggestions/{people['dave'].id}", headers=headers)).json() == {}
    for junk in ("999999999", "not-an-id", str(people["alice"].id), "9" * 30):
        assert (await client.delete(f"/api/v1/suggestions/{junk}", headers=headers)).json() == {}
    assert await count(SuggestionDismissal) == 1
    after = [s["account"]["username"] for s in (await client.get("/api/v2/suggestions", headers=headers)).json()]
    assert after == [u for u in usernames if u != "dave"]
    frank_sees = bearer(await token_for(people["frank"]))  # someone else's suggestions are untouched
    assert "dave" in [s["account"]["username"] for s in
                      (await client.get("/api/v2/suggestions", headers=frank_sees)).json()]
    assert (await client.delete(f"/api/v1/suggestions/{people['erin'].id}")).status_code == 401


async def test_following_hashtags(client):
    alice, _ = await make_user("alice")
    headers = bearer(await token_for(alice))
    await posted(client, headers, "about #Cats")

    response = await client.post("/api/v1/tags/cats/follow", headers=headers)
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "POST", "/api/v1/tags/{name}/follow")
    assert response.json()["name"] == "Cats" and response.json()["following"] is True
    assert (await client.post("/api/v1/tags/cats/follow", headers=headers)).status_code == 200  # idempotent
    new = await client.post("/api/v1/tags/Brandnew/follow", headers=headers)  # a tag nobody used yet
    assert new.status_code == 200 and new.json()["name"] == "Brandnew"

    listed = await client.get("/api/v1/followed_tags", headers=headers)
    assert listed.status_code == 200, listed.text
    assert_matches_spec(listed, "GET", "/api/v1/followed_tags")
    assert [t["name"] for t in listed.json()] == ["Brandnew", "Cats"]
    # As Mastodon's followed_tags: two of the 100 asked for is the last page (no next); prev by since_id.
    assert set(cursors(listed)) == {"prev"} and cursors(listed)["prev"][0] == "since_id"
    first = await client.get("/api/v1/followed_tags", params={"limit": 1}, headers=headers)
    assert [t["name"] for t in first.json()] == ["Brandnew"] and 'rel="next"' in first.headers["link"]
    following = await client.get(first.links["next"]["url"], headers=headers)  # the link, as clients follow it
    assert [t["name"] for t in following.json()] == ["Cats"]
    beyond = await client.get(following.links["next"]["url"], headers=headers)
    assert beyond.status_code == 200 and beyond.json() == []

    assert (await client.get("/api/v1/tags/cats", headers=headers)).json()["following"] is True
    found = await client.get("/api/v2/search", params={"q": "#cats", "type": "hashtags"}, headers=headers)
    assert found.json()["hashtags"][0]["following"] is True

    gone = await client.post("/api/v1/tags/CATS/unfollow", headers=headers)
    assert gone.status_code == 200 and gone.json()["following"] is False
    assert_matches_spec(gone, "POST", "/api/v1/tags/{name}/unfollow")
    assert [t["name"] for t in (await client.get("/api/v1/followed_tags", headers=headers)).json()] == ["Brandnew"]
    never = await client.post("/api/v1/tags/nosuchtag/unfollow", headers=headers)  # "was already unfollowed"
    assert never.status_code == 200 and never.json()["following"] is False and never.json()["name"] == "nosuchtag"
    assert (await client.post("/api/v1/tags/not%20a%20tag/follow", headers=headers)).status_code == 404
    assert (await client.post("/api/v1/tags/cats/follow")).status_code == 401
    read_only = bearer(await token_for(alice, scopes="read"))
    assert (await client.post("/api/v1/tags/cats/follow", headers=read_only)).status_code == 403


async def shared_card(client, headers, status_id: str) -> dict:
    """Wait for the worker to give a status its preview card."""
    async def card():
        return (await client.get(f"/api/v1/statuses/{status_id}", headers=headers)).json()["card"]
    return await eventually(card, until=lambda found: found is not None)


async def test_trending_links_by_recent_distinct_accounts(client, settings):
    people = [(await make_user(name))[0] for name in ("ann", "ben", "cid", "dot")]
    headers = [bearer(await token_for(p)) for p in people]
    with fake_web(settings) as web:
        for name in ("busy", "quieter", "lonely", "secret", "warned"):
            web.page(f"https://news.example/{name}", f"The {name} story", description=f"About {name}")
        links = {name: f"https://news.example/{name}" for name in ("busy", "quieter", "lonely", "secret", "warned")}
        first = await posted(client, headers[0], f"read {links['busy']}")
        await posted(client, headers[1], f"also {links['busy']}")
        await posted(client, headers[0], f"me again {links['busy']}")  # the same account counts once
        boosted = await client.post(f"/api/v1/statuses/{first['id']}/reblog", headers=headers[2])
        assert boosted.status_code == 200  # a boost shares the link too: busy has three accounts
        for h in headers[:2]:
            await posted(client, h, f"hmm {links['quieter']}")
        await posted(client, headers[0], f"only me {links['lonely']}")  # one account is not a trend
        for h in headers:  # followers-only and direct posts never count
            await posted(client, h, f"between us {links['secret']}", visibility="private")
            await posted(client, h, f"psst {links['secret']}", visibility="direct")
        for h in headers[:3]:  # behind a content warning: not trending
            await posted(client, h, f"careful {links['warned']}", spoiler_text="spoilers")
        await settled()
        assert (await shared_card(client, headers[0], first["id"]))["title"] == "The busy story"
    # four accounts, but 40 hours ago: decayed below today's two
    async with db.session() as session:
        stale = PreviewCard(url="https://news.example/stale", title="The stale story")
        session.add(stale)
        await session.flush()
        stale_id = stale.id
    for p in people:
        status_id = await old_post(p, 40)
        async with db.session() as session:
            session.add(StatusPreviewCard(status_id=status_id, preview_card_id=stale_id))

    response = await client.get("/api/v1/trends/links")
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", "/api/v1/trends/links")
    body = response.json()
    assert [link["url"] for link in body] == [links["busy"], links["quieter"], "https://news.example/stale"]
    busy = body[0]
    assert busy["title"] == "The busy story" and busy["type"] == "link"
    assert len(busy["history"]) == 7 and busy["history"][0] == {
        "day": busy["history"][0]["day"], "accounts": "3", "uses": "4"}
    assert body[2]["history"][0]["accounts"] == "0"  # its shares were 40 hours ago, not today
    paged = await client.get("/api/v1/trends/links", params={"limit": 1, "offset": 1}, headers=headers[3])
    assert [link["url"] for link in paged.json()] == [links["quieter"]]
    assert (await client.get("/api/v1/trends/links", params={"limit": 0})).status_code == 422
    assert (await client.get("/api/v1/trends/links", params={"offset": -1})).status_code == 422
    assert len((await client.get("/api/v1/trends/links", params={"limit": 500})).json()) == 3  # clamped to 20


async def test_link_timeline(client, settings):
    """GET /api/v1/timelines/link: the public posts carrying a trending link's card, by
    discoverable authors, minus what the viewer hides; any other URL is not found."""
    names = ("ann", "ben", "cid", "dot", "eve")
    people = {name: (await make_user(name))[0] for name in names}
    headers = {name: bearer(await token_for(people[name])) for name in names}
    hidden = await client.patch("/api/v1/accounts/update_credentials", headers=headers["eve"],
                                data={"discoverable": "false"})
    assert hidden.status_code == 200, hidden.text
    story, lonely = "https://news.example/story", "https://news.example/lonely"
    with fake_web(settings) as web:
        web.page(story, "The story", description="About it")
        web.page(lonely, "The lonely story")
        first = await posted(client, headers["ann"], f"read {story}")
        second = await posted(client, headers["ben"], f"also {story}")
        reply = await posted(client, headers["cid"], f"agreed, {story}", in_reply_to_id=first["id"])
        private = await posted(client, headers["dot"], f"between us {story}", visibility="private")
        undiscoverable = await posted(client, headers["eve"], f"me too {story}")
        gone = await posted(client, headers["dot"], f"soon deleted {story}")
        await posted(client, headers["ann"], f"only me {lonely}")
        await settled()
        for status, author in ((first, "ann"), (second, "ben"), (reply, "cid"), (private, "dot"),
                               (undiscoverable, "eve"), (gone, "dot")):
            assert (await shared_card(client, headers[author], status["id"]))["url"] == story
    assert (await client.delete(f"/api/v1/statuses/{gone['id']}", headers=headers["dot"])).status_code == 200
    shown = [reply["id"], second["id"], first["id"]]  # newest first

    anonymous = await client.get("/api/v1/timelines/link", params={"url": story})
    assert anonymous.status_code == 200, anonymous.text
    assert_matches_spec(anonymous, "GET", "/api/v1/timelines/link")
    assert [s["id"] for s in anonymous.json()] == shown
    assert anonymous.json()[0]["card"]["url"] == story

    # A viewer's mutes apply; its own flags are shown.
    assert (await client.post(f"/api/v1/accounts/{people['ben'].id}/mute", headers=headers["dot"])).status_code == 200
    assert (await client.post(f"/api/v1/statuses/{first['id']}/favourite", headers=headers["dot"])).status_code == 200
    seen = (await client.get("/api/v1/timelines/link", params={"url": story}, headers=headers["dot"])).json()
    assert [s["id"] for s in seen] == [reply["id"], first["id"]]
    assert seen[1]["favourited"] is True

    # Page by page through the Link header: each post once, none skipped.
    paged, url = [], "/api/v1/timelines/link?" + "url=" + story + "&limit=1"
    while url:
        page = await client.get(url)
        assert page.status_code == 200, page.text
        paged += [s["id"] for s in page.json()]
        url = page.links.get("next", {}).get("url") if page.json() else None
    assert paged == shown
    newer = await client.get("/api/v1/timelines/link", params={"url": story, "min_id": first["id"]})
    assert [s["id"] for s in newer.json()] == [reply["id"], second["id"]]

    # Not trending (one account), unknown, or no URL at all: 404 in Mastodon's format.
    for params in ({"url": lonely}, {"url": "https://nowhere.example/"}, {}, {"url": ""}):
        missing = await client.get("/api/v1/timelines/link", params=params)
        assert missing.status_code == 404 and missing.json() == {"error": "Record not found"}, params
    for bad in ({"limit": "many"}, {"max_id": "12ab"}):
        refused = await client.get("/api/v1/timelines/link", params={"url": story, **bad})
        assert refused.status_code == 422 and "details" in refused.json(), bad
    too_many = await client.get("/api/v1/timelines/link", params={"url": story, "limit": 500})
    assert [s["id"] for s in too_many.json()] == shown  # a limit above 40 is clamped, not refused
