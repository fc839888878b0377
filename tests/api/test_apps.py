"""POST /api/v1/apps and GET /api/v1/apps/verify_credentials."""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from app import db
from app.models import Application
from tests.support.openapi import assert_matches_spec
from tests.support.world import bearer, make_user, token_for


async def app_count() -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(Application))).one()


async def test_register_with_a_form_returns_a_credential_application(client):
    response = await client.post("/api/v1/apps", data={
        "client_name": "Tusky", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
        "scopes": "read write push", "website": "https://tusky.app",
    })
    assert response.status_code == 200
    assert_matches_spec(response, "POST", "/api/v1/apps")
    body = response.json()
    assert body["name"] == "Tusky"
    assert body["website"] == "https://tusky.app"
    assert body["scopes"] == ["read", "write", "push"]
    assert body["redirect_uri"] == "urn:ietf:wg:oauth:2.0:oob"
    assert body["redirect_uris"] == ["urn:ietf:wg:oauth:2.0:oob"]
    assert body["client_secret_expires_at"] == 0
    assert isinstance(body["id"], str) and body["id"].isdigit()
    assert len(body["client_id"]) >= 32 and len(body["client_secret"]) >= 32
    assert body["client_id"] != body["client_secret"]


async def test_register_with_json_and_several_redirect_uris(client):
    uris = ["https://app.example/callback", "myapp://oauth"]
    response = await client.post("/api/v1/apps", json={"client_name": "Multi", "redirect_uris": uris})
    assert response.status_code == 200
    body = response.json()
    assert body["redirect_uris"] == uris
    assert body["redirect_uri"] == "https://app.example/callback\nmyapp://oauth"
    assert body["scopes"] == ["read"]  # the default
    assert body["website"] is None


async def test_newline_separated_redirect_uris_are_split(client):
    # Mastodon.py and others send several URIs as one newline-separated string.
    response = await client.post("/api/v1/apps", data={
        "client_name": "Lines", "redirect_uris": "https://a.example/cb\nhttps://b.example/cb"})
    assert response.json()["redirect_uris"] == ["https://a.example/cb", "https://b.example/cb"]


async def test_rails_style_array_of_redirect_uris(client):
    response = await client.post("/api/v1/apps", data={
        "client_name": "Rails", "redirect_uris[]": ["https://a.example/cb", "https://b.example/cb"]})
    assert response.json()["redirect_uris"] == ["https://a.example/cb", "https://b.example/cb"]


async def test_missing_client_name_is_a_422_and_creates_nothing(client):
    response = await client.post("/api/v1/apps", data={"redirect_uris": "urn:ietf:wg:oauth:2.0:oob"})
    assert response.status_code == 422
    assert_matches_spec(response, "POST", "/api/v1/apps")
    assert "Name can't be blank" in response.json()["error"]
    assert await app_count() == 0


async def test_relative_redirect_uri_is_a_422(client):
    response = await client.post("/api/v1/apps", data={"client_name": "Bad", "redirect_uris": "/callback"})
    assert response.status_code == 422
    body = response.json()
    assert "must be an absolute URI" in body["error"]
    assert body["details"]["redirect_uri"][0]["error"] == "ERR_INVALID"
    assert await app_count() == 0


async def test_missing_and_dangerous_redirect_uris_are_refused(client):
    for uris, text in [("", "can't be blank"), ("javascript://alert(1)", "is forbidden"),
                       ("https://app.example/cb#frag", "fragment")]:
        response = await client.post("/api/v1/apps", data={"client_name": "Bad", "redirect_uris": uris})
        assert response.status_code == 422, uris
        assert text in response.json()["error"], uris
    assert await app_count() == 0


async def test_unknown_scopes_are_a_422(client):
    response = await client.post("/api/v1/apps", data={
        "client_name": "Greedy", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read everything"})
    assert response.status_code == 422
    assert "unknown scopes: everything" in response.json()["error"]
    assert await app_count() == 0


async def test_invalid_website_is_a_422(client):
    response = await client.post("/api/v1/apps", data={
        "client_name": "Site", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "website": "not a url"})
    assert response.status_code == 422
    assert "Website is not a valid URL" in response.json()["error"]


async def test_verify_credentials_with_an_app_token(client):
    registered = (await client.post("/api/v1/apps", data={
        "client_name": "Checker", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"})).json()
    token = (await client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": registered["client_id"],
        "client_secret": registered["client_secret"], "scope": "read"})).json()["access_token"]
    response = await client.get("/api/v1/apps/verify_credentials", headers=bearer(token))
    assert response.status_code == 200
    assert_matches_spec(response, "GET", "/api/v1/apps/verify_credentials")
    body = response.json()
    assert body["name"] == "Checker"
    assert body["id"] == registered["id"]
    assert body["scopes"] == ["read", "write"]
    assert "client_secret" not in body and "client_id" not in body


async def test_verify_credentials_with_a_user_token_of_any_scope(client):
    alice, _ = await make_user("alice")
    token = await token_for(alice, scopes="write:statuses")
    response = await client.get("/api/v1/apps/verify_credentials", headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["name"] == "Test app"


async def test_verify_credentials_without_or_with_a_bad_token_is_401(client):
    for headers in ({}, bearer("not-a-token")):
        response = await client.get("/api/v1/apps/verify_credentials", headers=headers)
        assert response.status_code == 401
        assert_matches_spec(response, "GET", "/api/v1/apps/verify_credentials")
        assert response.json() == {"error": "The access token is invalid"}


async def test_a_nul_character_in_the_name_is_a_400_and_creates_nothing(client):
    # PostgreSQL cannot store NUL in text: the request is refused before it gets there.
    response = await client.post("/api/v1/apps", json={"client_name": "Tu\x00sky",
                                                       "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"})
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]
    assert await app_count() == 0
