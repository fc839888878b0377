"""Notifications: who is told about what, and reading them back (plain and grouped).

Producers call these inside the transaction of the change that causes the
notification; each only defers a job (app.jobs.defer), so the post, follow or
favourite and the promise to notify commit together and nothing is lost:

    await notifications.status_posted(session, status)      # mentions, `notify` subscribers
    await notifications.status_edited(session, status)      # `update` to who boosted it, new mentions
    await notifications.followed(session, follow_id)
    await notifications.follow_requested(session, request_id)
    await notifications.favourited(session, favourite)
    await notifications.reblogged(session, reblog)
    await notifications.signed_up(session, account_id)      # `admin.sign_up` to staff
    await notifications.defer_ended_polls()                  # the worker's periodic check

The `notify` actor (workers/notifications.py) then calls `create(session, event, id)`
in the transaction that also takes its outbox row, which decides the recipients and
inserts one row per (recipient, type, activity) with ON CONFLICT DO NOTHING: running
a job twice creates nothing the second time.

Nobody is notified (Mastodon's rules) who is not a local, active account; about
their own doing (except their poll ending); by an account they block, or mute
with hide_notifications; about a status they may not see or whose conversation
they muted; of a mention that replies to or mentions someone they block or mute. A
mention from staff who outrank the recipient passes all of these but a block of the sender.
Then the recipient's notification policy (app.services.notification_requests) accepts,
filters (kept, held back from lists, counts and streams) or drops each one.

Reading applies the same visibility again, so a notification whose status was
deleted or became invisible, or whose sender was suspended, is skipped.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterable

from sqlalchemy import (BigInteger, Text, and_, bindparam, case, cast, delete, exists, func, literal, or_,
                        select as sa_select, text, true)
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by, insert
from sqlalchemy.orm import aliased
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db, jobs
from app.errors import NotFound
from app.models import (Account, Block, ConversationMute, Favourite, Follow, FollowRequest, Marker, Mention, Mute,
                        Poll, PollVote, Status, StatusEdit, User)
from app.models.account import STAFF_ROLES
from app.models.base import utcnow
from app.models.status import replies_to_another
from app.models.notification import TYPES, Notification, NotificationSweep
from app.services import notification_requests, visibility
from app.services.ids import MAX_ID

log = logging.getLogger("starling.notifications")
ACTOR = "notify"
# Every type Mastodon knows: filters intersect with these (unknown ones are ignored).
MASTODON_TYPES = TYPES + ("admin.report", "severed_relationships", "moderation_warning",
                          "quote", "quoted_update", "annual_report")
GROUPABLE = ("favourite", "reblog", "follow", "admin.sign_up")  # Mastodon's GROUPABLE_NOTIFICATION_TYPES
GROUP_SPAN_HOURS = 12  # Mastodon: a group keeps collecting for up to 12 hours
SAMPLE_ACCOUNTS = 8
STATUS_TYPES = ("favourite", "reblog", "status", "mention", "poll", "update")
POLL_SWEEP = "poll_expiry"
POLL_SWEEP_LOOKBACK = timedelta(days=1)  # how far back a first-ever sweep looks


# -- producers (inside the caller's transaction) ----------------------------------------------

# Whether a new post may tell anyone: someone it mentions, or (unless it replies to someone
# else) its author's `notify` subscribers, found through their partial index
# (ix_follows_notify_subscribers, whose predicate this must repeat: `notify IS TRUE`), a few
# hundredths of a millisecond even for an author with 100,000 followers. Built once, so that
# posting can send it along with the post's rows.
_ANYONE_TO_TELL = text(
    "SELECT EXISTS (SELECT 1 FROM status_mentions WHERE status_id = :status_id AND NOT silent) "
    "OR (:subscribers AND EXISTS (SELECT 1 FROM follows WHERE target_account_id = :account_id AND notify IS TRUE))")


def anyone_to_tell(status: Status) -> tuple:
    """(statement, params) answering whether `status`, a new post, may notify anyone: for
    db.rows, or to send with other statements (statuses._write_new)."""
    return _ANYONE_TO_TELL, {"status_id": status.id, "account_id": status.account_id,
                             "subscribers": not replies_to_another(status)}


async def status_posted(session: AsyncSession, status: Status, anyone: bool | None = None) -> None:
    """Defers a job only when someone may be told, so most posts cost no job. `anyone`: the
    answer of anyone_to_tell(status) when the caller has it already, else one query."""
    if status.reblog_of_id is not None:
        return  # boosts notify through reblogged(), from interactions.on_reblogged
    if anyone is None:
        statement, params = anyone_to_tell(status)
        anyone = (await db.rows(session, statement, params))[0][0]
    if anyone:
        jobs.defer(session, ACTOR, event="status_posted", id=status.id)


async def status_edited(session: AsyncSession, status: Status) -> None:
    """After the edit's revision is flushed: `update` is keyed by that revision."""
    edit_id = (await session.exec(select(StatusEdit.id).where(StatusEdit.status_id == status.id)
                                  .order_by(StatusEdit.id.desc()).limit(1))).first()
    jobs.defer(session, ACTOR, event="status_edited", id=status.id, edit_id=edit_id or status.id)


