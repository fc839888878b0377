"""Password reset: request by e-mail, follow the link, choose a new password; everything old is revoked."""
from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import select

from app import db
from app.models import User
from app.security import sign_link, verify_password
from tests.support.pages import csrf, submit_form
from tests.support.world import PASSWORD, bearer, make_user, token_for

NEW = "a-brand-new-secret-phrase"


def _reset_path(message) -> str:
    found = re.search(r"https?://\S+?(/auth/password/edit\?reset_password_token=[\w.\-%]+)",
                      message.get_body(("plain",)).get_content())
    assert found, "the mail holds no reset link"
    return found.group(1)


async def _user(email: str) -> User:
    async with db.session() as s:
        return (await s.exec(select(User).where(User.email == email))).one()


async def _sign_in(client, email: str, password: str) -> httpx.Response:
    return await submit_form(client, "/auth/sign_in", {"email": email, "password": password})


async def _request_reset(client, mailbox, email: str = "alice@example.com", count: int = 1) -> str:
    response = await submit_form(client, "/auth/password/new", {"email": email})
    assert response.status_code == 200
    return _reset_path(await mailbox.wait_for(email, count=count))


async def _choose(client, path: str, password: str, confirmation: str | None = None) -> httpx.Response:
    return await submit_form(client, path, {"password": password,
                                           "password_confirmation": password if confirmation is None else confirmation},
                            action="/auth/password/edit")


async def test_reset_changes_the_password_and_signs_out_everywhere(client, mailbox, settings, app):
    account, _ = await make_user("alice")
    app_token = await token_for(account)
    assert (await _sign_in(client, "alice@example.com", PASSWORD)).status_code in (302, 303)
    assert "Signed in as <strong>@alice</strong>" in (await client.get("/")).text
    before = await _user("alice@example.com")

    path = await _request_reset(client, mailbox)
    message = mailbox.to("alice@example.com")[0]
    assert "reset your password" in message["Subject"]
    assert message.get_body(("html",)) is not None
    assert f"{settings.base_url}/auth/password/edit?reset_password_token=" in message.get_body(("plain",)).get_content()

    form = await client.get(path)
    assert form.status_code == 200 and 'name="password_confirmation"' in form.text
    done = await _choose(client, path, NEW)
    assert done.status_code == 200, done.text
    assert "Your password has been changed" in done.text

    after = await _user("alice@example.com")
    assert after.password_changed_at > before.password_changed_at
    assert after.password_hash.startswith("$argon2id$")
    assert verify_password(after.password_hash, NEW) and not verify_password(after.password_hash, PASSWORD)

    # The browser session is gone, and so is every app token.
    assert "Signed in as" not in (await client.get("/")).text
    refused = await client.get("/api/v1/accounts/verify_credentials", headers=bearer(app_token))
    assert refused.status_code == 401
    async with db.session() as s:
        live = (await s.execute(text("SELECT count(*) FROM oauth_access_tokens WHERE revoked_at IS NULL"))).scalar()
        sessions = (await s.execute(text("SELECT count(*) FROM web_sessions WHERE revoked_at IS NULL"))).scalar()
    assert live == 0 and sessions == 0

    # The old password no longer signs in; the new one does.
    assert (await _sign_in(client, "alice@example.com", PASSWORD)).status_code == 401
    assert (await _sign_in(client, "alice@example.com", NEW)).status_code in (302, 303)


async def test_a_used_reset_link_is_refused(client, mailbox):
    await make_user("alice")
    path = await _request_reset(client, mailbox)
    assert (await _choose(client, path, NEW)).status_code == 200
    changed = await _user("alice@example.com")

    again = await client.get(path)
    assert again.status_code == 410
    assert "already been used" in again.text
    reposted = await _choose_without_form(client, path, "yet-another-password-42")
    assert reposted.status_code == 410
    assert (await _user("alice@example.com")).password_hash == changed.password_hash


async def _choose_without_form(client, path: str, password: str) -> httpx.Response:
    """POST the reset form as a browser would replay it (the form page itself is refused by now)."""
    token_field = csrf(await client.get("/auth/password/new"))
    token = path.split("reset_password_token=", 1)[1]
    return await client.post("/auth/password/edit", data={"authenticity_token": token_field, "reset_password_token": token,
                                                          "password": password, "password_confirmation": password})


