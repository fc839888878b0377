"""Trends: hashtags and posts gaining attention now, by time-decayed scores computed on read.

    tags = await trending_tags(session, limit=10, offset=0)               # [Tag]
    statuses = await trending_statuses(session, viewer_id, limit=20, offset=0)

Tags: each account that used the tag in a public post within TAG_WINDOW counts once, weighted
by how recently it last did (half-life TAG_HALF_LIFE); at least TAG_MIN_ACCOUNTS accounts.
Posts: public, original (not boosts or replies), within STATUS_WINDOW, by accounts that are
discoverable and indexable and neither suspended nor silenced; score = (favourites + 2 x boosts
+ replies) x 2^(-age / STATUS_HALF_LIFE); only posts someone interacted with. Status ids are
time-ordered snowflakes, so the windows are id ranges. Links: there are no preview cards
yet, so none trend. Nothing is reviewed by moderators yet (Mastodon's trends are approved).
"""
from __future__ import annotations

import time

from sqlalchemy import text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import Status, Tag
from app.services.search.rules import searchable

TAG_WINDOW_HOURS = 48
TAG_HALF_LIFE_HOURS = 12
TAG_MIN_ACCOUNTS = 2
STATUS_WINDOW_HOURS = 48
STATUS_HALF_LIFE_HOURS = 6


def _floor_id(hours: int) -> int:
    return int((time.time() - hours * 3600) * 1000) << 16


async def trending_tags(session: AsyncSession, *, limit: int, offset: int) -> list[Tag]:
    rows = (await session.execute(text(
        "WITH uses AS ("
        "  SELECT st.tag_id, s.account_id, max(s.id) AS last_id FROM status_tags st"
        "  JOIN statuses s ON s.id = st.status_id JOIN accounts a ON a.id = s.account_id"
        "  WHERE st.status_id >= :floor AND s.visibility = 'public' AND s.deleted_at IS NULL"
        "    AND s.reblog_of_id IS NULL AND a.suspended_at IS NULL AND a.silenced_at IS NULL"
        "  GROUP BY st.tag_id, s.account_id)"
        " SELECT tag_id FROM uses GROUP BY tag_id HAVING count(*) >= :min_accounts"
        " ORDER BY sum(power(0.5, (:now_ms - (last_id >> 16)) / 3600000.0 / :half_life)) DESC, tag_id"
        " LIMIT :limit OFFSET :offset"),
        {"floor": _floor_id(TAG_WINDOW_HOURS), "min_accounts": TAG_MIN_ACCOUNTS, "now_ms": int(time.time() * 1000),
         "half_life": TAG_HALF_LIFE_HOURS, "limit": limit, "offset": offset})).all()
    ids = [r[0] for r in rows]
    tags = {t.id: t for t in (await session.exec(select(Tag).where(Tag.id.in_(ids)))).all()} if ids else {}
    return [tags[i] for i in ids if i in tags]


async def trending_statuses(session: AsyncSession, viewer_id: int | None, *, limit: int, offset: int) -> list[Status]:
    rows = (await session.execute(text(
        "SELECT s.id FROM statuses s JOIN accounts a ON a.id = s.account_id"
        " WHERE s.id >= :floor AND s.visibility = 'public' AND s.deleted_at IS NULL AND s.reblog_of_id IS NULL"
        "   AND s.in_reply_to_id IS NULL AND a.discoverable AND a.indexable AND a.suspended_at IS NULL"
        "   AND a.silenced_at IS NULL AND s.favourites_count + s.reblogs_count + s.replies_count > 0"
        " ORDER BY (s.favourites_count + 2 * s.reblogs_count + s.replies_count)"
        "   * power(0.5, (:now_ms - (s.id >> 16)) / 3600000.0 / :half_life) DESC, s.id DESC"
        " LIMIT :limit OFFSET :offset"),
        {"floor": _floor_id(STATUS_WINDOW_HOURS), "now_ms": int(time.time() * 1000),
         "half_life": STATUS_HALF_LIFE_HOURS, "limit": limit, "offset": offset})).all()
    ids = [r[0] for r in rows]
    if not ids:
        return []
    # The viewer's own exclusions (blocks either way, mutes) on top of the global ranking.
    query = select(Status).where(Status.id.in_(ids))
    if viewer_id is not None:
        query = query.where(searchable(viewer_id))
    found = {s.id: s for s in (await session.exec(query)).all()}
    return [found[i] for i in ids if i in found]
