"""Polls API: creating with a post, viewing, voting (single and multiple choice), expiry."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import func, update
from sqlmodel import select

from app import db
from app.models import Poll, PollVote
from app.models.base import utcnow
from tests.support.openapi import assert_matches_spec
from tests.support.world import bearer, make_user, token_for

VOTE = "/api/v1/polls/{id}/votes"


async def user(name: str):
    account, _ = await make_user(name)
    return account, bearer(await token_for(account))


async def poll_post(client, headers, *, options=("yes", "no", "maybe"), multiple=False, hide_totals=False,
                    visibility="public") -> dict:
    response = await client.post("/api/v1/statuses", headers=headers, json={
        "status": "What do you think?", "visibility": visibility,
        "poll": {"options": list(options), "expires_in": 3600, "multiple": multiple, "hide_totals": hide_totals},
    })
    assert response.status_code == 200, response.text
    return response.json()["poll"]


async def vote(client, headers, poll_id: str, choices) -> httpx.Response:
    return await client.post(f"/api/v1/polls/{poll_id}/votes", json={"choices": choices}, headers=headers)


async def stored_votes(poll_id: str) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(PollVote)
                                   .where(PollVote.poll_id == int(poll_id)))).one()


async def test_poll_is_created_with_the_post_and_shown(client):
    _, alice = await user("alice")
    poll = await poll_post(client, alice)
    assert [o["title"] for o in poll["options"]] == ["yes", "no", "maybe"]
    assert poll["expired"] is False and poll["multiple"] is False and poll["votes_count"] == 0
    assert poll["voted"] is True and poll["own_votes"] == []  # authors count as having voted
    response = await client.get(f"/api/v1/polls/{poll['id']}")
    assert response.status_code == 200
    assert_matches_spec(response, "GET", "/api/v1/polls/{id}")
    assert "voted" not in response.json()


async def test_single_choice_vote(client):
    _, alice = await user("alice")
    _, bob = await user("bob")
    poll = await poll_post(client, alice)
    response = await vote(client, bob, poll["id"], ["1"])
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "POST", VOTE)
    body = response.json()
    assert body["voted"] is True and body["own_votes"] == [1]
    assert [o["votes_count"] for o in body["options"]] == [0, 1, 0]
    assert (body["votes_count"], body["voters_count"]) == (1, 1)

    twice = await vote(client, bob, poll["id"], ["0"])
    assert twice.status_code == 422
    assert_matches_spec(twice, "POST", VOTE)
    assert twice.json()["error"] == "Validation failed: You have already voted on this poll"
    two_at_once = await vote(client, (await user("carol"))[1], poll["id"], ["0", "2"])
    assert two_at_once.status_code == 422
    assert await stored_votes(poll["id"]) == 1


async def test_multiple_choice_vote(client):
    _, alice = await user("alice")
    _, bob = await user("bob")
    _, carol = await user("carol")
    poll = await poll_post(client, alice, multiple=True)
    assert (await vote(client, bob, poll["id"], [0, 2])).status_code == 200
    body = (await vote(client, carol, poll["id"], [2])).json()
    assert [o["votes_count"] for o in body["options"]] == [1, 0, 2]
    assert (body["votes_count"], body["voters_count"]) == (3, 2)
    again = await vote(client, bob, poll["id"], [2])
    assert again.status_code == 422
    assert await stored_votes(poll["id"]) == 3


async def test_bad_votes_are_refused_and_change_nothing(client):
    _, alice = await user("alice")
    _, bob = await user("bob")
    poll = await poll_post(client, alice)
    cases = [
        (bob, [3], "The chosen vote option does not exist"),
        (bob, [-1], "The chosen vote option does not exist"),
        (bob, ["first"], "The chosen vote option does not exist"),
        (bob, ["\u00b9"], "The chosen vote option does not exist"),  # a superscript one is no number
        (bob, [], "Choices can't be blank"),
        (alice, [0], "You cannot vote in your own polls"),
    ]
    for headers, choices, message in cases:
        response = await vote(client, headers, poll["id"], choices)
        assert response.status_code == 422, choices
        assert response.json()["error"] == f"Validation failed: {message}"
    assert await stored_votes(poll["id"]) == 0
    assert (await client.get(f"/api/v1/polls/{poll['id']}")).json()["votes_count"] == 0


async def test_expired_poll(client):
    _, alice = await user("alice")
    _, bob = await user("bob")
    poll = await poll_post(client, alice, hide_totals=True)
    shown = (await client.get(f"/api/v1/polls/{poll['id']}")).json()
    assert [o["votes_count"] for o in shown["options"]] == [None, None, None]  # hidden until it ends
    async with db.session() as session:
        await session.exec(update(Poll).where(Poll.id == int(poll["id"])).values(
            expires_at=utcnow() - timedelta(seconds=1)))
    shown = (await client.get(f"/api/v1/polls/{poll['id']}")).json()
    assert shown["expired"] is True and [o["votes_count"] for o in shown["options"]] == [0, 0, 0]
    late = await vote(client, bob, poll["id"], [0])
    assert late.status_code == 422 and late.json()["error"] == "Validation failed: The poll has already ended"
    assert await stored_votes(poll["id"]) == 0


async def test_poll_of_a_status_one_may_not_see_is_not_found(client):
    _, alice = await user("alice")
    _, bob = await user("bob")
    poll = await poll_post(client, alice, visibility="private")
    response = await client.get(f"/api/v1/polls/{poll['id']}", headers=bob)
    assert response.status_code == 404
    assert_matches_spec(response, "GET", "/api/v1/polls/{id}")
    assert (await vote(client, bob, poll["id"], [0])).status_code == 404
    assert (await client.get("/api/v1/polls/12345")).status_code == 404
    assert await stored_votes(poll["id"]) == 0


async def test_concurrent_votes_are_all_counted(client):
    _, alice = await user("alice")
    poll = await poll_post(client, alice, multiple=True)
    voters = [(await user(f"voter{n}"))[1] for n in range(8)]
    responses = await asyncio.gather(*(vote(client, headers, poll["id"], [0, 1]) for headers in voters))
    assert all(r.status_code == 200 for r in responses)
    final = (await client.get(f"/api/v1/polls/{poll['id']}")).json()
    assert (final["votes_count"], final["voters_count"]) == (16, 8)
    assert [o["votes_count"] for o in final["options"]] == [8, 8, 0]