async def followed(session: AsyncSession, follow_id: int) -> None:
    jobs.defer(session, ACTOR, event="follow", id=follow_id)


async def follow_requested(session: AsyncSession, request_id: int) -> None:
    jobs.defer(session, ACTOR, event="follow_request", id=request_id)


async def favourited(session: AsyncSession, favourite: Favourite) -> None:
    jobs.defer(session, ACTOR, event="favourite", id=favourite.id)


async def reblogged(session: AsyncSession, reblog: Status) -> None:
    """`reblog` is the boost (its reblog_of_id is the boosted post)."""
    jobs.defer(session, ACTOR, event="reblog", id=reblog.id)


async def signed_up(session: AsyncSession, account_id: int) -> None:
    """A local user just became able to use their account (confirmed their address and, where
    sign-ups wait for approval, was approved: whichever came last), as Mastodon tells its staff
    then, not at sign-up (a pending account reaches them as the approval queue instead)."""
    jobs.defer(session, ACTOR, event="admin.sign_up", id=account_id)


async def defer_ended_polls(now: datetime | None = None) -> int:
    """Defer a `poll` job for every poll that ended since the last check; how many.
    A watermark row makes each poll found once, even with several workers sweeping."""
    now = now or utcnow()
    async with db.session() as session:
        await session.execute(insert(NotificationSweep).values(name=POLL_SWEEP, swept_until=now - POLL_SWEEP_LOOKBACK)
                              .on_conflict_do_nothing(index_elements=["name"]))
        mark = (await session.exec(select(NotificationSweep).where(NotificationSweep.name == POLL_SWEEP)
                                   .with_for_update())).one()
        if mark.swept_until >= now:
            return 0
        poll_ids = (await session.exec(select(Poll.id).where(Poll.expires_at > mark.swept_until,
                                                             Poll.expires_at <= now))).all()
        for poll_id in poll_ids:
            jobs.defer(session, ACTOR, event="poll", id=poll_id)
        mark.swept_until = now
        session.add(mark)
    return len(poll_ids)


# -- the worker side: deciding who is told ----------------------------------------------------

@dataclass
class _Candidate:
    recipient_id: int
    type: str
    activity_id: int
    columns: dict = field(default_factory=dict)  # status_id, mention_id, follow_id...


@dataclass
class _Cause:
    """One event: who did it, about which status (if any), and who might be told."""

    sender: Account
    status: Status | None  # the status the recipients must be able to see
    candidates: list[_Candidate]
    group_prefix: str | None = None  # favourite-<status id>, reblog-<status id>, follow
    group_time: datetime | None = None
    reply_mentions: list[int] = field(default_factory=list)  # for the mention filter


async def process(event: str, id: int, edit_id: int | None = None) -> list[Notification]:
    """Create the notifications `event` implies, in a transaction of its own; returns the
    ones created by this run that the recipients are told of (not those their notification
    policy filtered: app.services.notification_requests)."""
    async with db.session() as session:
        return await create(session, event, id, edit_id)


async def create(session: AsyncSession, event: str, id: int, edit_id: int | None = None) -> list[Notification]:
    """The same inside the caller's transaction (the `notify` actor commits them together
    with taking its outbox row)."""
    if event not in _CAUSES:
        log.error("notify: unknown event %r (id %s) dropped", event, id)
        return []
    cause = await _CAUSES[event](session, id, edit_id)
    if cause is None:
        return []
    return await _create(session, cause)


async def _status(session: AsyncSession, status_id: int) -> Status | None:
    return (await session.exec(select(Status).where(Status.id == status_id, Status.deleted_at.is_(None)))).first()


async def _account(session: AsyncSession, account_id: int) -> Account | None:
    return (await session.exec(select(Account).where(Account.id == account_id,
                                                     Account.suspended_at.is_(None)))).first()


