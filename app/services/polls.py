"""Polls: checking a new poll, voting, and counting votes.

    problems = check(NewPoll(options=[...], expires_in=86400))   # [] when fine
    poll = build(status, NewPoll(...))                           # unsaved Poll row
    poll = await vote(account, poll_id, [0, 2])                  # its own transaction
    tallies(session, poll_ids) / own_votes(session, poll_ids, viewer_id)   # for rendering

Limits are Mastodon's, read from `app.services.instance.LIMITS` so the instance
document and the checks agree. Votes follow Mastodon's VoteValidator: no voting
on an ended poll, on one's own poll, for a choice that does not exist, twice on
a single-choice poll, or twice for the same choice of a multiple-choice poll.
The poll row is locked while voting, so concurrent votes never lose a count.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.errors import ApiError, NotFound
from app.models import Account, Poll, PollVote, Status
from app.models.base import utcnow
from app.services import visibility
from app.services.instance import LIMITS


@dataclass
class NewPoll:
    options: list[str] = field(default_factory=list)
    expires_in: int | None = None
    multiple: bool = False
    hide_totals: bool = False


def is_expired(poll: Poll) -> bool:
    return poll.expires_at is not None and poll.expires_at <= utcnow()


def clean_options(options: list) -> list[str]:
    """Options as typed, trimmed, blanks dropped (Mastodon ignores empty answers)."""
    return [text for text in (str(o).strip() for o in options if isinstance(o, (str, int))) if text]


def check(new: NewPoll) -> list[str]:
    """What is wrong with a new poll, as Mastodon words it (empty when it is fine)."""
    problems = []
    options = new.options
    if len(options) < 2:
        problems.append("Poll options must have more than one item")
    if len(options) > LIMITS.poll_max_options:
        problems.append(f"Poll options can't contain more than {LIMITS.poll_max_options} items")
    if any(len(o) > LIMITS.poll_max_characters_per_option for o in options):
        problems.append(f"Poll options cannot be longer than {LIMITS.poll_max_characters_per_option} characters each")
    if len({o for o in options}) != len(options):
        problems.append("Poll options contain duplicate items")
    if new.expires_in is None:
        problems.append("Poll expires in can't be blank")
    elif new.expires_in < LIMITS.poll_min_expiration:
        problems.append(f"Poll expires at is too soon (at least {LIMITS.poll_min_expiration} seconds)")
    elif new.expires_in > LIMITS.poll_max_expiration:
        problems.append(f"Poll expires at is too far into the future (at most {LIMITS.poll_max_expiration} seconds)")
    return problems


def raise_if_invalid(new: NewPoll) -> None:
    problems = check(new)
    if problems:
        raise ApiError("Validation failed: " + ", ".join(problems), 422)


def build(status: Status, new: NewPoll) -> Poll:
    return Poll(status_id=status.id, account_id=status.account_id, options=list(new.options),
                multiple=new.multiple, hide_totals=new.hide_totals,
                expires_at=utcnow() + timedelta(seconds=new.expires_in or 0))


async def reset_votes(session: AsyncSession, poll: Poll) -> None:
    """Editing the options (or single/multiple) of a poll throws its votes away, as Mastodon does."""
    await session.exec(PollVote.__table__.delete().where(PollVote.poll_id == poll.id))
    poll.votes_count = 0
    poll.voters_count = 0


async def tallies(session: AsyncSession, poll_ids: list[int]) -> dict[int, dict[int, int]]:
    """{poll_id: {choice: votes}} in one query."""
    if not poll_ids:
        return {}
    rows = await session.exec(
        select(PollVote.poll_id, PollVote.choice, func.count()).where(PollVote.poll_id.in_(poll_ids))
        .group_by(PollVote.poll_id, PollVote.choice)
    )
    result: dict[int, dict[int, int]] = {}
    for poll_id, choice, count in rows.all():
        result.setdefault(poll_id, {})[choice] = count
    return result


async def own_votes(session: AsyncSession, poll_ids: list[int], viewer_id: int | None) -> dict[int, list[int]]:
    """{poll_id: [choices the viewer picked]} in one query."""
    if not poll_ids or viewer_id is None:
        return {}
    rows = await session.exec(
        select(PollVote.poll_id, PollVote.choice)
        .where(PollVote.poll_id.in_(poll_ids), PollVote.account_id == viewer_id).order_by(PollVote.choice)
    )
    result: dict[int, list[int]] = {}
    for poll_id, choice in rows.all():
        result.setdefault(poll_id, []).append(choice)
    return result


async def find_visible(session: AsyncSession, viewer: Account | None, poll_id: int) -> Poll:
    """The poll, if its status is one the viewer may see (404 otherwise)."""
    poll = (await session.exec(
        select(Poll).join(Status, Status.id == Poll.status_id)
        .where(Poll.id == poll_id, visibility.visible_to(viewer.id if viewer else None))
    )).first()
    if poll is None:
        raise NotFound()
    return poll


def _choices(raw: list) -> list[int]:
    choices: list[int] = []
    for value in raw:
        text = str(value).strip() if isinstance(value, (str, int)) else ""
        if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 6:
            raise ApiError("Validation failed: The chosen vote option does not exist", 422)
        if int(text) not in choices:
            choices.append(int(text))
    return choices


async def vote(account: Account, poll_id: int, raw_choices: list) -> Poll:
    """Record `account`'s choices and update the counts, all in one transaction."""
    choices = _choices(raw_choices)
    async with db.session() as session:
        poll = await find_visible(session, account, poll_id)
        # Lock the poll: concurrent voters queue here, so counts and "already voted" stay exact.
        poll = (await session.exec(select(Poll).where(Poll.id == poll.id).with_for_update())).one()
        if not choices:
            raise ApiError("Validation failed: Choices can't be blank", 422)
        if is_expired(poll):
            raise ApiError("Validation failed: The poll has already ended", 422)
        if any(c < 0 or c >= len(poll.options) for c in choices):
            raise ApiError("Validation failed: The chosen vote option does not exist", 422)
        if poll.account_id == account.id:
            raise ApiError("Validation failed: You cannot vote in your own polls", 422)
        if not poll.multiple and len(choices) > 1:
            raise ApiError("Validation failed: This poll allows only one choice", 422)
        earlier = set((await session.exec(
            select(PollVote.choice).where(PollVote.poll_id == poll.id, PollVote.account_id == account.id)
        )).all())
        if earlier and (not poll.multiple or earlier & set(choices)):
            raise ApiError("Validation failed: You have already voted on this poll", 422)
        for choice in choices:
            session.add(PollVote(poll_id=poll.id, account_id=account.id, choice=choice))
        await session.exec(
            update(Poll).where(Poll.id == poll.id).values(
                votes_count=Poll.votes_count + len(choices),
                voters_count=Poll.voters_count + (0 if earlier else 1),
                updated_at=utcnow(),
            )
        )
        await session.flush()
        await session.refresh(poll)
        return poll
