"""What the server says about itself: rules, usage figures, the contact account.

The limits clients read from /api/v1/instance and /api/v2/instance are collected
in `Limits` so the same numbers drive validation and the instance document.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.models import Account, Rule, User
from app.models.base import utcnow
from app.services import media_files, profiles
from app.refreshed import Refreshed

ACTIVE_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Limits:
    """Numbers advertised to clients (Mastodon's defaults unless noted)."""

    max_featured_tags: int = 10
    max_pinned_statuses: int = 5
    max_media_attachments: int = 4
    characters_reserved_per_url: int = 23
    max_display_name_length: int = profiles.DISPLAY_NAME_MAX
    max_note_length: int = profiles.NOTE_MAX
    max_profile_fields: int = profiles.FIELDS_MAX
    profile_field_name_limit: int = profiles.FIELD_NAME_MAX
    profile_field_value_limit: int = profiles.FIELD_VALUE_MAX
    image_size_limit: int = 8 * 1024 * 1024  # under the 10 MB request body limit
    image_matrix_limit: int = media_files.MAX_PIXELS
    video_size_limit: int = 0  # no video support yet
    video_frame_rate_limit: int = 0
    video_matrix_limit: int = 0
    description_limit: int = 1500
    poll_max_options: int = 4
    poll_max_characters_per_option: int = 50
    poll_min_expiration: int = 300
    poll_max_expiration: int = 2_629_746
    supported_mime_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/gif", "image/webp")


LIMITS = Limits()


@dataclass
class Stats:
    user_count: int
    status_count: int
    domain_count: int
    active_month: int


async def rules(session: AsyncSession) -> list[Rule]:
    query = select(Rule).where(Rule.deleted_at.is_(None)).order_by(Rule.position, Rule.id)
    return list((await session.exec(query)).all())


def _member():
    """Local accounts that count as users: confirmed, approved, not suspended."""
    return (Account.domain.is_(None), Account.suspended_at.is_(None), User.confirmed_at.is_not(None),
            User.approved.is_(True))


# The usage figures are counts over all accounts (~100 ms of PostgreSQL on 110,000 accounts)
# and /api/v1/instance is public and asked for by every app as it starts: each process keeps
# them for a minute (app.refreshed), as Mastodon keeps its own in its cache for hours.
STATS_SECONDS = 60.0


async def stats() -> Stats:
    return await _stats.get()


async def _count() -> Stats:
    async with db.reading() as session:
        return await _count_in(session)


async def _count_in(session: AsyncSession) -> Stats:
    users = (await session.exec(
        select(func.count(), func.coalesce(func.sum(Account.statuses_count), 0))
        .select_from(Account).join(User, User.account_id == Account.id).where(*_member())
    )).one()
    active = (await session.exec(
        select(func.count()).select_from(Account).join(User, User.account_id == Account.id)
        .where(*_member(), User.last_active_at >= utcnow() - ACTIVE_WINDOW)
    )).one()
    domains = (await session.exec(
        select(func.count(func.distinct(func.lower(Account.domain)))).where(Account.domain.is_not(None))
    )).one()
    return Stats(user_count=users[0], status_count=int(users[1]), domain_count=domains, active_month=active)


_stats = Refreshed(STATS_SECONDS, _count)


async def contact_account(session: AsyncSession) -> Account | None:
    """The oldest admin's account stands in for Mastodon's site contact setting."""
    query = (
        select(Account).join(User, User.account_id == Account.id)
        .where(User.role == "admin", *_member()).order_by(Account.id).limit(1)
    )
    return (await session.exec(query)).first()