async def _mention_candidates(session: AsyncSession, status: Status) -> list[_Candidate]:
    mentions = (await session.exec(select(Mention).where(Mention.status_id == status.id,
                                                         Mention.silent.is_(False)))).all()
    return [_Candidate(m.account_id, "mention", m.id, {"status_id": status.id, "mention_id": m.id})
            for m in mentions]


async def _status_posted(session: AsyncSession, status_id: int, _=None) -> _Cause | None:
    status = await _status(session, status_id)
    if status is None:
        return None
    if status.reblog_of_id is not None:  # a boost posted through the statuses path: notify as a reblog
        return await _reblog(session, status_id)
    sender = await _account(session, status.account_id)
    if sender is None:
        return None
    candidates = await _mention_candidates(session, status)
    mentioned = {c.recipient_id for c in candidates}
    if not replies_to_another(status):  # Mastodon tells subscribers of posts and self-replies only
        subscribers = (await session.exec(select(Follow.account_id).where(
            Follow.target_account_id == status.account_id, Follow.notify.is_(True),
            *_in_subscribers_home(status)))).all()
        candidates += [_Candidate(a, "status", status.id, {"status_id": status.id})
                       for a in subscribers if a not in mentioned]
    return _Cause(sender, status, candidates, reply_mentions=await _reply_mentions(session, status))


async def told_of_mentions(session: AsyncSession, status: Status) -> set[int]:
    """The accounts a mention notification of `status` would reach, by the same rules as
    _create (Mastodon adds a direct post to a recipient's conversations exactly where the
    mention notification goes). Runs in the posting transaction."""
    sender = await _account(session, status.account_id)
    if sender is None:
        return set()
    cause = _Cause(sender, status, await _mention_candidates(session, status),
                   reply_mentions=await _reply_mentions(session, status))
    told = set()
    from_staff = await _messaged_by_staff(session, cause)
    for recipient in (await _allowed(session, cause) | from_staff) - {sender.id}:
        if recipient not in from_staff and await _mention_filtered(
                session, {recipient}, [a for a in cause.reply_mentions if a != recipient]):
            continue
        if await notification_requests.decide(session, recipient, sender, "mention", status) == "accept":
            told.add(recipient)  # a filtered mention's post joins the conversation once accepted
    return told


def _in_subscribers_home(status: Status) -> list:
    """Mastodon tells a subscriber of a post only if their home feed takes it: not if they mute
    its author at all (not only their notifications), block or mute someone it mentions, or
    follow its author in other languages. Conditions on the subscriber's Follow row."""
    subscriber = Follow.account_id
    conditions = [
        ~exists().where(Mute.account_id == subscriber, Mute.target_account_id == status.account_id,
                        or_(Mute.expires_at.is_(None), Mute.expires_at > func.now())),
        visibility.mentions_nobody_hidden_by(subscriber, status),  # (reads status.id and reblog_of_id)
    ]
    if status.language:
        conditions.append(or_(Follow.languages.is_(None), cast(Follow.languages, JSONB).has_key(status.language)))
    return conditions


async def _status_edited(session: AsyncSession, status_id: int, edit_id: int | None) -> _Cause | None:
    status = await _status(session, status_id)
    sender = await _account(session, status.account_id) if status else None
    if status is None or sender is None:
        return None
    candidates = await _mention_candidates(session, status)  # mentions the edit added; old ones exist already
    boosters = (await session.exec(select(Status.account_id).where(
        Status.reblog_of_id == status.id, Status.deleted_at.is_(None)))).all()
    candidates += [_Candidate(a, "update", edit_id or status.id, {"status_id": status.id}) for a in set(boosters)]
    return _Cause(sender, status, candidates, reply_mentions=await _reply_mentions(session, status))


async def _follow(session: AsyncSession, follow_id: int, _=None) -> _Cause | None:
    follow = await session.get(Follow, follow_id)
    sender = await _account(session, follow.account_id) if follow else None
    if follow is None or sender is None:
        return None
    return _Cause(sender, None, [_Candidate(follow.target_account_id, "follow", follow.id, {"follow_id": follow.id})],
                  group_prefix="follow", group_time=follow.created_at)


async def _follow_request(session: AsyncSession, request_id: int, _=None) -> _Cause | None:
    request = await session.get(FollowRequest, request_id)
    sender = await _account(session, request.account_id) if request else None
    if request is None or sender is None:
        return None
    return _Cause(sender, None, [_Candidate(request.target_account_id, "follow_request", request.id,
                                            {"follow_request_id": request.id})])


