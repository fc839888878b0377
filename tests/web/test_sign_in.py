"""The sign-in and sign-out pages: /auth/sign_in and /auth/sign_out."""
from __future__ import annotations

from sqlalchemy import func, update
from sqlmodel import select

from app import db
from app.models import Account, User, WebSession
from app.models.base import utcnow
from app.web.sessions import COOKIE
from tests.support.pages import csrf
from tests.support.world import PASSWORD, make_user


async def post_sign_in(client, email="alice@example.com", password=PASSWORD, **extra):
    page = await client.get("/auth/sign_in")
    return await client.post("/auth/sign_in", data={
        "authenticity_token": csrf(page.text), "email": email, "password": password, **extra})


async def live_sessions() -> int:
    async with db.session() as session:
        return (await session.exec(
            select(func.count()).select_from(WebSession).where(WebSession.revoked_at.is_(None)))).one()


async def test_sign_in_page_has_a_csrf_protected_form(client):
    page = await client.get("/auth/sign_in")
    assert page.status_code == 200
    assert 'action="/auth/sign_in"' in page.text
    assert 'name="email"' in page.text and 'name="password"' in page.text
    assert csrf(page.text) == client.cookies["csrf"]


async def test_right_password_signs_in(client):
    await make_user("alice")
    response = await post_sign_in(client, email="Alice@Example.com")  # e-mail case does not matter
    assert response.status_code == 302
    assert response.headers["location"] == "/"
    assert client.cookies.get(COOKIE)
    assert await live_sessions() == 1
    assert "Signed in as <strong>@alice</strong>" in (await client.get("/")).text


async def test_signed_in_visitor_is_sent_on_from_the_sign_in_page(client):
    await make_user("alice")
    await post_sign_in(client)
    response = await client.get("/auth/sign_in?next=/settings")
    assert response.status_code == 302 and response.headers["location"] == "/settings"


async def test_wrong_password_and_unknown_email_get_the_same_message(client):
    await make_user("alice")
    answers = [await post_sign_in(client, password="wrong password"),
               await post_sign_in(client, email="nobody@example.com")]
    for response in answers:
        assert response.status_code == 401
        assert "Invalid e-mail address or password." in response.text
        assert 'value="' in response.text and "<form" in response.text  # the form again, to retry
    assert answers[0].text.count("Invalid") == answers[1].text.count("Invalid")
    assert not client.cookies.get(COOKIE)
    assert await live_sessions() == 0


async def test_unconfirmed_email_is_told_to_confirm_first_with_a_resend_hint(client):
    await make_user("alice", confirmed=False)
    response = await post_sign_in(client)
    assert response.status_code == 403
    assert "confirm your e-mail address first" in response.text
    assert 'href="/auth/confirmation/new"' in response.text
    assert await live_sessions() == 0


async def test_wrong_password_of_an_unconfirmed_user_does_not_reveal_the_account(client):
    await make_user("alice", confirmed=False)
    response = await post_sign_in(client, password="wrong password")
    assert response.status_code == 401
    assert "confirm" not in response.text


async def test_pending_disabled_and_suspended_accounts_are_refused(client):
    await make_user("pending", approved=False)
    disabled_account, _ = await make_user("disabled")
    suspended_account, _ = await make_user("suspended")
    async with db.session() as session:
        await session.execute(update(User).where(User.account_id == disabled_account.id).values(disabled=True))
        await session.execute(update(Account).where(Account.id == suspended_account.id).values(suspended_at=utcnow()))
    for name, text in [("pending", "pending review"), ("disabled", "has been disabled"),
                       ("suspended", "has been suspended")]:
        response = await post_sign_in(client, email=f"{name}@example.com")
        assert response.status_code == 403, name
        assert text in response.text, name
    assert await live_sessions() == 0


async def test_missing_or_wrong_csrf_token_is_refused(client):
    await make_user("alice")
    await client.get("/auth/sign_in")  # has the csrf cookie
    for token in (None, "x" * 43):
        data = {"email": "alice@example.com", "password": PASSWORD}
        if token:
            data["authenticity_token"] = token
        response = await client.post("/auth/sign_in", data=data)
        assert response.status_code == 403
        assert "Invalid authenticity token" in response.text
    assert await live_sessions() == 0
    assert not client.cookies.get(COOKIE)


async def test_next_is_kept_only_when_it_is_a_local_path(client):
    await make_user("alice")
    assert (await post_sign_in(client, next="/oauth/authorize?client_id=x&scope=read")).headers["location"] == \
        "/oauth/authorize?client_id=x&scope=read"
    for unsafe in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)", "evil"):
        client.cookies.delete(COOKIE)
        response = await post_sign_in(client, next=unsafe)
        assert response.status_code == 302
        assert response.headers["location"] == "/", unsafe


async def test_next_survives_a_failed_attempt(client):
    await make_user("alice")
    page = await client.get("/auth/sign_in?next=/oauth/authorize%3Fclient_id%3Dabc")
    assert 'name="next" value="/oauth/authorize?client_id=abc"' in page.text
    failed = await client.post("/auth/sign_in", data={
        "authenticity_token": csrf(page.text), "email": "alice@example.com", "password": "nope",
        "next": "/oauth/authorize?client_id=abc"})
    assert 'name="next" value="/oauth/authorize?client_id=abc"' in failed.text
    assert 'value="alice@example.com"' in failed.text


async def test_sign_out_ends_the_session(client):
    await make_user("alice")
    await post_sign_in(client)
    old_cookie = client.cookies.get(COOKIE)
    home = await client.get("/")
    response = await client.post("/auth/sign_out", data={"authenticity_token": csrf(home.text)})
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert await live_sessions() == 0
    # even a copy of the old cookie no longer signs anyone in
    client.cookies.set(COOKIE, old_cookie)
    assert "Signed in as" not in (await client.get("/")).text


async def test_sign_out_needs_the_csrf_token(client):
    await make_user("alice")
    await post_sign_in(client)
    response = await client.post("/auth/sign_out")
    assert response.status_code == 403
    assert await live_sessions() == 1


async def test_signing_in_again_replaces_the_previous_session(client):
    await make_user("alice")
    await make_user("bob")
    await post_sign_in(client)
    # e.g. from a sign-in form that was open in another tab
    response = await client.post("/auth/sign_in", data={
        "authenticity_token": client.cookies["csrf"], "email": "bob@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert await live_sessions() == 1
    assert "@bob" in (await client.get("/")).text
