"""Filtering notifications (Mastodon 4.3): each user's policy, and the requests of senders
whose mentions it held back.

    action = await decide(session, recipient_id, sender, "mention", status)  # accept | filter | drop
    values = await policy_of(session, account_id)          # the five for_* fields
    values = await update_policy(session, account_id, {"for_not_following": "filter"})
    counts = await summary(session, account_id)
    rows = await page_of(session, account_id, page)        # NotificationRequest, newest first
    await accept(session, account_id, ids) / await dismiss(session, account_id, ids)

A notification of a filterable type (mention, reblog, follow, follow_request, favourite)
from a sender in one of the policy's categories gets the strictest action of the categories
the sender is in: `drop` makes none, `filter` makes it with `filtered` set (left out of the
lists, counts and streams unless asked for with include_filtered), `accept` as usual. The
categories, as Mastodon's:
- not_following: the recipient does not follow the sender;
- not_followers: the sender does not follow the recipient, or has for less than
  NEW_FOLLOWER_DAYS;
- new_accounts: the sender's account is younger than NEW_ACCOUNT_DAYS, and not followed;
- private_mentions: a direct post mentioning the recipient, from someone they do not follow,
  unless it replies (at any depth) to a direct post of theirs that mentioned the sender;
- limited_accounts: the sender was limited (silenced) by a moderator, and is not followed.
Never filtered: notifications from oneself, from senders whose request the recipient
accepted (NotificationPermission), and mentions by staff whose role outranks the
recipient's (a moderator's message to a user; `outranked_by`, which app.services.notifications
also asks: such a mention passes mutes too).

A filtered mention opens (or adds to) the request of its sender, which counts and shows the
filtered mentions still there (not dismissed, their posts not deleted): accepting it lets the
sender's notifications through from then on and puts those held back into the lists (and
their direct posts into conversations); dismissing it deletes the request and the
notifications it held. Both happen at once, so /requests/merged is always true.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import jobs
from app.errors import ApiError, NotFound
from app.models import (Account, Notification, NotificationPermission, NotificationPolicy, NotificationRequest,
                        Status, User)
from app.models.base import utcnow
from app.models.notification import POLICY_ACTIONS
from app.models.account import ROLES
from app.services.ids import parse_id

FIELDS = ("for_not_following", "for_not_followers", "for_new_accounts", "for_private_mentions", "for_limited_accounts")
DEFAULTS = {name: NotificationPolicy.model_fields[name].default for name in FIELDS}
FILTERABLE = frozenset({"mention", "reblog", "follow", "follow_request", "favourite"})
NEW_ACCOUNT_DAYS = 30
NEW_FOLLOWER_DAYS = 3  # a follower of fewer days counts as not following yet (Mastodon's threshold)
SUMMARY_CAP = 100  # Mastodon caps pending_requests_count
# workers/streaming.py: after an accept, the recipient's streams hear `notifications_merged` and
# the conversations the accepted direct posts joined.
MERGED_ACTOR = "stream_merged_requests"
REPLY_DEPTH = 100  # how far up a thread a reply to one's own private mention is looked for

# Everything decide() needs about a (recipient, sender) pair, in one round trip.
_FACTS = text("""
SELECT p.for_not_following, p.for_not_followers, p.for_new_accounts, p.for_private_mentions,
       p.for_limited_accounts,
       EXISTS (SELECT 1 FROM notification_permissions
               WHERE account_id = :recipient AND from_account_id = :sender) AS permitted,
       EXISTS (SELECT 1 FROM follows WHERE account_id = :recipient AND target_account_id = :sender) AS following,
       EXISTS (SELECT 1 FROM follows WHERE account_id = :sender AND target_account_id = :recipient
               AND created_at < now() - make_interval(days => :follower_days)) AS followed_by,
       (SELECT role FROM users WHERE account_id = :sender) AS sender_role,
       (SELECT role FROM users WHERE account_id = :recipient) AS recipient_role