async def _favourite(session: AsyncSession, favourite_id: int, _=None) -> _Cause | None:
    found = (await session.exec(
        select(Favourite, Status, Account)
        .join(Status, (Status.id == Favourite.status_id) & Status.deleted_at.is_(None))
        .join(Account, (Account.id == Favourite.account_id) & Account.suspended_at.is_(None))
        .where(Favourite.id == favourite_id))).first()
    if found is None:
        return None
    favourite, status, sender = found
    return _Cause(sender, status, [_Candidate(status.account_id, "favourite", favourite.id,
                                              {"status_id": status.id, "favourite_id": favourite.id})],
                  group_prefix=f"favourite-{status.id}", group_time=favourite.created_at)


async def _reblog(session: AsyncSession, reblog_id: int, _=None) -> _Cause | None:
    reblog = await _status(session, reblog_id)
    original = await _status(session, reblog.reblog_of_id) if reblog and reblog.reblog_of_id else None
    sender = await _account(session, reblog.account_id) if reblog else None
    if original is None or sender is None:
        return None
    return _Cause(sender, reblog, [_Candidate(original.account_id, "reblog", reblog.id, {"status_id": reblog.id})],
                  group_prefix=f"reblog-{original.id}", group_time=reblog.created_at)


async def _poll(session: AsyncSession, poll_id: int, _=None) -> _Cause | None:
    poll = await session.get(Poll, poll_id)
    if poll is None or poll.expires_at is None or poll.expires_at > utcnow():
        return None  # gone, or an edit moved its end later: a later sweep finds it again
    status = await _status(session, poll.status_id)
    sender = await _account(session, poll.account_id)
    if status is None or sender is None:
        return None
    voters = set((await session.exec(select(PollVote.account_id).where(PollVote.poll_id == poll.id))).all())
    columns = {"status_id": status.id, "poll_id": poll.id}
    return _Cause(sender, status, [_Candidate(a, "poll", poll.id, columns) for a in sorted(voters | {poll.account_id})])


async def _sign_up(session: AsyncSession, account_id: int, _=None) -> _Cause | None:
    """Every moderator and admin (Mastodon's roles that may manage users) is told, grouped by
    the hour the account was made, as Mastodon groups sign-ups."""
    sender = await _account(session, account_id)
    if sender is None or sender.domain is not None:
        return None
    # Disabled staff too, as Mastodon (a notification stops only at a suspended recipient).
    staff = (await session.exec(select(User.account_id).where(User.role.in_(STAFF_ROLES)))).all()
    return _Cause(sender, None, [_Candidate(a, "admin.sign_up", sender.id) for a in sorted(staff)],
                  group_prefix="admin.sign_up", group_time=sender.created_at)


_CAUSES = {
    "status_posted": _status_posted,
    "status_edited": _status_edited,
    "follow": _follow,
    "follow_request": _follow_request,
    "favourite": _favourite,
    "reblog": _reblog,
    "poll": _poll,
    "admin.sign_up": _sign_up,
}


async def _reply_mentions(session: AsyncSession, status: Status) -> list[int]:
    """Accounts a mention's recipient must not block or mute for it to reach them (Mastodon's
    mention filter): everyone else the post mentions, and the account it replies to."""
    ids = set((await session.exec(select(Mention.account_id).where(Mention.status_id == status.id))).all())
    if status.in_reply_to_account_id is not None:
        ids.add(status.in_reply_to_account_id)
    return sorted(ids)


def _muting(account_ids, target_ids) -> object:
    return and_(Mute.account_id.in_(account_ids), Mute.target_account_id.in_(target_ids),
                Mute.hide_notifications.is_(True), or_(Mute.expires_at.is_(None), Mute.expires_at > utcnow()))


def _allowed_query(*, about_status: bool, in_conversation: bool, despite_mutes: bool = False):
    """May recipient `recipient_id` be told about something `sender_id` did (with about_status:
    about status `status_id`; with in_conversation: in conversation `conversation_id`)? All
    the rules in one query, built once per shape (building it costs more than running it).
    despite_mutes: a staff member's message, which mutes do not stop (_messaged_by_staff)."""
    recipient = bindparam("recipient_id", type_=BigInteger)
    sender = bindparam("sender_id", type_=BigInteger)
    conditions = [
        exists().where(Account.id == recipient, Account.domain.is_(None), Account.suspended_at.is_(None)),
        ~exists().where(Block.account_id == recipient, Block.target_account_id == sender),
    ]
    if not despite_mutes:
        conditions.append(~exists().where(Mute.account_id == recipient, Mute.target_account_id == sender,
                                          Mute.hide_notifications.is_(True),
                                          or_(Mute.expires_at.is_(None), Mute.expires_at > bindparam("now"))))
    if in_conversation and not despite_mutes:
        conditions.append(~exists().where(
            ConversationMute.account_id == recipient,
            ConversationMute.conversation_id == bindparam("conversation_id", type_=BigInteger)))
    if about_status:
        conditions.append(exists().where(Status.id == bindparam("status_id", type_=BigInteger),
                                         visibility.visible_to(recipient)))
    return sa_select(literal(True)).where(*conditions)


