"""POST /api/v1/accounts and POST /api/v1/emails/confirmations, as a Mastodon app uses them."""
from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import select

from app import db
from app.models import Account, User
from app.services import admin_accounts
from tests.support.openapi import assert_matches_spec
from tests.support.world import bearer, make_app, make_user, token_for

GOOD = {"username": "newbie", "email": "newbie@example.com", "password": "purple-monkey-dishwasher",
        "agreement": True, "locale": "en"}


async def _app_token(scopes: str = "read write follow push") -> tuple[str, int]:
    application = await make_app(scopes=scopes)
    return await token_for(None, scopes=scopes, application=application), application.id


async def _register(client, token: str, **changes) -> httpx.Response:
    body = {**GOOD, **changes}
    return await client.post("/api/v1/accounts", json={k: v for k, v in body.items() if v is not None},
                             headers=bearer(token))


async def _snapshot() -> tuple:
    """Everything registration may write: the database must be exactly this after a refusal."""
    async with db.session() as s:
        return tuple([
            (await s.execute(text("SELECT count(*) FROM accounts"))).scalar(),
            (await s.execute(text("SELECT coalesce(string_agg(email || ':' || password_hash, ',' ORDER BY id), '') FROM users"))).scalar(),
            (await s.execute(text("SELECT count(*) FROM oauth_access_tokens"))).scalar(),
            (await s.execute(text("SELECT count(*) FROM outbox_jobs"))).scalar(),
        ])


async def _outbox_drained() -> None:
    """Wait until the mail worker has finished (and deleted) every outbox row."""
    for _ in range(100):
        async with db.session() as s:
            if (await s.execute(text("SELECT count(*) FROM outbox_jobs"))).scalar() == 0:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("the outbox did not drain")


async def _user(email: str) -> User | None:
    async with db.session() as s:
        return (await s.exec(select(User).where(User.email == email))).first()


def _confirmation_path(message) -> str:
    found = re.search(r"https?://\S+?(/auth/confirmation\?confirmation_token=[\w.\-%]+)", message.get_body(("plain",)).get_content())
    assert found, "the mail holds no confirmation link"
    return found.group(1)


async def _verify(client, token: str) -> httpx.Response:
    return await client.get("/api/v1/accounts/verify_credentials", headers=bearer(token))


async def test_register_confirm_and_use_the_token(client, mailbox, settings):
    token, app_id = await _app_token()
    response = await _register(client, token)
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "POST", "/api/v1/accounts")
    issued = response.json()
    assert issued["token_type"] == "Bearer"
    assert issued["scope"] == "read write follow push"
    assert issued["access_token"] != token

    # Until the address is confirmed the token is refused, as Mastodon does.
    refused = await _verify(client, issued["access_token"])
    assert refused.status_code == 403
    assert refused.json() == {"error": "Your login is missing a confirmed e-mail address"}

    message = await mailbox.wait_for("newbie@example.com")
    assert "confirm" in message["Subject"].lower()
    assert message.get_body(("html",)) is not None, "the mail has an HTML part too"
    path = _confirmation_path(message)
    assert settings.base_url in message.get_body(("plain",)).get_content()

    page = await client.get(path)
    assert page.status_code == 200
    assert "your e-mail address is confirmed" in page.text

    allowed = await _verify(client, issued["access_token"])
    assert allowed.status_code == 200
    assert allowed.json()["username"] == "newbie"
    user = await _user("newbie@example.com")
    assert user.created_by_application_id == app_id and user.approved and user.confirmed


async def test_form_encoded_registration_works_too(client, mailbox):
    token, _ = await _app_token()
    response = await client.post("/api/v1/accounts", data={**GOOD, "agreement": "true"}, headers=bearer(token))
    assert response.status_code == 200, response.text
    await mailbox.wait_for("newbie@example.com")


