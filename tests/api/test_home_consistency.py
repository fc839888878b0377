"""The home timeline read every way it can be served must show the same thing: a random
history of posts, replies, mentions, boosts, deletes, follows, mutes and blocks, then the
timeline scrolled down in pages of every size, scrolled up from the bottom, and read again
with the Redis feed gone (every page from PostgreSQL) and once rebuilt; a list's timeline
scrolled in pages of every size too. One seed per run, so that a failure
names the history that broke it."""
from __future__ import annotations

import random

import pytest

from app import redis as app_redis
from app.services.feeds import store
from tests.api.test_timelines import home, live_feed, scrolled_down, scrolled_up, tuned
from tests.support.polling import settled
from tests.support.world import follow, make_user, post_status, signed_in

PULLED = ("ann", "ben")  # two followers more than the viewer: read at read time when tuned to 1
PUSHED = ("cat", "dan", "eve")
VISIBILITIES = ("public", "public", "unlisted", "private", "direct")


class History:
    """A random history by the viewer's follows and the viewer, made through the API."""

    def __init__(self, client, rng: random.Random, people: dict):
        self.client, self.rng, self.people = client, rng, people
        self.posts: list[tuple[str, str, str]] = []  # (id, author, visibility or "boost"), deleted ones dropped
        self.boosted: dict[str, str] = {}  # boost id -> the boosted post's
        self.log: list[str] = []  # what happened, for the failure message

    STEPS = {"post": 10, "reply": 5, "boost": 4, "delete": 2, "follow": 2, "mute": 2, "block": 1}
    BOOSTED = ("viewer",) + PULLED  # whose posts are boosted (see boost())
    TAGGED = False  # whether some posts carry #cats

    async def step(self) -> None:
        kind = self.rng.choices(list(self.STEPS), weights=list(self.STEPS.values()))[0]
        await getattr(self, kind)()

    def _author(self) -> str:
        return self.rng.choice(("viewer",) + PULLED + PUSHED + PUSHED)

    async def _post(self, author: str, **data) -> None:
        visibility = self.rng.choice(VISIBILITIES)
        mention = self.rng.choice([""] * 3 + [f"@{n} " for n in ("viewer",) + PULLED + PUSHED])
        tag = self.rng.choice(("",) * 4 + (" #cats",)) if self.TAGGED else ""
        response = await post_status(self.client, self.people[author][1], status=f"{mention}{author} says{tag}",
                                     visibility=visibility, **data)
        if response.status_code == 200:
            self.posts.append((response.json()["id"], author, visibility))
            self.log.append(f"{author} posts {response.json()['id']} {visibility} {mention}{data}")

    async def post(self) -> None:
        await self._post(self._author())

    async def reply(self) -> None:
        # To the viewer or an account followed throughout: whether a reply to someone else shows
        # depends on following them when it was fanned out (the feed keeps it after an unfollow,
        # as Mastodon's does) or when read (PostgreSQL, as Mastodon's rebuild): not compared here.
        answerable = [p for p in self.posts if p[1] in ("viewer",) + PULLED and p[2] != "boost"]
        if answerable:
            await self._post(self._author(), in_reply_to_id=self.rng.choice(answerable)[0])

    async def boost(self) -> None:
        # Of posts by the viewer or an account followed throughout: a boost held back while its
        # post was in the feed stays out once an unfollow takes the post away (as in Mastodon's
        # feed), while PostgreSQL judges it by what the viewer follows when reading.
        shareable = [p for p in self.posts if p[2] in ("public", "unlisted") and p[1] in self.BOOSTED]
        if shareable:
            booster, (status_id, author, _) = self._author(), self.rng.choice(shareable)
            if not self._may_boost(booster, author):
                return
            # The post's own fan-out done first: a boost fanned out ahead of its post stands for it
            # in the feed (the post then stays out), where PostgreSQL shows the post and holds the
            # boost back; which one runs first is up to the workers.
            await settled()
            response = await self.client.post(f"/api/v1/statuses/{status_id}/reblog",
                                              headers=self.people[booster][1])
            if response.status_code == 200:
                self.posts.append((response.json()["id"], booster, "boost"))
                self.boosted[response.json()["id"]] = status_id
                self.log.append(f"{booster} boosts {status_id} as {response.json()['id']}")

    def _may_boost(self, booster: str, author: str) -> bool:
        return True

    async def delete(self) -> None:
        if self.posts:
            status_id, author, visibility = self.rng.choice(self.posts)
            if visibility == "boost":
                response = await self.client.post(f"/api/v1/statuses/{self.boosted[status_id]}/unreblog",
                                                  headers=self.people[author][1])
            else:
                response = await self.client.delete(f"/api/v1/statuses/{status_id}", headers=self.people[author][1])
            # 404: gone already, or no longer visible to its author (a block in between)
            assert response.status_code in (200, 404), response.text
            gone = {status_id} | {boost for boost, of in self.boosted.items() if of == status_id}  # its boosts go too
            self.posts = [p for p in self.posts if p[0] not in gone]
            self.log.append(f"{author} deletes {status_id}")

    async def _as_viewer(self, path: str, **data) -> None:
        response = await self.client.post(path, headers=self.people["viewer"][1], json=data or None)
        if response.status_code == 403 and path.endswith("/follow"):
            return  # following an account one blocks is refused, as Mastodon refuses it
        assert response.status_code == 200, response.text
        self.log.append(f"viewer {path.rsplit('/', 1)[-1]} {path.split('/')[-2]} {data}")

    async def follow(self) -> None:
        # Only accounts pushed on write: a new follow of a pulled account is seen within
        # sources.PULLED_SECONDS, by design (docs/feeds.md).
        target = self.people[self.rng.choice(PUSHED)][0]
        if self.rng.random() < 0.3:
            await self._as_viewer(f"/api/v1/accounts/{target.id}/unfollow")
        else:
            await self._as_viewer(f"/api/v1/accounts/{target.id}/follow", reblogs=self.rng.random() < 0.7)

    async def mute(self) -> None:
        target = self.people[self.rng.choice(PULLED + PUSHED)][0]
        action = self.rng.choice(("mute", "unmute"))
        await self._as_viewer(f"/api/v1/accounts/{target.id}/{action}")

    async def block(self) -> None:
        target = self.people[self.rng.choice(PUSHED)][0]  # a block ends a follow (see follow())
        action = self.rng.choice(("block", "unblock"))
        await self._as_viewer(f"/api/v1/accounts/{target.id}/{action}")