FROM (SELECT 1) AS one LEFT JOIN notification_policies p ON p.account_id = :recipient
""")

# Does `parent` (a post replied to), or a post above it, come from the recipient, direct, and
# mention the sender? Then the reply answers the recipient's own private mention.
_ANSWERS_OWN_PRIVATE_MENTION = text("""
WITH RECURSIVE thread(id, in_reply_to_id, depth) AS (
    SELECT id, in_reply_to_id, 0 FROM statuses WHERE id = :parent
    UNION ALL
    SELECT s.id, s.in_reply_to_id, thread.depth + 1
    FROM thread JOIN statuses s ON s.id = thread.in_reply_to_id
    WHERE thread.depth < :depth
)
SELECT EXISTS (
    SELECT 1 FROM thread
    JOIN statuses s ON s.id = thread.id AND s.account_id = :recipient AND s.visibility = 'direct'
                   AND s.deleted_at IS NULL
    JOIN status_mentions m ON m.status_id = s.id AND m.account_id = :sender AND m.silent IS FALSE
)
""")


async def decide(session: AsyncSession, recipient_id: int, sender: Account, type: str,
                 status: Status | None) -> str:
    """What the recipient's policy does with this notification: accept, filter or drop."""
    if type not in FILTERABLE or sender.id == recipient_id:
        return "accept"
    facts = (await session.execute(_FACTS, {"recipient": recipient_id, "sender": sender.id,
                                            "follower_days": NEW_FOLLOWER_DAYS})).mappings().one()
    if facts["permitted"]:
        return "accept"
    if type == "mention" and _rank(facts["sender_role"]) > _rank(facts["recipient_role"]):
        return "accept"  # staff reaching someone they moderate
    policy = {name: facts[name] or DEFAULTS[name] for name in FIELDS}
    following = facts["following"]
    applies = []
    if not following:
        applies.append("for_not_following")
    if not facts["followed_by"]:
        applies.append("for_not_followers")
    if not following and sender.created_at is not None and sender.created_at > utcnow() - timedelta(days=NEW_ACCOUNT_DAYS):
        applies.append("for_new_accounts")
    if not following and sender.silenced_at is not None:
        applies.append("for_limited_accounts")
    if (type == "mention" and not following and status is not None and status.visibility == "direct"
            and policy["for_private_mentions"] != "accept"
            and not await _answers_own_private_mention(session, recipient_id, sender.id, status)):
        applies.append("for_private_mentions")
    actions = {policy[name] for name in applies}
    return "drop" if "drop" in actions else "filter" if "filter" in actions else "accept"


def _rank(role: str | None) -> int:
    return ROLES.index(role) if role in ROLES else 0  # ROLES is in rising order: user, moderator, admin


async def outranked_by(session: AsyncSession, sender_id: int, recipient_ids: set[int]) -> set[int]:
    """The recipients whose role the sender's outranks (a moderator or admin over a user, an
    admin over a moderator; Mastodon's UserRole#bypass_block?): staff reaching someone they
    moderate. Remote accounts have no role, so they outrank nobody."""
    roles = dict((await session.execute(select(User.account_id, User.role).where(
        User.account_id.in_(recipient_ids | {sender_id})))).all())
    sender_rank = _rank(roles.get(sender_id))
    return {recipient for recipient in recipient_ids if sender_rank > _rank(roles.get(recipient))}


async def _answers_own_private_mention(session: AsyncSession, recipient_id: int, sender_id: int,
                                       status: Status) -> bool:
    if status.in_reply_to_id is None:
        return False
    return bool((await session.execute(_ANSWERS_OWN_PRIVATE_MENTION, {
        "parent": status.in_reply_to_id, "recipient": recipient_id, "sender": sender_id,
        "depth": REPLY_DEPTH})).scalar())


async def held_back(session: AsyncSession, recipient_id: int, sender_id: int, type: str) -> None:
    """A notification was filtered (in the creating transaction): a mention opens its sender's
    request, or brings it up to date (Mastodon keeps requests for mentions only)."""
    if type != "mention":
        return
    now = utcnow()
    statement = insert(NotificationRequest).values(account_id=recipient_id, from_account_id=sender_id,
                                                   created_at=now, updated_at=now)
    await session.execute(statement.on_conflict_do_update(constraint="ux_notification_requests_sender",
                                                          set_={"updated_at": now}))


# -- the policy --------------------------------------------------------------------------------

async def policy_of(session: AsyncSession, account_id: int) -> dict[str, str]:
    row = await session.get(NotificationPolicy, account_id)
    return {name: getattr(row, name) if row is not None else DEFAULTS[name] for name in FIELDS}


async def update_policy(session: AsyncSession, account_id: int, changes: dict[str, Any]) -> dict[str, str]:
    """Set the fields given (others stay); a value other than accept, filter or drop is a 422
    and changes nothing."""
    for name, value in changes.items():
        if value not in POLICY_ACTIONS:
            raise ApiError(f"Validation failed: {name} must be one of {', '.join(POLICY_ACTIONS)}", 422)
    values = {**await policy_of(session, account_id), **changes}
    statement = insert(NotificationPolicy).values(account_id=account_id, updated_at=utcnow(), **values)
    await session.execute(statement.on_conflict_do_update(
        index_elements=["account_id"], set_={**values, "updated_at": statement.excluded.updated_at}))
    return values


async def summary(session: AsyncSession, account_id: int) -> dict[str, int]:
    """Pending requests (capped at SUMMARY_CAP, as Mastodon) and the mentions they hold."""
    pending = (select(_held_count().label("held")).where(NotificationRequest.account_id == account_id, _pending())
               .limit(SUMMARY_CAP).subquery())
    count, held = (await session.execute(select(func.count(), func.coalesce(func.sum(pending.c.held), 0)))).one()
    return {"pending_requests_count": int(count), "pending_notifications_count": int(held)}