@pytest.mark.parametrize(
    "changes, field, code",
    [
        ({"email": "not-an-address"}, "email", "ERR_INVALID"),
        ({"email": "TAKEN@Example.COM"}, "email", "ERR_TAKEN"),
        ({"username": "TakenName"}, "username", "ERR_TAKEN"),
        ({"username": "no spaces!"}, "username", "ERR_INVALID"),
        ({"username": "admin"}, "username", "ERR_RESERVED"),
        ({"username": ""}, "username", "ERR_BLANK"),
        ({"password": "short1"}, "password", "ERR_TOO_SHORT"),
        ({"password": "password123"}, "password", "ERR_INVALID"),
        ({"password": "xx-newbie-2024"}, "password", "ERR_INVALID"),
        ({"agreement": False}, "agreement", "ERR_ACCEPTED"),
        ({"agreement": None}, "agreement", "ERR_ACCEPTED"),
        ({"locale": "not a locale"}, "locale", "ERR_INCLUSION"),
        ({"date_of_birth": "31/12/1990"}, "date_of_birth", "ERR_INVALID"),
    ],
)
async def test_bad_input_is_refused_with_details_and_changes_nothing(client, mailbox, changes, field, code):
    await make_user("takenname", email="taken@example.com")
    token, _ = await _app_token()
    before = await _snapshot()
    response = await _register(client, token, **changes)
    assert response.status_code == 422, response.text
    assert_matches_spec(response, "POST", "/api/v1/accounts")
    body = response.json()
    assert [p["error"] for p in body["details"][field]] == [code]
    assert body["error"].startswith("Validation failed: ")
    assert body["details"][field][0]["description"] in body["error"]
    assert await _snapshot() == before
    assert mailbox.to("newbie@example.com") == [] and mailbox.to("taken@example.com") == []


async def test_every_problem_is_reported_at_once(client):
    token, _ = await _app_token()
    response = await _register(client, token, username="bad name", email="nope", password="", agreement=False)
    assert response.status_code == 422
    assert set(response.json()["details"]) == {"username", "email", "password", "agreement"}


async def test_approval_mode_needs_a_reason_and_a_moderator(client, mailbox, registration_mode):
    registration_mode("approval")
    token, _ = await _app_token()
    before = await _snapshot()
    missing = await _register(client, token)
    assert missing.status_code == 422
    assert missing.json()["details"]["reason"][0]["error"] == "ERR_BLANK"
    assert await _snapshot() == before

    response = await _register(client, token, reason="I run the local birdwatching club")
    assert response.status_code == 200, response.text
    user_token = response.json()["access_token"]
    user = await _user("newbie@example.com")
    assert user.approved is False and user.reason == "I run the local birdwatching club"

    # Confirming the address is allowed, but the account still waits for a moderator.
    page = await client.get(_confirmation_path(await mailbox.wait_for("newbie@example.com")))
    assert "waiting for a moderator" in page.text
    pending = await _verify(client, user_token)
    assert pending.status_code == 403
    assert pending.json() == {"error": "Your login is currently pending approval"}

    assert "Approved @newbie" in await admin_accounts.approve("newbie")
    welcome = await mailbox.wait_for("newbie@example.com", count=2)
    assert "approved" in welcome["Subject"]
    assert (await _verify(client, user_token)).status_code == 200


async def test_closed_registrations_are_refused(client, mailbox, registration_mode):
    registration_mode("closed")
    token, _ = await _app_token()
    before = await _snapshot()
    response = await _register(client, token)
    assert response.status_code == 403
    assert response.json() == {"error": "This action is not allowed"}
    assert await _snapshot() == before


async def test_registration_needs_an_app_token_with_write_accounts(client):
    assert (await client.post("/api/v1/accounts", json=GOOD)).status_code == 401
    read_only, _ = await _app_token(scopes="read")
    before = await _snapshot()
    response = await _register(client, read_only)
    assert response.status_code == 403
    assert response.json() == {"error": "This action is outside the authorized scopes"}
    assert await _snapshot() == before


# --- POST /api/v1/emails/confirmations -------------------------------------------------------------

async def _registered(client, mailbox) -> tuple[str, str]:
    """(user token, app token) for a freshly registered, unconfirmed newbie."""
    token, _ = await _app_token()
    response = await _register(client, token)
    assert response.status_code == 200
    await mailbox.wait_for("newbie@example.com")
    return response.json()["access_token"], token


async def test_resend_confirmation_mails_a_fresh_link(client, mailbox):
    user_token, _ = await _registered(client, mailbox)
    response = await client.post("/api/v1/emails/confirmations", headers=bearer(user_token))
    assert response.status_code == 200
    assert_matches_spec(response, "POST", "/api/v1/emails/confirmations")
    assert response.json() == {}
    second = await mailbox.wait_for("newbie@example.com", count=2)
    assert "confirmed" in (await client.get(_confirmation_path(second))).text


