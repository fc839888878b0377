"""Notifications read every way must agree: a random history of follows, likes, boosts,
mentions, replies, subscriptions, mutes, blocks and dismissals, then the v1 list scrolled down
in pages of every size and up again, split by type, counted, and grouped by v2. One seed per
run, so that a failure names the history that broke it."""
from __future__ import annotations

import random

import pytest

from tests.support.polling import settled
from tests.support.world import signed_in

OTHERS = ("ann", "ben", "cat", "dan")
TYPES = ("mention", "status", "reblog", "follow", "favourite")


class History:
    def __init__(self, client, rng: random.Random, people: dict):
        self.client, self.rng, self.people = client, rng, people
        self.viewers_posts: list[str] = []
        self.log: list[str] = []

    def _someone(self) -> str:
        return self.rng.choice(OTHERS)

    async def _call(self, who: str, method: str, path: str, **data):
        response = await self.client.request(method, path, headers=self.people[who][1], json=data or None)
        self.log.append(f"{who} {method} {path} {data} -> {response.status_code}")
        return response

    async def step(self) -> None:
        kind = self.rng.choices(("post", "like", "boost", "mention", "follow", "subscribe", "mute", "block",
                                 "dismiss"), weights=(3, 5, 3, 4, 2, 1, 1, 1, 1))[0]
        await getattr(self, kind)()

    async def post(self) -> None:
        response = await self._call("viewer", "POST", "/api/v1/statuses", status="viewer speaking")
        if response.status_code == 200:
            self.viewers_posts.append(response.json()["id"])
        await self._call(self._someone(), "POST", "/api/v1/statuses", status="someone speaking")

    async def like(self) -> None:
        if self.viewers_posts:
            target = self.rng.choice(self.viewers_posts)
            action = "favourite" if self.rng.random() < 0.85 else "unfavourite"
            await self._call(self._someone(), "POST", f"/api/v1/statuses/{target}/{action}")

    async def boost(self) -> None:
        if self.viewers_posts:
            await self._call(self._someone(), "POST", f"/api/v1/statuses/{self.rng.choice(self.viewers_posts)}/reblog")

    async def mention(self) -> None:
        data = {"status": f"@viewer look {self.rng.random():.3f}",
                "visibility": self.rng.choice(("public", "unlisted", "private", "direct"))}
        if self.viewers_posts and self.rng.random() < 0.5:
            data["in_reply_to_id"] = self.rng.choice(self.viewers_posts)
        await self._call(self._someone(), "POST", "/api/v1/statuses", **data)

    async def follow(self) -> None:
        viewer = self.people["viewer"][0]
        action = "follow" if self.rng.random() < 0.8 else "unfollow"
        await self._call(self._someone(), "POST", f"/api/v1/accounts/{viewer.id}/{action}")

    async def subscribe(self) -> None:  # the viewer's posts notify this follower (`status`)
        await self._call(self._someone(), "POST", f"/api/v1/accounts/{self.people['viewer'][0].id}/follow",
                         notify=True)

    async def mute(self) -> None:
        target = self.people[self._someone()][0]
        if self.rng.random() < 0.6:
            await self._call("viewer", "POST", f"/api/v1/accounts/{target.id}/mute",
                             notifications=self.rng.random() < 0.7)
        else:
            await self._call("viewer", "POST", f"/api/v1/accounts/{target.id}/unmute")

    async def block(self) -> None:
        target = self.people[self._someone()][0]
        action = "block" if self.rng.random() < 0.5 else "unblock"
        await self._call("viewer", "POST", f"/api/v1/accounts/{target.id}/{action}")

    async def dismiss(self) -> None:
        await settled()
        shown = (await self._call("viewer", "GET", "/api/v1/notifications", limit=40)).json()
        if shown:
            await self._call("viewer", "POST", f"/api/v1/notifications/{self.rng.choice(shown)['id']}/dismiss")