_ALLOWED = {(s, c): _allowed_query(about_status=s, in_conversation=c) for s in (False, True) for c in (False, True)}
_ALLOWED_FROM_STAFF = _allowed_query(about_status=True, in_conversation=False, despite_mutes=True)


async def _allowed(session: AsyncSession, cause: _Cause) -> set[int]:
    """The candidates' recipients who may be told (see the module docstring): one query each."""
    ids = {c.recipient_id for c in cause.candidates}
    if not ids:
        return set()
    status = cause.status
    conversation = None
    if status is not None:
        target = await _status(session, status.reblog_of_id) if status.reblog_of_id else status
        conversation = target.conversation_id if target else None
    query = _ALLOWED[(status is not None, conversation is not None)]
    params = dict(sender_id=cause.sender.id, now=utcnow(), status_id=status.id if status is not None else None,
                  conversation_id=conversation)
    return await _passing(session, query, ids, params)


async def _passing(session: AsyncSession, query, recipient_ids: set[int], params: dict) -> set[int]:
    passed = set()
    for recipient_id in sorted(recipient_ids):
        if (await session.execute(query, {**params, "recipient_id": recipient_id})).first() is not None:
            passed.add(recipient_id)
    return passed


async def _messaged_by_staff(session: AsyncSession, cause: _Cause) -> set[int]:
    """Recipients of the cause's mentions whom its sender outranks as staff. As Mastodon (its
    NotifyService lets a staff member's message through before looking at mutes), such a mention
    reaches them even if they mute the sender or the conversation, or block someone else the post
    involves, and their policy lets it in (notification_requests.decide). Not if they block the
    sender: here a block hides the sender's posts from them (docs/statuses.md), so the mention
    would show a post they may not open."""
    mentioned = {c.recipient_id for c in cause.candidates if c.type == "mention"}
    if not mentioned or cause.status is None or cause.sender.domain is not None:
        return set()
    outranked = await notification_requests.outranked_by(session, cause.sender.id, mentioned)
    if not outranked:
        return set()
    return await _passing(session, _ALLOWED_FROM_STAFF, outranked,
                          dict(sender_id=cause.sender.id, status_id=cause.status.id))


async def _mention_filtered(session: AsyncSession, recipient_ids: set[int], others: list[int]) -> set[int]:
    """Recipients who block, or mute with notifications hidden, someone else the post involves."""
    if not recipient_ids or not others:
        return set()
    blocking = set((await session.exec(select(Block.account_id).where(
        Block.account_id.in_(recipient_ids), Block.target_account_id.in_(others)))).all())
    muting = set((await session.exec(select(Mute.account_id).where(_muting(recipient_ids, others)))).all())
    return blocking | muting


async def _group_key(session: AsyncSession, recipient_id: int, cause: _Cause) -> str | None:
    """Mastodon's keys: `<prefix>-<hour bucket>` (the hour of the activity), reusing the
    recipient's latest bucket for the same prefix while it is less than GROUP_SPAN_HOURS ahead,
    so a burst of likes is one group. As Mastodon keeps that bucket for GROUP_SPAN_HOURS after
    the notification that last used it, a latest one older than that starts a new group: a
    sign-up approved days after the account was made does not join sign-ups read long ago."""
    if cause.group_prefix is None:
        return None
    moment = (cause.group_time or utcnow()).astimezone(timezone.utc)
    bucket = int(moment.timestamp()) // 3600
    previous = (await session.exec(select(Notification.group_key, Notification.created_at).where(
        Notification.account_id == recipient_id,
        Notification.group_key.startswith(f"{cause.group_prefix}-", autoescape=True))
        .order_by(Notification.id.desc()).limit(1))).first()
    if previous and previous[1] > utcnow() - timedelta(hours=GROUP_SPAN_HOURS):
        previous_bucket = int(previous[0].rsplit("-", 1)[1])
        if bucket < previous_bucket + GROUP_SPAN_HOURS:  # also when jobs ran out of order
            bucket = previous_bucket
    return f"{cause.group_prefix}-{bucket}"