async def test_resend_to_a_new_address_moves_the_account_and_kills_the_old_link(client, mailbox):
    user_token, _ = await _registered(client, mailbox)
    old_path = _confirmation_path(mailbox.to("newbie@example.com")[0])
    response = await client.post("/api/v1/emails/confirmations", json={"email": "Fixed@Example.org"},
                                 headers=bearer(user_token))
    assert response.status_code == 200, response.text
    assert await _user("Fixed@Example.org") is not None
    new_mail = await mailbox.wait_for("fixed@example.org")

    stale = await client.get(old_path)
    assert stale.status_code == 400
    assert "no longer on the account" in stale.text
    assert not (await _user("Fixed@Example.org")).confirmed
    assert (await client.get(_confirmation_path(new_mail))).status_code == 200
    assert (await _user("Fixed@Example.org")).confirmed


async def test_resend_to_a_bad_or_taken_address_changes_nothing(client, mailbox):
    await make_user("other", email="other@example.com")
    user_token, _ = await _registered(client, mailbox)
    await _outbox_drained()
    before = await _snapshot()
    for email, code in (("other@EXAMPLE.com", "ERR_TAKEN"), ("broken", "ERR_INVALID"), ("", "ERR_BLANK")):
        response = await client.post("/api/v1/emails/confirmations", json={"email": email}, headers=bearer(user_token))
        assert response.status_code == 422
        assert_matches_spec(response, "POST", "/api/v1/emails/confirmations")
        assert response.json()["details"]["email"][0]["error"] == code
    assert await _snapshot() == before
    assert len(mailbox.to("newbie@example.com")) == 1


async def test_resend_is_only_for_the_signing_up_app_and_unconfirmed_users(client, mailbox):
    user_token, _ = await _registered(client, mailbox)
    async with db.session() as s:
        account_id = (await s.execute(text("SELECT id FROM accounts WHERE username = 'newbie'"))).scalar()
    async with db.session() as s:
        account = await s.get(Account, account_id)
    other_app_token = await token_for(account)
    response = await client.post("/api/v1/emails/confirmations", headers=bearer(other_app_token))
    assert response.status_code == 403
    assert_matches_spec(response, "POST", "/api/v1/emails/confirmations")
    assert response.json() == {"error": "This method is only available to the application the user originally signed-up with"}

    await admin_accounts.confirm("newbie")
    response = await client.post("/api/v1/emails/confirmations", headers=bearer(user_token))
    assert response.status_code == 403
    assert response.json() == {"error": "This method is only available while the e-mail is awaiting confirmation"}

    assert (await client.post("/api/v1/emails/confirmations")).status_code == 401
    assert len(mailbox.to("newbie@example.com")) == 1


# --- a real client library against a real server process --------------------------------------------

def _mastodon_py_signs_up(base: str) -> dict:
    from mastodon import Mastodon

    client_id, client_secret = Mastodon.create_app("Sign-up test", api_base_url=base, scopes=["read", "write"])
    mastodon = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
    token, problems = mastodon.create_account("pyuser", "purple-monkey-dishwasher", "PyUser@example.com",
                                              agreement=True, scopes=["read", "write"], return_detailed_error=True)
    _, refused = mastodon.create_account("PYUSER", "purple-monkey-dishwasher", "other@example.com",
                                         agreement=True, scopes=["read", "write"], return_detailed_error=True)
    Mastodon(access_token=token, client_id=client_id, client_secret=client_secret,
             api_base_url=base).email_resend_confirmation()
    return {"token": token, "refused": dict(refused)}


def _mastodon_py_reads_its_profile(base: str, token: str) -> str:
    from mastodon import Mastodon

    return Mastodon(access_token=token, api_base_url=base).account_verify_credentials()["username"]


async def test_mastodon_py_registers_and_resends(live_server, client, mailbox):
    result = await asyncio.to_thread(_mastodon_py_signs_up, live_server)
    assert result["refused"]["details"]["username"][0]["error"] == "ERR_TAKEN"
    await mailbox.wait_for("pyuser@example.com")  # the confirmation mail
    second = await mailbox.wait_for("pyuser@example.com", count=2)
    async with httpx.AsyncClient(base_url=live_server) as browser:
        assert (await browser.get(_confirmation_path(second))).status_code == 200
    assert await asyncio.to_thread(_mastodon_py_reads_its_profile, live_server, result["token"]) == "pyuser"
