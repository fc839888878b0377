"""GET /api/v1/preferences: the signed-in user's posting and reading defaults."""
from __future__ import annotations

from sqlalchemy import update

from app import db
from app.models import User
from tests.support.openapi import assert_matches_spec
from tests.support.world import bearer, make_user, token_for


async def test_preferences(client):
    account, user = await make_user("ivan")
    async with db.session() as session:
        await session.execute(update(User).where(User.id == user.id).values(default_sensitive=True))
    response = await client.get("/api/v1/preferences", headers=bearer(await token_for(account, "read:accounts")))
    assert response.status_code == 200
    assert_matches_spec(response, "GET", "/api/v1/preferences")
    assert response.json() == {
        "posting:default:visibility": "public",
        "posting:default:sensitive": True,
        "posting:default:language": None,
        "reading:expand:media": "default",
        "reading:expand:spoilers": False,
    }
    response = await client.get("/api/v1/preferences", headers=bearer(await token_for(account, "write")))
    assert response.status_code == 403
    response = await client.get("/api/v1/preferences")
    assert response.status_code == 401
    assert_matches_spec(response, "GET", "/api/v1/preferences")


async def test_preferences_follow_profile_updates(client):
    account, _ = await make_user("judy")
    headers = bearer(await token_for(account, "read write"))
    response = await client.patch("/api/v1/accounts/update_credentials", headers=headers,
                                  json={"source": {"privacy": "private", "sensitive": True, "language": "fr"}})
    assert response.status_code == 200
    response = await client.get("/api/v1/preferences", headers=headers)
    assert_matches_spec(response, "GET", "/api/v1/preferences")
    body = response.json()
    assert body["posting:default:visibility"] == "private"
    assert body["posting:default:sensitive"] is True
    assert body["posting:default:language"] == "fr"
