"""The sign-up, confirmation and resend pages, driven like a browser: GET the form, POST it back."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import text
from sqlmodel import select

from app import db
from app.models import User
from app.security import sign_link
from tests.support.pages import csrf, submit_form
from tests.support.world import make_user

GOOD = {"username": "walker", "email": "walker@example.com", "password": "purple-monkey-dishwasher",
        "password_confirmation": "purple-monkey-dishwasher", "agreement": "1"}


async def _sign_up(client, **changes):
    fields = {k: v for k, v in {**GOOD, **changes}.items() if v is not None}
    return await submit_form(client, "/auth/sign_up", fields)


async def _snapshot() -> tuple:
    async with db.session() as s:
        return (
            (await s.execute(text("SELECT count(*) FROM accounts"))).scalar(),
            (await s.execute(text("SELECT coalesce(string_agg(email || ':' || coalesce(confirmed_at::text, '-'), ',' ORDER BY id), '') FROM users"))).scalar(),
            (await s.execute(text("SELECT count(*) FROM outbox_jobs"))).scalar(),
        )


async def _user(email: str) -> User | None:
    async with db.session() as s:
        return (await s.exec(select(User).where(User.email == email))).first()


def _confirmation_path(message) -> str:
    found = re.search(r"https?://\S+?(/auth/confirmation\?confirmation_token=[\w.\-%]+)",
                      message.get_body(("plain",)).get_content())
    assert found, "the mail holds no confirmation link"
    return found.group(1)


def _field_error(page, field: str) -> str:
    found = re.search(rf'<p class="error field-error" id="{field}-error">([^<]*)</p>', page.text)
    return html.unescape(found.group(1)) if found else ""


async def test_sign_up_confirm_and_sign_in(client, mailbox, settings):
    response = await _sign_up(client)
    assert response.status_code == 200, response.text
    assert "We sent a confirmation link to <strong>walker@example.com</strong>" in response.text

    # Before confirming, signing in is refused with a pointer to the resend page.
    early = await submit_form(client, "/auth/sign_in", {"email": "walker@example.com", "password": GOOD["password"]})
    assert early.status_code == 403
    assert "confirm your e-mail address" in early.text

    message = await mailbox.wait_for("walker@example.com")
    plain = message.get_body(("plain",)).get_content()
    assert "@walker" in plain and f"{settings.base_url}/auth/confirmation?confirmation_token=" in plain
    assert "Confirm my address" in message.get_body(("html",)).get_content()
    confirmed = await client.get(_confirmation_path(message))
    assert confirmed.status_code == 200
    assert "your e-mail address is confirmed" in confirmed.text
    assert (await _user("walker@example.com")).confirmed

    signed_in = await submit_form(client, "/auth/sign_in", {"email": "walker@example.com", "password": GOOD["password"]})
    assert signed_in.status_code in (302, 303)
    assert "Signed in as <strong>@walker</strong>" in (await client.get("/")).text


async def test_reused_confirmation_link_says_already_confirmed(client, mailbox):
    await _sign_up(client)
    path = _confirmation_path(await mailbox.wait_for("walker@example.com"))
    assert (await client.get(path)).status_code == 200
    again = await client.get(path)
    assert again.status_code == 200
    assert "already confirmed" in again.text


async def test_expired_confirmation_link_offers_a_new_one(client, mailbox, settings):
    await _sign_up(client)
    await mailbox.wait_for("walker@example.com")
    user = await _user("walker@example.com")
    stale = sign_link(settings.secret_key, "confirm", str(user.id), -1, email=user.email)
    page = await client.get("/auth/confirmation", params={"confirmation_token": stale})
    assert page.status_code == 410
    assert "This confirmation link has expired" in page.text
    assert 'action="/auth/confirmation"' in page.text  # the resend form, right there
    assert not (await _user("walker@example.com")).confirmed

    resent = await client.post("/auth/confirmation", data={"email": "walker@example.com", "authenticity_token": csrf(page)})
    assert resent.status_code == 200
    fresh = await mailbox.wait_for("walker@example.com", count=2)
    assert (await client.get(_confirmation_path(fresh))).status_code == 200
    assert (await _user("walker@example.com")).confirmed


@pytest.mark.parametrize("token", ["", "garbage", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.forged"])
async def test_invalid_confirmation_links_are_refused(client, token):
    page = await client.get("/auth/confirmation", params={"confirmation_token": token})
    assert page.status_code == 400
    assert "This confirmation link is invalid" in page.text


async def test_tampered_confirmation_link_is_refused(client, mailbox, settings):
    await _sign_up(client)
    path = _confirmation_path(await mailbox.wait_for("walker@example.com"))
    forged = sign_link("a-different-secret-of-sufficient-length-for-hs256", "confirm", "1", 1, email="walker@example.com")
    for bad in (path[:-3] + ("abc" if not path.endswith("abc") else "xyz"), f"/auth/confirmation?confirmation_token={forged}"):
        page = await client.get(bad)
        assert page.status_code == 400, bad
        assert "invalid" in page.text
    # a reset link is not a confirmation link
    user = await _user("walker@example.com")
    reset = sign_link(settings.secret_key, "reset", str(user.id), 1, email=user.email)
    assert (await client.get("/auth/confirmation", params={"confirmation_token": reset})).status_code == 400
    assert not (await _user("walker@example.com")).confirmed


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"email": "walker-at-example"}, "email", "E-mail address is not a valid e-mail address"),
        ({"email": "Taken@EXAMPLE.com"}, "email", "E-mail address is already taken"),
        ({"username": "TAKEN"}, "username", "Username is already taken"),
        ({"password": "short1", "password_confirmation": "short1"}, "password", "Password is too short"),
        ({"password": "qwerty123", "password_confirmation": "qwerty123"}, "password", "too common"),
        ({"password": "i-am-walker-99", "password_confirmation": "i-am-walker-99"}, "password",
         "must not contain your username"),
        ({"password_confirmation": "something-else-entirely"}, "password_confirmation",
         "Password confirmation doesn't match the password"),
        ({"agreement": None}, "agreement", "Agreement to the rules must be accepted"),
    ],
)
async def test_bad_sign_up_re_renders_the_form_with_the_problem(client, mailbox, changes, field, message):
    await make_user("taken", email="taken@example.com")
    before = await _snapshot()
    page = await _sign_up(client, **changes)
    assert page.status_code == 422
    assert "Your account could not be created" in page.text
    assert message in _field_error(page, field)
    # What the person typed is kept, except passwords.
    if field != "username":
        assert f'value="{GOOD["username"]}"' in page.text
    assert GOOD["password"] not in page.text
    assert await _snapshot() == before
    assert mailbox.to("walker@example.com") == []


async def test_sign_up_without_a_csrf_token_is_refused(client):
    await client.get("/auth/sign_up")
    before = await _snapshot()
    response = await client.post("/auth/sign_up", data=GOOD)
    assert response.status_code == 403
    assert await _snapshot() == before


async def test_approval_mode_asks_for_a_reason_and_holds_the_account(client, mailbox, registration_mode):
    registration_mode("approval")
    form = await client.get("/auth/sign_up")
    assert 'name="reason"' in form.text and "reviewed by a moderator" in form.text

    before = await _snapshot()
    refused = await _sign_up(client)
    assert refused.status_code == 422
    assert "Reason can't be blank" in _field_error(refused, "reason")
    assert await _snapshot() == before

    accepted = await _sign_up(client, reason="My whole choir is here")
    assert accepted.status_code == 200
    assert "a moderator will review your request" in accepted.text
    page = await client.get(_confirmation_path(await mailbox.wait_for("walker@example.com")))
    assert "waiting for a moderator" in page.text

    # Confirmed but not approved: no sign-in yet.
    refused = await submit_form(client, "/auth/sign_in", {"email": "walker@example.com", "password": GOOD["password"]})
    assert refused.status_code == 403
    assert "pending review" in refused.text


async def test_closed_mode_shows_why_and_refuses_posts(client, registration_mode):
    page = await client.get("/auth/sign_up")  # the csrf cookie and token, taken while still open
    registration_mode("closed")
    closed = await client.get("/auth/sign_up")
    assert "Registrations are closed on this server" in closed.text
    assert 'action="/auth/sign_up"' not in closed.text
    before = await _snapshot()
    response = await client.post("/auth/sign_up", data={**GOOD, "authenticity_token": csrf(page)})
    assert response.status_code == 403
    assert "Registrations are closed" in response.text
    assert await _snapshot() == before


async def test_resend_form_does_not_reveal_whether_an_address_has_an_account(client, mailbox):
    await make_user("confirmed", email="confirmed@example.com")
    await make_user("waiting", email="waiting@example.com", confirmed=False)
    answers = []
    for email in ("nobody@example.com", "confirmed@example.com", "WAITING@example.com"):
        response = await submit_form(client, "/auth/confirmation/new", {"email": email})
        assert response.status_code == 200
        answers.append(response.text.replace(email, "ADDRESS"))
    assert answers[0] == answers[1] == answers[2]
    assert "a new confirmation link is on its way" in answers[0]

    # Only the unconfirmed account gets mail.
    await mailbox.wait_for("waiting@example.com")
    assert mailbox.to("nobody@example.com") == [] and mailbox.to("confirmed@example.com") == []


async def test_resend_form_asks_for_a_real_address(client, mailbox):
    response = await submit_form(client, "/auth/confirmation/new", {"email": "nope"})
    assert response.status_code == 422
    assert "Enter the e-mail address you signed up with" in response.text


async def test_a_nul_character_in_the_form_is_a_400_and_creates_nothing(client):
    before = await _snapshot()
    response = await _sign_up(client, username="walk\x00er")
    assert response.status_code == 400
    assert await _snapshot() == before