async def _create(session: AsyncSession, cause: _Cause) -> list[Notification]:
    allowed = await _allowed(session, cause)
    from_staff = await _messaged_by_staff(session, cause)
    created = []
    for candidate in cause.candidates:
        recipient = candidate.recipient_id
        staff_message = candidate.type == "mention" and recipient in from_staff
        if not (recipient in allowed or staff_message) or (recipient == cause.sender.id and candidate.type != "poll"):
            continue
        if candidate.type == "mention" and not staff_message and await _mention_filtered(
                session, {recipient}, [a for a in cause.reply_mentions if a != recipient]):
            continue
        if candidate.type == "update" and await _replaces_update(session, recipient, candidate):
            continue
        action = await notification_requests.decide(session, recipient, cause.sender, candidate.type, cause.status)
        if action == "drop":
            continue
        # A held-back notification joins no group (Mastodon's set_group_key!): it is shown on its
        # own, and a group of accepted ones never counts its sender.
        filtered = action == "filter"
        values = dict(account_id=recipient, from_account_id=cause.sender.id, type=candidate.type,
                      activity_id=candidate.activity_id,
                      group_key=None if filtered else await _group_key(session, recipient, cause),
                      filtered=filtered, created_at=utcnow(), **candidate.columns)
        row = (await session.execute(
            insert(Notification).values(**values)
            .on_conflict_do_nothing(index_elements=["account_id", "type", "activity_id"])
            .returning(Notification.id))).first()
        if row is None:
            continue
        if values["filtered"]:
            await notification_requests.held_back(session, recipient, cause.sender.id, candidate.type)
        else:
            created.append(Notification(id=row[0], **values))
    return created


async def _replaces_update(session: AsyncSession, recipient: int, candidate: _Candidate) -> bool:
    """One `update` per edited post, as Mastodon: a later edit's replaces the earlier ones.
    True when a later edit's is there already (its job ran first): this one is not wanted."""
    same_post = (Notification.account_id == recipient, Notification.type == "update",
                 Notification.status_id == candidate.columns["status_id"])
    await session.execute(delete(Notification).where(*same_post, Notification.activity_id < candidate.activity_id))
    later = await session.exec(select(Notification.id).where(*same_post,
                                                             Notification.activity_id > candidate.activity_id))
    return later.first() is not None


# -- reading -----------------------------------------------------------------------------------

@dataclass
class Filters:
    """types[] / exclude_types[] / account_id of the list endpoints."""

    types: list[str] = field(default_factory=list)
    exclude_types: list[str] = field(default_factory=list)
    account_id: str | None = None
    include_filtered: bool = False  # also those the recipient's policy held back

    def condition(self):
        wanted = [t for t in MASTODON_TYPES if t in self.types] if self.types else list(MASTODON_TYPES)
        wanted = [t for t in wanted if t not in self.exclude_types]
        conditions = [Notification.type.in_(wanted)]
        from_one = self.account_id not in (None, "")
        # Asking for one sender's notifications shows the held-back ones too (as Mastodon):
        # that is how apps open a notification request.
        if not (self.include_filtered or from_one):
            conditions.append(NOT_HELD_BACK)
        if from_one:
            from_id = str(self.account_id).strip()
            # Mastodon answers an unknown (or malformed) account with an empty list.
            conditions.append(Notification.from_account_id == int(from_id)
                              if from_id.isascii() and from_id.isdigit() and len(from_id) <= 18 else literal(False))
        return and_(*conditions)


NOT_HELD_BACK = Notification.filtered.is_(False)  # not filtered by the recipient's policy


def browsable(viewer_id: int):
    """Notifications of `viewer_id` that can be shown: sender not suspended, status (if any) visible."""
    target, sender = aliased(Status), aliased(Account)
    sender_ok = exists().where(sender.id == Notification.from_account_id, sender.suspended_at.is_(None))
    status_ok = or_(Notification.status_id.is_(None),
                    exists().where(target.id == Notification.status_id, visibility.visible_to(viewer_id, target)))
    return and_(Notification.account_id == viewer_id, sender_ok, status_ok)


def _notification_id(raw) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


async def page(session: AsyncSession, viewer: Account, page, filters: Filters) -> list[Notification]:
    """GET /api/v1/notifications: one page, newest first (`page` is app.api.pagination.Page)."""
    query = select(Notification).where(browsable(viewer.id), filters.condition())
    rows = (await session.exec(page.apply(query, Notification.id))).all()
    return page.order(list(rows))


async def find(session: AsyncSession, viewer: Account, notification_id) -> Notification:
    found = None
    number = _notification_id(notification_id)
    if number is not None:
        found = (await session.exec(select(Notification).where(Notification.id == number,
                                                               browsable(viewer.id)))).first()
    if found is None:
        raise NotFound()
    return found


