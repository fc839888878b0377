"""Accounts API: own profile (verify/update credentials), public profiles, lookup."""
from __future__ import annotations

import io
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import update

from app import db, text
from app.errors import NotFound
from app.models import Account
from app.services import profiles
from app.services.profiles import ProfileUpdate
from tests.support.openapi import assert_matches_spec
from tests.support.world import bearer, make_user, post_status, token_for

VERIFY = "/api/v1/accounts/verify_credentials"
UPDATE = "/api/v1/accounts/update_credentials"


def image_bytes(size: tuple[int, int], fmt: str = "PNG", *, noise: bool = False, exif: bool = False) -> bytes:
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (200, 30, 90))
    out = io.BytesIO()
    extra = {}
    if exif:
        tags = Image.Exif()
        tags[0x010F] = "SpyCam Inc."  # Make
        tags[0x0110] = "Model 7"  # Model
        tags[0x8825] = {2: (52.0, 31.0, 12.0)}  # GPS latitude
        extra["exif"] = tags.tobytes()
    image.save(out, fmt, **extra)
    return out.getvalue()


async def signed_in(client, username: str = "alice", scopes: str = "read write follow push"):
    account, user = await make_user(username)
    return account, bearer(await token_for(account, scopes))


def stored_files(settings) -> list[Path]:
    root = Path(settings.media_root) / "accounts"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def fetch_image(client, url: str) -> tuple[Image.Image, bytes]:
    response = await client.get(url)
    assert response.status_code == 200, url
    return Image.open(io.BytesIO(response.content)), response.content


async def test_verify_credentials_shows_the_account_with_its_source(client, settings):
    account, headers = await signed_in(client)
    response = await client.get(VERIFY, headers=headers)
    assert response.status_code == 200
    assert_matches_spec(response, "GET", VERIFY)
    body = response.json()
    assert body["id"] == str(account.id)
    assert body["username"] == body["acct"] == "alice"
    assert body["url"] == f"{settings.base_url}/@alice"
    assert body["uri"] == f"{settings.base_url}/users/alice"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00\.000Z", body["created_at"])
    assert body["created_at"][:10] == account.created_at.astimezone(timezone.utc).date().isoformat()
    assert body["last_status_at"] is None
    assert body["emojis"] == [] and body["fields"] == [] and body["roles"] == []
    assert body["source"]["privacy"] == "public" and body["source"]["note"] == ""
    assert body["role"]["permissions"] == "65536"
    # No avatar uploaded: the instance serves a default picture at Mastodon's path.
    assert body["avatar"] == f"{settings.base_url}/avatars/original/missing.png"
    avatar, _ = await fetch_image(client, body["avatar"])
    assert avatar.size == (400, 400)
    header, _ = await fetch_image(client, body["header"])
    assert header.size == (1500, 500)


async def test_verify_credentials_scopes_and_tokens(client):
    account, _ = await make_user("alice")
    # `profile` alone is enough, as in Mastodon.
    response = await client.get(VERIFY, headers=bearer(await token_for(account, "profile")))
    assert response.status_code == 200
    assert_matches_spec(response, "GET", VERIFY)

    response = await client.get(VERIFY, headers=bearer(await token_for(account, "write")))
    assert response.status_code == 403
    assert response.json()["error"] == "This action is outside the authorized scopes"
    assert_matches_spec(response, "GET", VERIFY)

    response = await client.get(VERIFY)
    assert response.status_code == 401
    assert response.json()["error"] == "The access token is invalid"
    assert_matches_spec(response, "GET", VERIFY)

    response = await client.get(VERIFY, headers=bearer("not-a-token"))
    assert response.status_code == 401
    assert_matches_spec(response, "GET", VERIFY)

    response = await client.get(VERIFY, headers=bearer(await token_for(None, "read")))
    assert response.status_code == 422
    assert response.json()["error"] == "This method requires an authenticated user"
    assert_matches_spec(response, "GET", VERIFY)