async def _listed(client, headers, limit: int, **params) -> list[dict]:
    """Every page from the top, following max_id as an app scrolling down does."""
    seen, max_id = [], None
    while True:
        response = await client.get("/api/v1/notifications", headers=headers,
                                    params={"limit": limit, **params, **({"max_id": max_id} if max_id else {})})
        assert response.status_code == 200, response.text
        if not response.json():
            return seen
        seen += response.json()
        max_id = seen[-1]["id"]


async def _scrolled(client, headers, limit: int, **params) -> list[str]:
    return [n["id"] for n in await _listed(client, headers, limit, **params)]


async def _scrolled_up(client, headers, limit: int, min_id: str) -> list[str]:
    seen = []
    while True:
        response = await client.get("/api/v1/notifications", headers=headers,
                                    params={"limit": limit, "min_id": min_id})
        page = [n["id"] for n in response.json()]
        if not page:
            return seen
        seen = page + seen
        min_id = page[0]


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_every_way_of_reading_notifications_agrees(client, seed):
    rng = random.Random(seed)
    people = {name: await signed_in(name) for name in ("viewer",) + OTHERS}
    headers = people["viewer"][1]
    history = History(client, rng, people)
    for _ in range(50):
        await history.step()
    await settled()
    story = "\n".join(history.log)

    everything = (await client.get("/api/v1/notifications", headers=headers, params={"limit": 80})).json()
    shown = [n["id"] for n in everything]
    assert shown and len(shown) < 80, story
    for limit in (1, 3, 7):
        assert await _scrolled(client, headers, limit) == shown, f"limit {limit}\n{story}"
    assert await _scrolled_up(client, headers, 4, str(int(shown[-1]) - 1)) == shown, story

    type_of = {n["id"]: n["type"] for n in everything}
    for kind in TYPES:
        assert await _scrolled(client, headers, 5, **{"types[]": kind}) == [
            i for i in shown if type_of[i] == kind], f"{kind}\n{story}"
        assert await _scrolled(client, headers, 40, **{"exclude_types[]": kind}) == [
            i for i in shown if type_of[i] != kind], f"not {kind}\n{story}"
    sender_of = {n["id"]: n["account"]["id"] for n in everything}
    held_back = await _scrolled(client, headers, 40, include_filtered="true")
    assert set(shown) <= set(held_back), story  # everything, and what the policy held back
    for name in OTHERS:
        account_id = str(people[name][0].id)
        # One sender's list shows what the policy held back too (how apps open a request).
        theirs = await _listed(client, headers, 40, account_id=account_id)
        assert [n["id"] for n in theirs if not n.get("filtered")] == [
            i for i in shown if sender_of[i] == account_id], f"from {name}\n{story}"
        assert {n["id"] for n in theirs if n.get("filtered")} <= set(held_back) - set(shown), story

    count = (await client.get("/api/v1/notifications/unread_count", headers=headers)).json()["count"]
    assert count == len(shown), story

    # Grouped: every notification in exactly one group of its type, counted once.
    grouped = (await client.get("/api/v2/notifications", headers=headers, params={"limit": 80})).json()
    groups = grouped["notification_groups"]
    assert sum(g["notifications_count"] for g in groups) == len(shown), story
    assert len({g["group_key"] for g in groups}) == len(groups), story
    for group in groups:
        newest = str(group["most_recent_notification_id"])
        assert type_of[newest] == group["type"], story
        assert group["sample_account_ids"][0] == sender_of[newest], story
        groupable = group["type"] in ("favourite", "reblog", "follow")
        assert group["group_key"].startswith("ungrouped-") != groupable, story
    assert [str(g["most_recent_notification_id"]) for g in groups] == sorted(
        {str(g["most_recent_notification_id"]) for g in groups}, key=int, reverse=True), story
    v2_count = (await client.get("/api/v2/notifications/unread_count", headers=headers)).json()["count"]
    assert v2_count == len(groups), story