async def dismiss(session: AsyncSession, viewer: Account, notification_id) -> None:
    """Delete one of the viewer's notifications; 404 for anyone else's (its existence does not leak)."""
    number = _notification_id(notification_id)
    deleted = None
    if number is not None:
        deleted = (await session.execute(delete(Notification).where(
            Notification.id == number, Notification.account_id == viewer.id).returning(Notification.id))).first()
    if deleted is None:
        raise NotFound()


async def clear(session: AsyncSession, viewer: Account) -> None:
    await session.execute(delete(Notification).where(Notification.account_id == viewer.id))
    await notification_requests.forget_all(session, viewer.id)


async def clear_from(session: AsyncSession, account_id: int, sender_id: int) -> None:
    """Every notification the account has from the sender goes, held-back ones and the request they
    opened too: called when the account blocks the sender (Mastodon's AfterBlockService), so none
    comes back if the block is lifted. Later ones are not made while the block lasts (_allowed)."""
    await session.execute(delete(Notification).where(Notification.account_id == account_id,
                                                     Notification.from_account_id == sender_id))
    await notification_requests.forget_sender(session, account_id, sender_id)


async def last_read_id(session: AsyncSession, viewer: Account) -> int | None:
    """The notifications read marker (POST /api/v1/markers), if the user ever set one."""
    return (await session.exec(select(Marker.last_read_id).where(
        Marker.account_id == viewer.id, Marker.timeline == "notifications"))).first()


async def unread_count(session: AsyncSession, viewer: Account, filters: Filters, limit: int,
                       last_read_id: int | None) -> int:
    """Notifications newer than the read marker, counted up to `limit` (Mastodon caps it)."""
    query = select(Notification.id).where(browsable(viewer.id), filters.condition())
    if last_read_id is not None:
        query = query.where(Notification.id > last_read_id)
    capped = query.order_by(Notification.id.desc()).limit(limit).subquery()
    return int((await session.execute(sa_select(func.count()).select_from(capped))).scalar_one())


def target_status_ids(notifications: Iterable[Notification], statuses: dict[int, Status]) -> dict[int, int]:
    """Notification id -> id of the status it shows (a reblog shows the boosted post)."""
    shown = {}
    for n in notifications:
        status = statuses.get(n.status_id) if n.status_id else None
        if status is not None:
            shown[n.id] = status.reblog_of_id if n.type == "reblog" and status.reblog_of_id else status.id
    return shown


# -- grouped (v2) ------------------------------------------------------------------------------

@dataclass
class Group:
    key: str
    notification: Notification  # the group's most recent notification in the page
    count: int
    most_recent_id: int
    sample_account_ids: list[int]
    page_min_id: int | None = None
    page_max_id: int | None = None
    latest_at: datetime | None = None


def _group_expression(grouped_types: list[str] | None):
    """The key a notification is grouped under: its group_key when its type may be grouped,
    else `ungrouped-<id>` (as Mastodon's grouped_types[] parameter asks)."""
    types = [t for t in GROUPABLE if not grouped_types or t in grouped_types]
    ungrouped = literal("ungrouped-") + cast(Notification.id, Text)
    if not types:
        return ungrouped
    return case((and_(Notification.type.in_(types), Notification.group_key.is_not(None)), Notification.group_key),
                else_=ungrouped)


async def grouped_page(session: AsyncSession, viewer: Account, page, filters: Filters,
                       grouped_types: list[str] | None) -> tuple[list[Group], list[Notification]]:
    """GET /api/v2/notifications: up to `page.limit` groups, each represented by its newest
    notification in the requested range (its oldest one when paginating up with min_id),
    ordered newest first. Returns the groups and those representatives (for the Link header)."""
    key = _group_expression(grouped_types).label("key")
    base = select(Notification.id, key).where(browsable(viewer.id), filters.condition())
    if page.max_id is not None:
        base = base.where(Notification.id < page.max_id)
    if page.min_id is not None:
        base = base.where(Notification.id > page.min_id)
    elif page.since_id is not None:
        base = base.where(Notification.id > page.since_id)
    rows = base.subquery()
    pick = func.min(rows.c.id) if page.min_id is not None else func.max(rows.c.id)
    picked = sa_select(pick.label("id")).group_by(rows.c.key).order_by(
        pick.asc() if page.min_id is not None else pick.desc()).limit(page.limit)
    ids = [r[0] for r in (await session.execute(picked)).all()]
    if not ids:
        return [], []
    by_id = {n.id: n for n in (await session.exec(select(Notification).where(Notification.id.in_(ids)))).all()}
    representatives = sorted((by_id[i] for i in ids), key=lambda n: n.id, reverse=True)

    # Group figures over the page's range (Mastodon: counts up to the page's newest; the page's
    # oldest of each group from its lower end); a short page reaches the end it paged towards.
    low, high = representatives[-1].id, representatives[0].id
    if len(representatives) < page.limit:
        if page.min_id is not None:
            high = page.max_id - 1 if page.max_id is not None else MAX_ID
        else:
            low = page.since_id + 1 if page.since_id is not None else 0
    groups = await _groups(session, viewer, representatives, grouped_types, filters, low, high)
    return groups, representatives


