"""The instance documents (v1, v2), rules, and the start-up endpoints clients call."""
from __future__ import annotations

import asyncio
import dataclasses
import io
from datetime import datetime, timezone

import httpx
from mastodon import Mastodon
from PIL import Image
from sqlalchemy import update

from app import db
from app.api.entities.instance import InstanceFacts, instance_v1_json, instance_v2_json
from app.models import Account, Rule
from app.services.instance import Stats
from app import refreshed
from tests.support.openapi import assert_matches_spec
from tests.support.world import bearer, make_user, token_for


async def add_rules() -> list[Rule]:
    async with db.session() as session:
        rules = [Rule(text="Be kind", hint="No harassment", position=1),
                 Rule(text="No spam", position=0),
                 Rule(text="Old rule", position=2, deleted_at=datetime.now(timezone.utc))]
        session.add_all(rules)
        await session.flush()
        return rules


async def test_v2_instance_document(client, settings):
    await add_rules()
    admin, _ = await make_user("boss", role="admin")
    response = await client.get("/api/v2/instance")
    assert response.status_code == 200
    assert_matches_spec(response, "GET", "/api/v2/instance")
    body = response.json()
    assert body["domain"] == settings.domain
    assert body["title"] == settings.instance_title
    assert body["version"].startswith("4.3.0 (compatible; Starling ")
    assert body["api_versions"] == {"mastodon": 2}  # grouped notifications
    config = body["configuration"]
    assert config["urls"]["streaming"] == f"ws://{settings.domain}"
    assert config["statuses"] == {"max_characters": settings.max_post_chars, "max_media_attachments": 4,
                                  "characters_reserved_per_url": 23}
    assert config["accounts"]["max_profile_fields"] == 4
    assert "image/png" in config["media_attachments"]["supported_mime_types"]
    assert config["translation"] == {"enabled": False}
    assert body["registrations"] == {"enabled": True, "approval_required": False, "message": None, "url": None}
    assert [r["text"] for r in body["rules"]] == ["No spam", "Be kind"]
    assert body["contact"]["account"]["id"] == str(admin.id)

    thumbnail = await client.get(body["thumbnail"]["url"])
    assert thumbnail.status_code == 200
    assert Image.open(io.BytesIO(thumbnail.content)).format == "PNG"


async def test_v1_instance_document_and_stats(client, settings):
    first, _ = await make_user("ann")
    second, _ = await make_user("ben")
    await make_user("unconfirmed", confirmed=False)
    async with db.session() as session:
        await session.execute(update(Account).where(Account.id == first.id).values(statuses_count=3))
        await session.execute(update(Account).where(Account.id == second.id).values(statuses_count=4))
        session.add(Account(username="far", domain="remote.example", uri="https://remote.example/users/far"))
        session.add(Account(username="away", domain="Remote.Example", uri="https://remote.example/users/away"))
        session.add(Account(username="other", domain="other.example", uri="https://other.example/users/other"))

    response = await client.get("/api/v1/instance")
    assert response.status_code == 200
    assert_matches_spec(response, "GET", "/api/v1/instance")
    body = response.json()
    assert body["uri"] == settings.domain
    assert body["stats"] == {"user_count": 2, "status_count": 7, "domain_count": 2}
    assert body["urls"] == {"streaming_api": f"ws://{settings.domain}"}
    assert body["registrations"] is True and body["approval_required"] is False
    assert body["configuration"]["statuses"]["max_characters"] == settings.max_post_chars
    assert body["contact_account"] is None
    assert body["version"].split(" ")[0] == "4.3.0"


async def test_active_month_counts_users_seen_lately(client):
    account, _ = await make_user("cat")
    await make_user("dan")
    body = (await client.get("/api/v2/instance")).json()
    assert body["usage"]["users"]["active_month"] == 0

    # Using a token marks the user active; the figures are a minute old at most.
    await client.get("/api/v1/accounts/verify_credentials", headers=bearer(await token_for(account)))
    assert (await client.get("/api/v2/instance")).json()["usage"]["users"]["active_month"] == 0
    refreshed.forget_all()  # the minute is up
    body = (await client.get("/api/v2/instance")).json()
    assert body["usage"]["users"]["active_month"] == 1


def test_registration_modes_are_reported(settings):
    def documents(mode: str):
        facts = InstanceFacts(settings=dataclasses.replace(settings, registrations=mode),
                              stats=Stats(0, 0, 0, 0), rules=[], contact=None)
        return instance_v1_json(facts), instance_v2_json(facts)

    v1, v2 = documents("approval")
    assert (v1["registrations"], v1["approval_required"]) == (True, True)
    assert (v2["registrations"]["enabled"], v2["registrations"]["approval_required"]) == (True, True)
    v1, v2 = documents("closed")
    assert (v1["registrations"], v2["registrations"]["enabled"]) == (False, False)


async def test_rules(client):
    rules = await add_rules()
    response = await client.get("/api/v1/instance/rules")
    assert response.status_code == 200
    assert_matches_spec(response, "GET", "/api/v1/instance/rules")
    assert response.json() == [
        {"id": str(rules[1].id), "text": "No spam", "hint": ""},
        {"id": str(rules[0].id), "text": "Be kind", "hint": "No harassment"},
    ]


async def test_start_up_endpoints_answer_honestly(client, settings):
    for path, expected in (("/api/v1/instance/peers", []), ("/api/v1/instance/activity", []),
                           ("/api/v1/custom_emojis", [])):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.json() == expected
        assert_matches_spec(response, "GET", path)

    response = await client.get("/api/v1/instance/extended_description")
    assert_matches_spec(response, "GET", "/api/v1/instance/extended_description")
    assert response.json()["content"] == f"<p>{settings.instance_description}</p>"

    response = await client.get("/api/v1/instance/privacy_policy")
    assert_matches_spec(response, "GET", "/api/v1/instance/privacy_policy")
    assert "have not published a privacy policy" in response.json()["content"]

    response = await client.get("/api/v1/instance/terms_of_service")
    assert response.status_code == 404
    assert_matches_spec(response, "GET", "/api/v1/instance/terms_of_service")


async def test_mastodon_py_reads_the_instance_and_updates_a_profile(client, live_server, settings):
    account, _ = await make_user("kim")
    token = await token_for(account, "read write")
    avatar = io.BytesIO()
    Image.new("RGB", (800, 600), (10, 120, 200)).save(avatar, "PNG")

    def use_client():
        api = Mastodon(access_token=token, api_base_url=live_server, version_check_mode="created")
        api.retrieve_mastodon_version()
        instance = api.instance()
        me = api.account_update_credentials(display_name="Kim", note="Hi there",
                                            avatar=avatar.getvalue(), avatar_mime_type="image/png",
                                            fields=[("Site", "https://kim.example")])
        return api, instance, me, api.account_verify_credentials(), api.account_lookup("kim")

    api, instance, me, again, found = await asyncio.to_thread(use_client)
    assert (api.mastodon_major, api.mastodon_minor) == (4, 3)  # parsed from our version string
    assert instance.title == settings.instance_title
    assert me.display_name == again.display_name == "Kim"
    assert again.source.note == "Hi there"
    assert again.fields[0].name == "Site"
    assert str(found.id) == str(account.id)
    picture = await asyncio.to_thread(httpx.get, again.avatar)
    assert Image.open(io.BytesIO(picture.content)).size == (400, 400)
