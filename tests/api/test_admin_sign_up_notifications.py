"""`admin.sign_up`: moderators and admins are told when someone new can use the instance, as
Mastodon tells its staff: once the address is confirmed and, where sign-ups wait for approval,
the account approved (whichever comes last), never at sign-up itself."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from app import db
from app.models import Account, Notification
from app.models.base import utcnow
from app.services import admin_accounts
from tests.api.test_registration import _app_token, _confirmation_path, _register, _user
from tests.support.openapi import assert_matches_spec
from tests.support.polling import settled
from tests.support.world import bearer, make_user, token_for


async def _people():
    """An admin, a moderator and someone without a role, with their headers."""
    people = {}
    for name, role in (("boss", "admin"), ("modesty", "moderator"), ("plain", "user")):
        account, _ = await make_user(name, role=role)
        people[name] = bearer(await token_for(account))
    return people


async def _sign_ups(client, headers, **params) -> list[dict]:
    response = await client.get("/api/v1/notifications", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", "/api/v1/notifications")
    return [n for n in response.json() if n["type"] == "admin.sign_up"]


async def _signed_up(client, mailbox, name: str, **changes) -> str:
    """Signs `name` up through an app; the path of the confirmation link mailed to them."""
    token, _ = await _app_token()
    response = await _register(client, token, username=name, email=f"{name}@example.com", **changes)
    assert response.status_code == 200, response.text
    return _confirmation_path(await mailbox.wait_for(f"{name}@example.com"))


async def test_staff_are_told_once_a_new_user_confirms_their_address(client, mailbox):
    people = await _people()
    link = await _signed_up(client, mailbox, "newbie")
    await settled()
    assert await _sign_ups(client, people["boss"]) == []  # not before the address is confirmed

    assert (await client.get(link)).status_code == 200
    await settled()
    for staff in ("boss", "modesty"):
        [told] = await _sign_ups(client, people[staff])
        assert told["account"]["acct"] == "newbie" and "status" not in told
    assert await _sign_ups(client, people["plain"]) == []

    again = await client.get(link)  # the link followed twice tells nobody twice
    assert "already" in again.text
    await settled()
    assert len(await _sign_ups(client, people["boss"])) == 1
    assert len(await _sign_ups(client, people["boss"], **{"types[]": "admin.sign_up"})) == 1
    assert await _sign_ups(client, people["boss"], **{"exclude_types[]": "admin.sign_up"}) == []


async def test_with_approval_staff_are_told_when_a_confirmed_user_is_approved(client, mailbox, registration_mode):
    registration_mode("approval")
    people = await _people()
    link = await _signed_up(client, mailbox, "hopeful", reason="I count birds")
    assert (await client.get(link)).status_code == 200
    await settled()
    assert await _sign_ups(client, people["modesty"]) == []  # waiting for approval: not a sign-up yet

    admin_token = await token_for((await make_user("approver", role="admin"))[0], scopes="admin:read admin:write")
    pending = (await _user("hopeful@example.com")).account_id
    approved = await client.post(f"/api/v1/admin/accounts/{pending}/approve", headers=bearer(admin_token))
    assert approved.status_code == 200, approved.text
    await settled()
    [told] = await _sign_ups(client, people["modesty"])
    assert told["account"]["id"] == str(pending) and told["account"]["acct"] == "hopeful"


async def test_a_user_waiting_for_approval_confirms_once_sign_ups_are_open_and_is_let_in(
        client, mailbox, registration_mode):
    """As Mastodon: confirming re-checks approval when sign-ups have been opened since."""
    registration_mode("approval")
    people = await _people()
    link = await _signed_up(client, mailbox, "patient", reason="I count birds")
    registration_mode("open")
    assert (await client.get(link)).status_code == 200
    await settled()
    assert (await _user("patient@example.com")).approved
    [told] = await _sign_ups(client, people["boss"])
    assert told["account"]["acct"] == "patient"


async def test_sign_ups_within_hours_of_each_other_are_one_group(client, mailbox):
    people = await _people()
    assert (await client.get(await _signed_up(client, mailbox, "first"))).status_code == 200
    await settled()
    await _signed_up(client, mailbox, "second")
    assert "Confirmed" in await admin_accounts.confirm("second")  # `starling accounts confirm`
    await settled()
    response = await client.get("/api/v2/notifications", headers=people["boss"])
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", "/api/v2/notifications")
    body = response.json()
    [group] = [g for g in body["notification_groups"] if g["type"] == "admin.sign_up"]
    assert group["notifications_count"] == 2 and group["group_key"].startswith("admin.sign_up-")
    by_id = {a["id"]: a["acct"] for a in body["accounts"]}
    assert [by_id[a] for a in group["sample_account_ids"]] == ["second", "first"]  # newest first

    apart = await client.get("/api/v2/notifications", params={"grouped_types[]": "follow"}, headers=people["boss"])
    assert [g["notifications_count"] for g in apart.json()["notification_groups"]] == [1, 1]


async def test_a_sign_up_long_after_the_last_one_starts_a_group_of_its_own(client, mailbox):
    """The hour an account was made keys its group, but as Mastodon a group stops collecting 12
    hours after its last sign-up came: an account made days ago and only now confirmed does
    not bring back, grouped with itself, a sign-up staff read days ago."""
    people = await _people()
    assert (await client.get(await _signed_up(client, mailbox, "early"))).status_code == 200
    await settled()
    days_ago = utcnow() - timedelta(days=3)
    async with db.session() as session:  # early signed up and was told of three days ago
        await session.execute(update(Account).where(Account.username == "early")
                              .values(created_at=days_ago - timedelta(hours=2)))
        await session.execute(update(Notification).where(Notification.type == "admin.sign_up").values(
            created_at=days_ago - timedelta(hours=1),
            group_key=f"admin.sign_up-{int((days_ago - timedelta(hours=2)).timestamp()) // 3600}"))
    link = await _signed_up(client, mailbox, "late")
    async with db.session() as session:  # late signed up three days ago too, and confirms only now
        await session.execute(update(Account).where(Account.username == "late").values(created_at=days_ago))
    assert (await client.get(link)).status_code == 200
    await settled()
    body = (await client.get("/api/v2/notifications", headers=people["boss"])).json()
    groups = [g for g in body["notification_groups"] if g["type"] == "admin.sign_up"]
    assert [g["notifications_count"] for g in groups] == [1, 1]
