"""Reads of features not built yet (app/api/v1/unsupported.py) answer what Mastodon answers an
account that has none: an empty list or object, with the scopes Mastodon asks for, so apps
that call them at start-up keep working."""
from __future__ import annotations

import pytest

from tests.support.openapi import assert_matches_spec
from tests.support.world import bearer, make_user, token_for

SIGNED_IN = [
    ("/api/v1/announcements", "read", []),
    ("/api/v1/featured_tags", "read:accounts", []),
    ("/api/v1/featured_tags/suggestions", "read:accounts", []),
    ("/api/v1/domain_blocks", "read:blocks", []),
    ("/api/v1/scheduled_statuses", "read:statuses", []),
]


@pytest.mark.parametrize("path, scope, empty", SIGNED_IN)
async def test_signed_in_reads_answer_empty(client, path, scope, empty):
    alice, _ = await make_user("alice")
    allowed = await client.get(path, headers=bearer(await token_for(alice, scopes=scope)))
    assert allowed.status_code == 200 and allowed.json() == empty
    assert_matches_spec(allowed, "GET", path)
    assert (await client.get(path)).status_code == 401
    assert (await client.get(path, headers=bearer(await token_for(alice, scopes="write")))).status_code == 403


async def test_public_reads_answer_empty(client):
    alice, _ = await make_user("alice")
    languages = await client.get("/api/v1/instance/translation_languages")
    assert languages.status_code == 200 and languages.json() == {}
    featured = await client.get(f"/api/v1/accounts/{alice.id}/featured_tags")
    assert featured.status_code == 200 and featured.json() == []
    assert_matches_spec(featured, "GET", "/api/v1/accounts/{id}/featured_tags")
    assert (await client.get("/api/v1/accounts/999999/featured_tags")).status_code == 404
    # Writes stay unrouted: featuring a hashtag is not pretended to work.
    assert (await client.post("/api/v1/featured_tags", json={"name": "x"},
                              headers=bearer(await token_for(alice)))).status_code in (404, 405)