async def test_update_text_flags_fields_and_source(client, settings):
    account, headers = await signed_in(client)
    response = await client.patch(UPDATE, headers=headers, data={
        "display_name": "Alice ✨",
        "note": "Hello <script>alert(1)</script>\nsecond line\n\nsee https://example.com/about.",
        "locked": "true",
        "bot": "1",
        "discoverable": "false",
        "hide_collections": "true",
        "fields_attributes[0][name]": "Website",
        "fields_attributes[0][value]": "https://alice.example",
        "fields_attributes[1][name]": "Pronouns",
        "fields_attributes[1][value]": "she/her & <b>",
        "source[privacy]": "unlisted",
        "source[sensitive]": "true",
        "source[language]": "DE",
    })
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "PATCH", UPDATE)
    body = response.json()
    assert body["display_name"] == "Alice ✨"
    assert body["note"] == (
        "<p>Hello &lt;script&gt;alert(1)&lt;/script&gt;<br />second line</p>"
        '<p>see <a href="https://example.com/about" target="_blank" rel="nofollow noopener noreferrer">'
        '<span class="invisible">https://</span><span class="">example.com/about</span>'
        '<span class="invisible"></span></a>.</p>'
    )
    assert body["source"]["note"].startswith("Hello <script>")
    assert (body["locked"], body["bot"], body["discoverable"], body["hide_collections"]) == (True, True, False, True)
    assert [f["name"] for f in body["fields"]] == ["Website", "Pronouns"]
    assert 'href="https://alice.example"' in body["fields"][0]["value"]
    assert 'rel="me nofollow noopener noreferrer"' in body["fields"][0]["value"]
    assert body["fields"][1]["value"] == "she/her &amp; &lt;b&gt;"
    assert body["source"]["fields"][1] == {"name": "Pronouns", "value": "she/her & <b>", "verified_at": None}
    assert body["source"]["privacy"] == "unlisted"
    assert body["source"]["sensitive"] is True
    assert body["source"]["language"] == "de"

    # Everyone sees the new public profile; the owner's preferences follow the source.
    public = await client.get(f"/api/v1/accounts/{account.id}")
    assert_matches_spec(public, "GET", "/api/v1/accounts/{id}")
    assert public.json()["display_name"] == "Alice ✨"
    assert "source" not in public.json()
    prefs = await client.get("/api/v1/preferences", headers=headers)
    assert prefs.json()["posting:default:visibility"] == "unlisted"
    assert prefs.json()["posting:default:language"] == "de"


async def test_fields_as_json_array_replace_previous_fields_in_order(client):
    _, headers = await signed_in(client)
    await client.patch(UPDATE, headers=headers, json={"fields_attributes": {"5": {"name": "old", "value": "x"}}})
    response = await client.patch(UPDATE, headers=headers, json={"fields_attributes": [
        {"name": "b", "value": "2"}, {"name": "", "value": ""}, {"name": "a", "value": "1"}]})
    assert response.status_code == 200
    assert_matches_spec(response, "PATCH", UPDATE)
    assert [(f["name"], f["value"]) for f in response.json()["fields"]] == [("b", "2"), ("a", "1")]


async def test_avatar_and_header_are_resized_and_stripped_of_exif(client, settings):
    _, headers = await signed_in(client)
    photo = image_bytes((1200, 800), "JPEG", exif=True)
    assert Image.open(io.BytesIO(photo)).getexif()[0x010F] == "SpyCam Inc."
    banner = image_bytes((3000, 1000), "PNG", exif=True)
    response = await client.patch(UPDATE, headers=headers, files={
        "avatar": ("me.jpg", photo, "image/jpeg"),
        "header": ("banner.png", banner, "image/png"),
    })
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "PATCH", UPDATE)
    body = response.json()
    assert body["avatar"].startswith(f"{settings.base_url}/system/accounts/avatars/")
    assert body["avatar_static"] == body["avatar"]

    avatar, raw = await fetch_image(client, body["avatar"])
    assert avatar.format == "JPEG" and avatar.size == (400, 400)
    assert len(avatar.getexif()) == 0 and b"SpyCam" not in raw and "icc_profile" not in avatar.info
    header, raw = await fetch_image(client, body["header"])
    assert header.format == "PNG" and header.size == (1500, 500)
    assert len(header.getexif()) == 0 and b"SpyCam" not in raw

    # Replacing the avatar removes the old file; the name changes, so caches never serve stale images.
    old_file = Path(settings.media_root) / body["avatar"].split("/system/", 1)[1]
    assert old_file.exists()
    small = image_bytes((64, 64), "PNG")
    response = await client.patch(UPDATE, headers=headers, files={"avatar": ("small.png", small, "image/png")})
    assert response.status_code == 200
    assert response.json()["avatar"] != body["avatar"]
    assert not old_file.exists()
    avatar, _ = await fetch_image(client, response.json()["avatar"])
    assert avatar.size == (64, 64)  # small images are not blown up
    assert (await client.get(body["avatar"])).status_code == 404