async def _world(client) -> dict:
    people = {name: await signed_in(name) for name in ("viewer",) + PULLED + PUSHED}
    viewer = people["viewer"][0]
    for name in PULLED + PUSHED:
        await follow(viewer, people[name][0])
    for name in PULLED:
        for n in range(2):
            fan, _ = await make_user(f"{name}fan{n}")
            await follow(fan, people[name][0])
    await home(client, people["viewer"][1])
    await live_feed(viewer)
    return people


async def _list_of(client, headers, people: dict, rng: random.Random) -> str:
    """A list of some of the accounts, with a random replies policy: its id."""
    made = await client.post("/api/v1/lists", headers=headers, json={
        "title": "some", "replies_policy": rng.choice(("followed", "list", "none"))})
    assert made.status_code == 200, made.text
    members = [str(people[name][0].id) for name in rng.sample(PULLED + PUSHED, 3)]
    added = await client.post(f"/api/v1/lists/{made.json()['id']}/accounts", headers=headers,
                              json={"account_ids": members})
    assert added.status_code == 200, added.text
    return made.json()["id"]


async def _list_scrolled(client, headers, list_id: str, limit: int) -> list[str]:
    seen, max_id = [], None
    while True:
        response = await client.get(f"/api/v1/timelines/list/{list_id}", headers=headers,
                                    params={"limit": limit, **({"max_id": max_id} if max_id else {})})
        assert response.status_code == 200, response.text
        if not response.json():
            return seen
        seen += [s["id"] for s in response.json()]
        max_id = seen[-1]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_every_way_of_reading_home_shows_the_same_timeline(client, seed):
    rng = random.Random(seed)
    with tuned(fanout_pull_threshold=1):  # ann and ben pulled at read time, the others pushed
        people = await _world(client)
        viewer, headers = people["viewer"]
        list_id = await _list_of(client, headers, people, rng)
        history = History(client, rng, people)
        for _ in range(60):
            await history.step()
        await settled()
        story = "\n".join(history.log)

        listed = await _list_scrolled(client, headers, list_id, 40)
        for limit in (1, 3):
            assert await _list_scrolled(client, headers, list_id, limit) == listed, f"list, limit {limit}\n{story}"

        shown = await scrolled_down(client, headers, 40)  # (mutes and blocks may have hidden everything)
        for limit in (1, 3, 7):
            assert await scrolled_down(client, headers, limit) == shown, f"limit {limit}\n{story}"
        if shown:
            below = str(int(shown[-1]) - 1)
            assert await scrolled_up(client, headers, 4, below) == shown, story

        await app_redis.feeds().delete(*store.keys_of(viewer.id))
        await store.claim_rebuild(viewer.id)  # as if a rebuild were on its way (the first read's claim may
        # still hold): no rebuild starts, PostgreSQL answers every page
        from_postgres = await scrolled_down(client, headers, 40)
        assert await store.floor_of(viewer.id) is None
        assert from_postgres == shown, story
        assert await scrolled_down(client, headers, 3) == shown, story

        await app_redis.feeds().delete(f"feed:home:{viewer.id}:rebuild")  # the claim let go: a read rebuilds
        await home(client, headers)
        await live_feed(viewer)
        assert await scrolled_down(client, headers, 40) == shown, story  # from the rebuilt feed