# -- requests ----------------------------------------------------------------------------------

@dataclass
class Pending:
    request: NotificationRequest
    notifications_count: int
    last_status_id: int | None  # the newest held mention's post


def _held():
    """The request's filtered mentions whose post is still there (correlated to the
    NotificationRequest of the query)."""
    return (Notification.account_id == NotificationRequest.account_id,
            Notification.from_account_id == NotificationRequest.from_account_id,
            Notification.filtered.is_(True), Notification.type == "mention",
            exists().where(Status.id == Notification.status_id, Status.deleted_at.is_(None)))  # post not deleted


def _held_count():
    return select(func.count()).where(*_held()).scalar_subquery()


def _pending():
    """Requests still holding a mention, from a sender not suspended."""
    return and_(exists().where(*_held()),
                exists().where(Account.id == NotificationRequest.from_account_id, Account.suspended_at.is_(None)))


def _with_figures():
    return select(NotificationRequest, _held_count(),
                  select(func.max(Notification.status_id)).where(*_held()).scalar_subquery())


async def page_of(session: AsyncSession, account_id: int, page) -> list[Pending]:
    query = _with_figures().where(NotificationRequest.account_id == account_id, _pending())
    rows = (await session.execute(page.apply(query, NotificationRequest.id))).all()
    return [Pending(*row) for row in page.order(list(rows), key=lambda row: row[0].id)]


async def find(session: AsyncSession, account_id: int, raw_id) -> Pending:
    """One of the account's requests; 404 for anyone else's, unknown or malformed ids."""
    number = parse_id(raw_id)
    found = None
    if number is not None:
        found = (await session.execute(_with_figures().where(
            NotificationRequest.id == number, NotificationRequest.account_id == account_id, _pending()))).first()
    if found is None:
        raise NotFound()
    return Pending(*found)


async def _own(session: AsyncSession, account_id: int, raw_ids: list) -> list[NotificationRequest]:
    """The account's requests among `raw_ids`; other ids are ignored (as Mastodon)."""
    numbers = [n for n in (parse_id(raw) for raw in raw_ids) if n is not None]
    if not numbers:
        return []
    return list((await session.exec(select(NotificationRequest).where(
        NotificationRequest.id.in_(numbers), NotificationRequest.account_id == account_id))).all())


async def accept(session: AsyncSession, account_id: int, raw_ids: list) -> None:
    """The senders' notifications are let through from now on, and those held back join the
    lists (their direct posts the recipient's conversations)."""
    from app.services import conversations  # conversations asks notifications, which asks this module

    accepted = await _own(session, account_id, raw_ids)
    joined: list[int] = []
    for request in accepted:
        sender = request.from_account_id
        await session.execute(insert(NotificationPermission).values(
            account_id=account_id, from_account_id=sender, created_at=utcnow()).on_conflict_do_nothing())
        released = (await session.execute(update(Notification).where(
            Notification.account_id == account_id, Notification.from_account_id == sender,
            Notification.filtered.is_(True)).values(filtered=False).returning(
            Notification.type, Notification.status_id))).all()
        direct = sorted({status_id for type, status_id in released if type == "mention" and status_id is not None})
        if direct:
            for status in (await session.exec(select(Status).where(
                    Status.id.in_(direct), Status.visibility == "direct", Status.deleted_at.is_(None))
                    .order_by(Status.id))).all():
                await conversations.add_for(session, status, account_id)
                joined.append(status.id)
        await session.execute(delete(NotificationRequest).where(NotificationRequest.id == request.id))
    if accepted:
        jobs.defer(session, MERGED_ACTOR, account_id=account_id, status_ids=joined)


async def dismiss(session: AsyncSession, account_id: int, raw_ids: list) -> None:
    """The requests go, with the notifications they held back."""
    for request in await _own(session, account_id, raw_ids):
        await session.execute(delete(Notification).where(
            Notification.account_id == account_id, Notification.from_account_id == request.from_account_id,
            Notification.filtered.is_(True)))
        await session.execute(delete(NotificationRequest).where(NotificationRequest.id == request.id))


async def forget_all(session: AsyncSession, account_id: int) -> None:
    """POST /api/v1/notifications/clear took every notification: no request holds any."""
    await session.execute(delete(NotificationRequest).where(NotificationRequest.account_id == account_id))


async def forget_sender(session: AsyncSession, account_id: int, sender_id: int) -> None:
    """The account dropped every notification from the sender (a block): their request goes too."""
    await session.execute(delete(NotificationRequest).where(NotificationRequest.account_id == account_id,
                                                            NotificationRequest.from_account_id == sender_id))
