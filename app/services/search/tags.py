"""Hashtag search and the Tag entity's usage history (the same for every backend).

    tags = await search_tags(session, "cat", limit=20)          # prefix of the name, exact first
    history = await usage_history(session, [tag.id, ...])      # {tag_id: [(day, uses, accounts)]}

`exclude_unreviewed` has nothing to act on yet: tags are not reviewed by moderators here.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, func, text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import Tag
from app.text import TAG_WORD, hashtag_key

NAME = re.compile(rf"^{TAG_WORD}+$")
HISTORY_DAYS = 7


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def search_tags(session: AsyncSession, raw: str, *, offset: int = 0, limit: int = 20) -> list[Tag]:
    name = raw.strip().lstrip("#").strip()
    key = hashtag_key(name)
    if not NAME.match(name) or not key:
        return []  # not a hashtag: spaces, punctuation, nothing at all
    query = (select(Tag).where(Tag.key.like(_like_prefix(key), escape="\\"))
             .order_by(case((Tag.key == key, 0), else_=1),
                       Tag.last_status_at.desc().nulls_last(), func.length(Tag.name), Tag.id)
             .offset(offset).limit(limit))
    return list((await session.exec(query)).all())


def _day_start(days_ago: int, now: datetime) -> datetime:
    return (now - timedelta(days=days_ago)).replace(hour=0, minute=0, second=0, microsecond=0)


async def usage_history(session: AsyncSession, tag_ids: list[int]) -> dict[int, list[tuple[int, int, int]]]:
    """For each tag, the last HISTORY_DAYS days, newest first: (day start as UNIX time, posts,
    distinct authors). Status ids are time-ordered snowflakes, so the window is an id range."""
    if not tag_ids:
        return {}
    now = datetime.now(timezone.utc)
    since = _day_start(HISTORY_DAYS - 1, now)
    floor = int(since.timestamp() * 1000) << 16
    rows = (await session.execute(text(
        "SELECT st.tag_id, date_trunc('day', s.created_at AT TIME ZONE 'UTC') AS day, count(*), "
        "count(DISTINCT s.account_id) FROM status_tags st JOIN statuses s ON s.id = st.status_id "
        "WHERE st.tag_id = ANY(:ids) AND st.status_id >= :floor AND s.deleted_at IS NULL "
        "AND s.visibility IN ('public', 'unlisted') GROUP BY 1, 2"), {"ids": tag_ids, "floor": floor})).all()
    counts = {(tag_id, day.replace(tzinfo=timezone.utc)): (uses, accounts) for tag_id, day, uses, accounts in rows}
    history: dict[int, list[tuple[int, int, int]]] = {}
    for tag_id in tag_ids:
        days = []
        for back in range(HISTORY_DAYS):
            day = _day_start(back, now)
            uses, accounts = counts.get((tag_id, day), (0, 0))
            days.append((int(day.timestamp()), uses, accounts))
        history[tag_id] = days
    return history


def unused_history() -> list[tuple[int, int, int]]:
    """The history of a tag nobody has used: HISTORY_DAYS days of nothing, newest first."""
    now = datetime.now(timezone.utc)
    return [(int(_day_start(back, now).timestamp()), 0, 0) for back in range(HISTORY_DAYS)]