def _truncated(fmt: str) -> bytes:
    data = image_bytes((300, 300), fmt, noise=True)
    return data[: len(data) // 2]


BAD_UPDATES = {
    "oversized avatar": (
        lambda: {"files": {"avatar": ("big.png", image_bytes((1000, 1000), noise=True), "image/png")}},
        "Avatar file size must be at most 2 MB",
    ),
    "text file named .png": (
        lambda: {"files": {"avatar": ("evil.png", b"just some text, not a picture\n" * 20, "image/png")}},
        "Avatar is not a supported image",
    ),
    "truncated PNG header": (
        lambda: {"files": {"header": ("cut.png", _truncated("PNG"), "image/png")}},
        "Header could not be read: the image data is truncated or corrupt",
    ),
    "truncated JPEG": (
        lambda: {"files": {"avatar": ("cut.jpg", _truncated("JPEG"), "image/jpeg")}},
        "Avatar could not be read: the image data is truncated or corrupt",
    ),
    "display name too long": (
        lambda: {"data": {"display_name": "x" * 31}},
        "Display name is too long (maximum is 30 characters)",
    ),
    "note too long": (
        lambda: {"data": {"note": "y" * 501}},
        "Note is too long (maximum is 500 characters)",
    ),
    "five fields": (
        lambda: {"data": {f"fields_attributes[{i}][{k}]": f"{k}{i}" for i in range(5) for k in ("name", "value")}},
        "Fields has too many entries (5; the maximum is 4)",
    ),
    "field name too long": (
        lambda: {"data": {"fields_attributes[0][name]": "n" * 256, "fields_attributes[0][value]": "v"}},
        "Fields name of entry 1 is too long (maximum is 255 characters)",
    ),
    "direct as default privacy": (
        lambda: {"data": {"source[privacy]": "direct"}},
        "Privacy must be one of public, unlisted, private",
    ),
    "good name, bad avatar": (
        lambda: {"data": {"display_name": "Changed"},
                 "files": {"avatar": ("evil.png", b"GIF89a but not really", "image/png")}},
        "Avatar is not a supported image",
    ),
}


@pytest.mark.parametrize("case", list(BAD_UPDATES))
async def test_bad_updates_are_refused_and_change_nothing(client, settings, case):
    _, headers = await signed_in(client)
    setup = await client.patch(UPDATE, headers=headers, data={"display_name": "Before", "note": "bio"})
    assert setup.status_code == 200
    before = (await client.get(VERIFY, headers=headers)).json()
    files_before = stored_files(settings)

    request, message = BAD_UPDATES[case]
    response = await client.patch(UPDATE, headers=headers, **request())
    assert response.status_code == 422, response.text
    assert_matches_spec(response, "PATCH", UPDATE)
    assert message in response.json()["error"]
    assert response.json()["error"].startswith("Validation failed: ")

    assert (await client.get(VERIFY, headers=headers)).json() == before
    assert stored_files(settings) == files_before


async def test_several_problems_are_reported_together(client):
    _, headers = await signed_in(client)
    response = await client.patch(UPDATE, headers=headers, data={"display_name": "x" * 40, "note": "y" * 600})
    assert response.status_code == 422
    body = response.json()
    assert set(body["details"]) == {"display_name", "note"}
    assert body["details"]["note"][0]["error"] == "ERR_TOO_LONG"


async def test_reading_accounts_takes_read_accounts_from_a_token_that_is_given(client):
    """As Mastodon: anyone may read accounts, but a token sent along must allow reading them."""
    alice, alice_h = await signed_in(client, "alice")
    bob, _ = await signed_in(client, "bob")
    posted = (await post_status(client, alice_h, status="liked")).json()
    narrow = bearer(await token_for(alice, "write:statuses"))
    reader = bearer(await token_for(alice, "read:accounts"))
    paths = [f"/api/v1/accounts/{bob.id}", "/api/v1/accounts/lookup?acct=bob", f"/api/v1/accounts?id[]={bob.id}",
             f"/api/v1/accounts/{bob.id}/followers", f"/api/v1/accounts/{bob.id}/following",
             f"/api/v1/statuses/{posted['id']}/favourited_by", f"/api/v1/statuses/{posted['id']}/reblogged_by"]
    for path in paths:
        assert (await client.get(path)).status_code == 200, path
        assert (await client.get(path, headers=reader)).status_code == 200, path
        refused = await client.get(path, headers=narrow)
        assert refused.status_code == 403 and refused.json() == {
            "error": "This action is outside the authorized scopes"}, path


async def test_update_needs_write_scope_and_a_token(client):
    account, headers = await signed_in(client, scopes="read")
    response = await client.patch(UPDATE, headers=headers, data={"display_name": "Nope"})
    # 403 is Mastodon's answer here, though the OpenAPI description lists no 403 for this method.
    assert response.status_code == 403
    assert response.json()["error"] == "This action is outside the authorized scopes"

    response = await client.patch(UPDATE, data={"display_name": "Nope"})
    assert response.status_code == 401
    assert_matches_spec(response, "PATCH", UPDATE)

    public = await client.get(f"/api/v1/accounts/{account.id}")
    assert public.json()["display_name"] == ""


async def test_files_are_removed_when_the_write_fails(settings):
    before = stored_files(settings)
    png = image_bytes((50, 50))
    with pytest.raises(NotFound):
        await profiles.update(123456789, ProfileUpdate(display_name="ghost", avatar=png))
    assert stored_files(settings) == before


async def test_get_account_and_its_errors(client, settings):
    account, _ = await make_user("bob")
    response = await client.get(f"/api/v1/accounts/{account.id}")
    assert response.status_code == 200
    assert_matches_spec(response, "GET", "/api/v1/accounts/{id}")
    assert response.json()["acct"] == "bob"

    for missing in ("999999", "abc", "12abc", str(2**64)):
        response = await client.get(f"/api/v1/accounts/{missing}")
        assert response.status_code == 404, missing
        assert response.json() == {"error": "Record not found"}
        assert_matches_spec(response, "GET", "/api/v1/accounts/{id}")

    # Not yet confirmed: the account does not exist for others.
    pending, _ = await make_user("pending", confirmed=False)
    response = await client.get(f"/api/v1/accounts/{pending.id}")
    assert response.status_code == 404


async def test_suspended_and_silenced_accounts(client, settings):
    account, _ = await make_user("carol")
    _, headers = await signed_in(client, "dave")
    async with db.session() as session:
        await session.execute(update(Account).where(Account.id == account.id).values(
            display_name="Carol", note="<p>hi</p>", suspended_at=datetime.now(timezone.utc)))
    response = await client.get(f"/api/v1/accounts/{account.id}", headers=headers)
    assert response.status_code == 200
    assert_matches_spec(response, "GET", "/api/v1/accounts/{id}")
    body = response.json()
    assert body["suspended"] is True
    assert body["display_name"] == "" and body["note"] == ""
    assert body["avatar"].endswith("/avatars/original/missing.png")

    async with db.session() as session:
        await session.execute(update(Account).where(Account.id == account.id).values(
            suspended_at=None, silenced_at=datetime.now(timezone.utc)))
    body = (await client.get(f"/api/v1/accounts/{account.id}")).json()
    assert body["limited"] is True and "suspended" not in body


async def test_lookup(client, settings):
    account, _ = await make_user("erin")
    for acct in ("erin", "ERIN", "@erin", f"erin@{settings.domain}"):
        response = await client.get("/api/v1/accounts/lookup", params={"acct": acct})
        assert response.status_code == 200, acct
        assert_matches_spec(response, "GET", "/api/v1/accounts/lookup")
        assert response.json()["id"] == str(account.id)

    for acct in ("nobody", "erin@elsewhere.example"):
        response = await client.get("/api/v1/accounts/lookup", params={"acct": acct})
        assert response.status_code == 404
        assert response.json() == {"error": "Record not found"}
        assert_matches_spec(response, "GET", "/api/v1/accounts/lookup")

    response = await client.get("/api/v1/accounts/lookup")
    assert response.status_code == 400
    assert "acct" in response.json()["error"]


async def test_get_multiple_accounts(client):
    first, _ = await make_user("frank")
    second, _ = await make_user("grace")
    pending, _ = await make_user("heidi", approved=False)
    response = await client.get("/api/v1/accounts", params=[
        ("id[]", str(second.id)), ("id[]", "424242"), ("id[]", str(first.id)), ("id[]", str(pending.id)),
        ("id[]", "zzz"), ("id[]", str(second.id))])
    assert response.status_code == 200
    assert_matches_spec(response, "GET", "/api/v1/accounts")
    assert [a["username"] for a in response.json()] == ["grace", "frank"]


def test_bio_rendering_edge_cases():
    long_url = "https://example.com/" + "a" * 40
    html = text.render_plain(f"see ({long_url}), javascript:alert(1) and https://")
    assert f'href="{long_url}"' in html and "</a>), javascript" in html  # punctuation stays outside
    assert '<span class="ellipsis">example.com/' in html
    assert "javascript:alert(1)" in html and 'href="javascript' not in html
    assert html.endswith("and https://</p>")
    assert text.render_plain("one\r\ntwo\r\n\r\n\r\nthree") == "<p>one<br />two</p><p>three</p>"
    assert text.countable_length("x " + long_url) == 2 + 23


async def test_note_counts_links_as_23_characters(client):
    _, headers = await signed_in(client)
    note = "z" * 470 + " https://example.com/" + "p" * 100  # 571 characters, 494 as Mastodon counts
    response = await client.patch(UPDATE, headers=headers, data={"note": note})
    assert response.status_code == 200
    assert_matches_spec(response, "PATCH", UPDATE)
    assert response.json()["source"]["note"] == note
