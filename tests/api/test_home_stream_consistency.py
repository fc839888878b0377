"""What an app keeps on screen from the home stream must be the home timeline, and from a list's
stream the list's timeline: a random history of posts, replies, mentions, boosts, deletes,
unfollows, mutes and blocks while the viewer's `user` and `list` streams are open, then every
`update` not followed by its `delete` is a post the timeline shows, and the timeline shows
nothing else posted meanwhile. One seed per run."""
from __future__ import annotations

import asyncio
import contextlib
import json
import random

import pytest

from app.services import streaming
from tests.api.test_home_consistency import PULLED, PUSHED, History, _list_of, _list_scrolled, _world
from tests.api.test_streaming import PROBE, socket, until_listening
from tests.api.test_timelines import scrolled_down, tuned
from tests.support.polling import settled


class StreamedHistory(History):
    """As History, without the changes Mastodon's streams do not announce either: a follow
    (its merged posts come without `update`), an unmute or unblock (what shows again comes
    without one), a second boost of a post (it stands in for the first one silently when that
    goes). An unfollow takes the account's posts and boosts out of the feed without `delete`s,
    as Mastodon's unmerge: they are left out of what the stream is expected to have shown."""

    # Each change below is for good here: a few per history, so that some posts stay to be seen.
    STEPS = {**History.STEPS, "follow": 0.6, "mute": 0.6, "block": 0.3}
    # Any post: an unfollow takes out only the account's own posts and boosts, here as the
    # stream tells (nothing), whatever was held back for them.
    BOOSTED = ("viewer",) + PULLED + PUSHED
    TAGGED = True  # the viewer follows #cats: tagged public posts come home from anyone

    def __init__(self, *args):
        super().__init__(*args)
        self.unfollowed: dict[int, int] = {}  # account id -> the newest status id when unfollowed
        self.boosted_once: set[str] = set()

    async def follow(self) -> None:
        target = self.people[self.rng.choice(PUSHED)][0]
        await self._as_viewer(f"/api/v1/accounts/{target.id}/unfollow")
        self._unfollowed(target.id)

    def _unfollowed(self, account_id: int) -> None:
        self.unfollowed.setdefault(account_id, max((int(p[0]) for p in self.posts), default=0))

    async def mute(self) -> None:
        await self._as_viewer(f"/api/v1/accounts/{self.people[self.rng.choice(PULLED + PUSHED)][0].id}/mute")

    async def block(self) -> None:
        target = self.people[self.rng.choice(PUSHED)][0]
        await self._as_viewer(f"/api/v1/accounts/{target.id}/block")
        self._unfollowed(target.id)

    async def boost(self) -> None:
        before = set(self.boosted)
        await super().boost()
        for boost_id in set(self.boosted) - before:
            original = self.boosted[boost_id]
            if original in self.boosted_once:  # a second boost of one post: take it back
                response = await self.client.post(f"/api/v1/statuses/{original}/unreblog",
                                                  headers=self.people[self._booster(boost_id)][1])
                assert response.status_code in (200, 404), response.text  # 404: gone already
                self.posts = [p for p in self.posts if p[0] != boost_id]
                del self.boosted[boost_id]
                self.log.append(f"  (taken back: {original} was boosted already)")
            self.boosted_once.add(original)

    def _may_boost(self, booster: str, author: str) -> bool:
        # Not a pulled account's boost of a post by an account that may be unfollowed: held back
        # while the post is in the feed (and not streamed), it shows once the unfollow takes the
        # post out, where Mastodon's feed never adds it (docs/feeds.md, left alone).
        return not (booster in PULLED and author in PUSHED)

    def _booster(self, boost_id: str) -> str:
        return next(author for status_id, author, _ in self.posts if status_id == boost_id)


async def _collect(ws, frames: list) -> None:
    while True:
        data = json.loads(await ws.recv())
        if data.get("event") != PROBE:
            frames.append(data)


def _left_on_screen(frames: list[dict], unfollowed: dict[int, int]) -> list[str]:
    """The statuses an app keeps from these frames: each `update` until its `delete`, but those
    of accounts unfollowed since (taken out without a `delete`, as Mastodon's unmerge)."""
    on_screen: dict[str, int] = {}  # status id -> author
    for event in frames:
        if event["event"] == "update":
            status = json.loads(event["payload"])
            on_screen[status["id"]] = int(status["account"]["id"])
        elif event["event"] == "delete":
            on_screen.pop(event["payload"], None)
    return sorted((i for i, author in on_screen.items() if int(i) > unfollowed.get(author, 0)), key=int)


def _told(frames: list[dict]) -> str:
    return "\n".join(f"{e['event']} {e['payload'][:60]}" for e in frames if e["event"] != "notification")


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_what_the_home_and_list_streams_left_on_screen_is_their_timeline(client, live_server, seed):
    rng = random.Random(seed)
    with tuned(fanout_pull_threshold=1):  # ann and ben pulled at read time, the others pushed
        people = await _world(client)
        viewer, headers = people["viewer"]
        assert (await client.post("/api/v1/tags/cats/follow", headers=headers)).status_code == 200
        list_id = await _list_of(client, headers, people, rng)
        token = headers["Authorization"].split(" ", 1)[1]
        home_frames: list[dict] = []
        list_frames: list[dict] = []
        async with socket(live_server, token, "stream=user") as home_ws, \
                socket(live_server, token, f"stream=list&list={list_id}") as list_ws:
            await until_listening(home_ws, streaming.user_channel(viewer.id))
            await until_listening(list_ws, streaming.list_channel(int(list_id)))
            readers = [asyncio.ensure_future(_collect(home_ws, home_frames)),
                       asyncio.ensure_future(_collect(list_ws, list_frames))]
            history = StreamedHistory(client, rng, people)
            for _ in range(60):
                await history.step()
            await settled()
            await asyncio.sleep(0.5)  # the last events on their way
            for reader in readers:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
        story = "\n".join(history.log)
        names = {a.id: name for name, (a, _) in people.items()}

        shown = await scrolled_down(client, headers, 40)
        assert sorted(shown, key=int) == _left_on_screen(home_frames, history.unfollowed), \
            f"{names}\n{story}\n-- home events:\n{_told(home_frames)}"
        listed = await _list_scrolled(client, headers, list_id, 40)
        assert sorted(listed, key=int) == _left_on_screen(list_frames, history.unfollowed), \
            f"{names}\n{story}\n-- list events:\n{_told(list_frames)}"