async def _groups(session: AsyncSession, viewer: Account, notifications: list[Notification],
                  grouped_types: list[str] | None, filters: Filters | None,
                  low: int | None = None, high: int | None = None) -> list[Group]:
    types = [t for t in GROUPABLE if not grouped_types or t in grouped_types]
    keyed = {n.group_key for n in notifications if n.group_key and n.type in types}
    figures = {}
    if keyed:
        upper = Notification.id <= high if high is not None else true()
        lower = Notification.id >= low if low is not None else true()
        query = (sa_select(
            Notification.group_key,
            func.max(Notification.id).filter(upper),
            func.count(Notification.id).filter(upper),
            func.array_agg(aggregate_order_by(Notification.from_account_id, Notification.id.desc())).filter(upper),
            func.min(Notification.id).filter(and_(upper, lower)),
            func.max(Notification.created_at).filter(upper),
        ).where(browsable(viewer.id), Notification.group_key.in_(keyed),
                filters.condition() if filters else NOT_HELD_BACK)
            .group_by(Notification.group_key))
        for key, newest, count, senders, oldest, latest in (await session.execute(query)).all():
            figures[key] = (newest, count, list(dict.fromkeys(senders or []))[:SAMPLE_ACCOUNTS], oldest, latest)
    groups = []
    for n in notifications:
        if n.group_key in keyed and n.type in types and n.group_key in figures:
            newest, count, senders, oldest, latest = figures[n.group_key]
            groups.append(Group(n.group_key, n, count, newest or n.id, senders or [n.from_account_id],
                                oldest or n.id, newest or n.id, latest or n.created_at))
        else:
            groups.append(Group(f"ungrouped-{n.id}", n, 1, n.id, [n.from_account_id], n.id, n.id, n.created_at))
    return groups


def _by_group_key(group_key: str):
    if group_key.startswith("ungrouped-"):
        number = _notification_id(group_key.removeprefix("ungrouped-"))
        return Notification.id == number if number is not None else literal(False)
    return Notification.group_key == group_key


async def find_group(session: AsyncSession, viewer: Account, group_key: str) -> Group:
    """GET /api/v2/notifications/:group_key: the whole group (404 when the viewer has none).
    A held-back notification is found by its `ungrouped-<id>` key (it joins no group), as
    Mastodon's by_group_key, which does not look at `filtered`."""
    newest = (await session.exec(select(Notification).where(browsable(viewer.id), _by_group_key(group_key))
                                 .order_by(Notification.id.desc()).limit(1))).first()
    if newest is None:
        raise NotFound()
    return (await _groups(session, viewer, [newest], None, None))[0]


async def group_accounts(session: AsyncSession, viewer: Account, group_key: str, page) -> list[tuple[int, Account]]:
    """(notification id, sender) for the group, newest first, paginated by notification id."""
    query = (select(Notification.id, Account).join(Account, Account.id == Notification.from_account_id)
             .where(browsable(viewer.id), _by_group_key(group_key)))
    rows = (await session.exec(page.apply(query, Notification.id))).all()
    return page.order([(row_id, account) for row_id, account in rows], key=lambda pair: pair[0])


async def dismiss_group(session: AsyncSession, viewer: Account, group_key: str) -> None:
    """Mastodon answers 200 even when there was nothing to dismiss."""
    await session.execute(delete(Notification).where(Notification.account_id == viewer.id, _by_group_key(group_key)))


async def unread_group_count(session: AsyncSession, viewer: Account, filters: Filters, limit: int,
                             last_read_id: int | None, grouped_types: list[str] | None) -> int:
    """Groups with a notification newer than the read marker, counted up to `limit`."""
    key = _group_expression(grouped_types).label("key")
    query = select(key).where(browsable(viewer.id), filters.condition())
    if last_read_id is not None:
        query = query.where(Notification.id > last_read_id)
    keys = query.group_by(key).limit(limit).subquery()
    return int((await session.execute(sa_select(func.count()).select_from(keys))).scalar_one())
