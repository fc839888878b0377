"""Markers: saving and reading the last read positions, versions going up, bad input."""
from __future__ import annotations

from tests.support.openapi import assert_matches_spec
from tests.support.world import bearer, signed_in, token_for

MARKERS = "/api/v1/markers"


async def test_save_and_read_markers_with_versions(client):
    alice, alice_h = await signed_in("alice")
    empty = await client.get(MARKERS, params={"timeline[]": ["home", "notifications"]}, headers=alice_h)
    assert_matches_spec(empty, "GET", MARKERS)
    assert empty.json() == {}

    first = await client.post(MARKERS, json={"home": {"last_read_id": "103194548672408537"}}, headers=alice_h)
    assert_matches_spec(first, "POST", MARKERS)
    assert first.json()["home"]["last_read_id"] == "103194548672408537"
    assert first.json()["home"]["version"] == 1  # as Mastodon: created, then moved
    assert first.json()["home"]["updated_at"].endswith("Z")

    second = await client.post(MARKERS, data={"home[last_read_id]": "103194548672408540",
                                              "notifications[last_read_id]": "35098814"}, headers=alice_h)
    assert second.status_code == 200, second.text
    assert second.json()["home"]["version"] == 2 and second.json()["notifications"]["version"] == 1
    same = await client.post(MARKERS, json={"home": {"last_read_id": "103194548672408540"}}, headers=alice_h)
    assert same.json()["home"]["version"] == 2  # the same position: nothing moved
    assert same.json()["home"]["updated_at"] == second.json()["home"]["updated_at"]

    both = await client.get(MARKERS, params={"timeline[]": ["home", "notifications"]}, headers=alice_h)
    assert_matches_spec(both, "GET", MARKERS)
    assert {k: (v["last_read_id"], v["version"]) for k, v in both.json().items()} == {
        "home": ("103194548672408540", 2), "notifications": ("35098814", 1)}
    only_home = await client.get(MARKERS, params={"timeline[]": "home"}, headers=alice_h)
    assert list(only_home.json()) == ["home"]
    assert (await client.get(MARKERS, headers=alice_h)).json() == {}  # nothing asked, nothing given

    bob, bob_h = await signed_in("bob")
    assert (await client.get(MARKERS, params={"timeline[]": "home"}, headers=bob_h)).json() == {}


async def test_bad_marker_input_is_refused_and_changes_nothing(client):
    alice, alice_h = await signed_in("alice")
    for body in ({}, {"home": {"last_read_id": "abc"}}, {"home": {}}, {"home": "123"},
                 {"home": {"last_read_id": "1"}, "notifications": {"last_read_id": "-5"}}, {"feed": {"last_read_id": "1"}}):
        response = await client.post(MARKERS, json=body, headers=alice_h)
        assert response.status_code == 422, body
        assert_matches_spec(response, "POST", MARKERS)
    assert (await client.get(MARKERS, params={"timeline[]": "home"}, headers=alice_h)).json() == {}

    read_only = bearer(await token_for(alice, "read"))
    assert (await client.post(MARKERS, json={"home": {"last_read_id": "1"}}, headers=read_only)).status_code == 403
    assert (await client.get(MARKERS)).status_code == 401