async def test_an_older_reset_link_dies_when_the_password_changes(client, mailbox):
    await make_user("alice")
    first = await _request_reset(client, mailbox)
    second = await _request_reset(client, mailbox, count=2)
    assert (await _choose(client, second, NEW)).status_code == 200
    assert (await client.get(first)).status_code == 410


async def test_an_expired_reset_link_is_refused(client, settings):
    _, user = await make_user("alice")
    stale = sign_link(settings.secret_key, "reset", str(user.id), -1, pwc=user.password_changed_at.isoformat())
    page = await client.get("/auth/password/edit", params={"reset_password_token": stale})
    assert page.status_code == 410
    assert "This password reset link has expired" in page.text
    assert 'href="/auth/password/new"' in page.text
    response = await _choose_without_form(client, f"/x?reset_password_token={stale}", NEW)
    assert response.status_code == 410
    assert (await _user("alice@example.com")).password_hash == user.password_hash


async def test_a_tampered_reset_link_is_refused(client, mailbox, settings):
    _, user = await make_user("alice")
    path = await _request_reset(client, mailbox)
    token = path.split("reset_password_token=", 1)[1]
    forged = sign_link("another-secret-that-is-long-enough-for-hs256-signing", "reset", str(user.id), 1,
                       pwc=user.password_changed_at.isoformat())
    confirm_link = sign_link(settings.secret_key, "confirm", str(user.id), 1, pwc=user.password_changed_at.isoformat())
    for bad in (token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"), forged, confirm_link, "nonsense"):
        page = await client.get("/auth/password/edit", params={"reset_password_token": bad})
        assert page.status_code == 400
        assert "This password reset link is invalid" in page.text
        assert (await _choose_without_form(client, f"/x?reset_password_token={bad}", NEW)).status_code == 400
    assert (await _user("alice@example.com")).password_hash == user.password_hash


@pytest.mark.parametrize(
    "password, confirmation, field, message",
    [
        (NEW, "not-the-same-phrase", "password_confirmation", "Password confirmation doesn't match the password"),
        ("short1", "short1", "password", "Password is too short"),
        ("password123", "password123", "password", "too common"),
        ("alice-in-wonderland", "alice-in-wonderland", "password", "must not contain your username"),
    ],
)
async def test_a_bad_new_password_changes_nothing(client, mailbox, password, confirmation, field, message):
    account, user = await make_user("alice")
    app_token = await token_for(account)
    path = await _request_reset(client, mailbox)
    page = await _choose(client, path, password, confirmation)
    assert page.status_code == 422
    assert "Your password was not changed" in page.text
    found = re.search(rf'id="{field}-error">([^<]*)<', page.text)
    assert found and message in found.group(1).replace("&#39;", "'")
    unchanged = await _user("alice@example.com")
    assert unchanged.password_hash == user.password_hash
    assert unchanged.password_changed_at == user.password_changed_at
    async with db.session() as s:
        live = (await s.execute(text("SELECT count(*) FROM oauth_access_tokens WHERE revoked_at IS NULL"))).scalar()
    assert live == 1, app_token
    # The link still works for a second try.
    assert (await _choose(client, path, NEW)).status_code == 200


async def test_reset_request_answers_the_same_for_unknown_addresses(client, mailbox):
    await make_user("alice")
    answers = []
    for email in ("nobody@example.com", "ALICE@example.com"):
        response = await submit_form(client, "/auth/password/new", {"email": email})
        assert response.status_code == 200
        answers.append(response.text.replace(email, "ADDRESS"))
    assert answers[0] == answers[1]
    assert "a link to choose a new password is on its way" in answers[0]
    await mailbox.wait_for("alice@example.com")
    assert mailbox.to("nobody@example.com") == []


async def test_reset_request_needs_a_csrf_token(client, mailbox):
    await make_user("alice")
    await client.get("/auth/password/new")
    response = await client.post("/auth/password", data={"email": "alice@example.com"})
    assert response.status_code == 403
    async with db.session() as s:
        assert (await s.execute(text("SELECT count(*) FROM outbox_jobs"))).scalar() == 0
