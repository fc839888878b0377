"""The approval queue and account administration: the service, the `starling accounts` command
and the Mastodon admin API (approve / reject)."""
from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import text
from sqlmodel import select

from app import db
from app.errors import ApiError, NotFound
from app.models import Account, User
from app.services import admin_accounts
from tests.conftest import settings_env
from tests.support.openapi import spec
from tests.support.services import ROOT
from tests.support.world import bearer, make_user, token_for

ADMIN_SCOPES = "read write admin:read admin:write"


async def _user(username: str) -> User | None:
    async with db.session() as s:
        return (await s.exec(select(User).join(Account, Account.id == User.account_id)
                             .where(Account.username == username))).first()


async def _counts() -> tuple[int, int, int]:
    async with db.session() as s:
        return tuple([(await s.execute(text(f"SELECT count(*) FROM {t}"))).scalar()
                      for t in ("accounts", "users", "outbox_jobs")])


def _assert_admin_account(body: dict) -> None:
    validator = Draft202012Validator({"$ref": "#/components/schemas/AdminAccount", "components": spec()["components"]})
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
    assert not problems, problems


async def _pending(username: str = "hopeful", confirmed: bool = True):
    return await make_user(username, approved=False, confirmed=confirmed)


# --- the service the command line calls -------------------------------------------------------------

async def test_approve_lets_the_user_in_and_mails_a_welcome(client, mailbox):
    await _pending()
    message = await admin_accounts.approve("hopeful")
    assert message.startswith("Approved @hopeful")
    assert (await _user("hopeful")).approved
    welcome = await mailbox.wait_for("hopeful@example.com")
    assert "approved" in welcome["Subject"]
    body = welcome.get_body(("plain",)).get_content()
    assert "Welcome, @hopeful" in body and "/auth/sign_in" in body
    assert welcome.get_body(("html",)) is not None


async def test_approving_an_unconfirmed_user_reminds_them_to_confirm(client, mailbox):
    await _pending(confirmed=False)
    assert "still unconfirmed" in await admin_accounts.approve("@hopeful")
    body = (await mailbox.wait_for("hopeful@example.com")).get_body(("plain",)).get_content()
    assert "confirm your e-mail address" in body and "/auth/confirmation/new" in body


async def test_reject_deletes_the_pending_account_and_frees_the_name(client, mailbox):
    account, _ = await _pending()
    token = await token_for(account)
    assert "username is free again" in await admin_accounts.reject("HOPEFUL")
    assert await _user("hopeful") is None
    async with db.session() as s:
        assert (await s.execute(text("SELECT count(*) FROM oauth_access_tokens"))).scalar() == 0
    # The same username and address can sign up again.
    await make_user("hopeful")
    assert token and mailbox.to("hopeful@example.com") == []


async def test_approve_and_reject_refuse_what_is_not_pending(client):
    await make_user("member")
    before = await _counts()
    for action in (admin_accounts.approve, admin_accounts.reject):
        with pytest.raises(ApiError, match="@member is not pending approval"):
            await action("member")
        with pytest.raises(NotFound, match="There is no local account @ghost"):
            await action("ghost")
    assert await _counts() == before


async def test_confirm_role_and_pending_list(client, registration_mode):
    registration_mode("approval")  # (confirming approves at once where sign-ups are open, as Mastodon)
    await _pending("first", confirmed=False)
    await _pending("second")
    async with db.session() as s:
        await s.execute(text("UPDATE users SET reason = 'I knit\nsocks' FROM accounts "
                             "WHERE accounts.id = users.account_id AND accounts.username = 'first'"))
    listing = await admin_accounts.list_pending()
    assert listing.splitlines()[0] == "2 account(s) waiting for approval:"
    assert "@first <first@example.com> unconfirmed" in listing and "I knit socks" in listing
    assert "@second <second@example.com> confirmed" in listing

    assert "Confirmed the e-mail address of @first" in await admin_accounts.confirm("first")
    assert (await _user("first")).confirmed
    assert "already confirmed" in await admin_accounts.confirm("first")

    assert await admin_accounts.set_role("second", "moderator") == "@second is now a moderator."
    assert (await _user("second")).role == "moderator"
    with pytest.raises(ApiError, match="Unknown role"):
        await admin_accounts.set_role("second", "overlord")
    assert (await _user("second")).role == "moderator"

    await admin_accounts.approve("first")
    await admin_accounts.reject("second")
    assert await admin_accounts.list_pending() == "No accounts are waiting for approval."


async def test_the_command_line_approves(client, settings, mailbox):
    await _pending()
    env = settings_env(settings)

    def starling(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "app.cli", "accounts", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    listing = await asyncio.to_thread(starling, "pending")
    assert listing.returncode == 0, listing.stderr
    assert "@hopeful <hopeful@example.com>" in listing.stdout
    approved = await asyncio.to_thread(starling, "approve", "hopeful")
    assert approved.returncode == 0, approved.stderr
    assert "Approved @hopeful" in approved.stdout
    assert (await _user("hopeful")).approved
    # The welcome mail is sent by the workers (here: the test process's).
    await mailbox.wait_for("hopeful@example.com", timeout=20)

    unknown = await asyncio.to_thread(starling, "reject", "nobody_here")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines()[-1] == "There is no local account @nobody_here"


# --- the Mastodon admin API -------------------------------------------------------------------------

async def _staff_token(role: str = "moderator", scopes: str = ADMIN_SCOPES) -> str:
    staff, _ = await make_user(f"staff_{role}", role=role)
    return await token_for(staff, scopes=scopes)


async def test_admin_api_approve(client, mailbox):
    account, _ = await _pending()
    token = await _staff_token("admin")
    response = await client.post(f"/api/v1/admin/accounts/{account.id}/approve", headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    _assert_admin_account(body)
    assert body["id"] == str(account.id) and body["approved"] is True and body["username"] == "hopeful"
    assert body["account"]["acct"] == "hopeful"
    await mailbox.wait_for("hopeful@example.com")

    again = await client.post(f"/api/v1/admin/accounts/{account.id}/approve", headers=bearer(token))
    assert again.status_code == 403


async def test_admin_api_reject(client, mailbox):
    account, _ = await _pending()
    token = await _staff_token("moderator")
    response = await client.post(f"/api/v1/admin/accounts/{account.id}/reject", headers=bearer(token))
    assert response.status_code == 200, response.text
    _assert_admin_account(response.json())
    assert response.json()["approved"] is False
    assert await _user("hopeful") is None
    missing = await client.post(f"/api/v1/admin/accounts/{account.id}/reject", headers=bearer(token))
    assert missing.status_code == 404
    assert missing.json() == {"error": "Record not found"}


@pytest.mark.parametrize("role, scopes, status", [
    ("user", ADMIN_SCOPES, 403),                   # the right scope, but not staff
    ("admin", "read write", 403),                  # staff, but the token lacks admin:write:accounts
    ("admin", "admin:read", 403),
])
async def test_admin_api_needs_staff_and_scope(client, role, scopes, status):
    account, _ = await _pending()
    token = await _staff_token(role, scopes)
    before = await _counts()
    for action in ("approve", "reject"):
        response = await client.post(f"/api/v1/admin/accounts/{account.id}/{action}", headers=bearer(token))
        assert response.status_code == status
        assert "error" in response.json()
    assert await _counts() == before
    assert not (await _user("hopeful")).approved
    assert (await client.post(f"/api/v1/admin/accounts/{account.id}/approve")).status_code == 401
