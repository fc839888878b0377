"""Trends: hashtags, posts and links gaining attention now, by time-decayed scores computed on read.

    tags = await trending_tags(session, limit=10, offset=0)               # [Tag]
    statuses = await trending_statuses(session, viewer_id, limit=20, offset=0)
    cards = await trending_links(session, limit=10, offset=0)             # [PreviewCard]
    card = await trending_link(session, "https://news.example/story")     # PreviewCard | None
    history = await link_history(session, [card.id, ...])  # {card_id: [(day, shares, accounts)]}

Tags: each account that used the tag in a public post within TAG_WINDOW counts once, weighted
by how recently it last did (half-life TAG_HALF_LIFE); at least TAG_MIN_ACCOUNTS accounts.
Posts: public, original (not boosts or replies), within STATUS_WINDOW, by accounts that are
discoverable and indexable and neither suspended nor silenced; score = (favourites + 2 x boosts
+ replies) x 2^(-age / STATUS_HALF_LIFE); only posts someone interacted with.
Links (preview cards of type link, app.services.preview_cards): like tags, each account that
shared the link within LINK_WINDOW counts once, weighted by how recently it last did (half-life
LINK_HALF_LIFE), at least LINK_MIN_ACCOUNTS accounts. Sharing is posting it or boosting a post
with it, as Mastodon: public posts and boosts only, without a content warning or the sensitive
flag, by accounts neither suspended nor silenced. Status ids are time-ordered snowflakes, so
the windows are id ranges and `decayed` reads a share's age from its id. Nothing is reviewed
by moderators yet (Mastodon's trends are approved); a card with trendable = false never trends.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import PreviewCard, Status, Tag
from app.services.search.rules import searchable

TAG_WINDOW_HOURS = 48
TAG_HALF_LIFE_HOURS = 12
TAG_MIN_ACCOUNTS = 2
STATUS_WINDOW_HOURS = 48
STATUS_HALF_LIFE_HOURS = 6
LINK_WINDOW_HOURS = 48
LINK_HALF_LIFE_HOURS = 12
LINK_MIN_ACCOUNTS = 2
HISTORY_DAYS = 7


def _floor_id(hours: float) -> int:
    return int((time.time() - hours * 3600) * 1000) << 16


def decayed(id_column: str) -> str:
    """SQL for the weight of something that happened at snowflake `id_column`: 1 now, halved
    every :half_life hours (the query binds :now_ms and :half_life)."""
    return f"power(0.5, (:now_ms - ({id_column} >> 16)) / 3600000.0 / :half_life)"


async def trending_tags(session: AsyncSession, *, limit: int, offset: int) -> list[Tag]:
    rows = (await session.execute(text(
        "WITH uses AS ("
        "  SELECT st.tag_id, s.account_id, max(s.id) AS last_id FROM status_tags st"
        "  JOIN statuses s ON s.id = st.status_id JOIN accounts a ON a.id = s.account_id"
        "  WHERE st.status_id >= :floor AND s.visibility = 'public' AND s.deleted_at IS NULL"
        "    AND s.reblog_of_id IS NULL AND a.suspended_at IS NULL AND a.silenced_at IS NULL"
        "  GROUP BY st.tag_id, s.account_id)"
        " SELECT tag_id FROM uses GROUP BY tag_id HAVING count(*) >= :min_accounts"
        f" ORDER BY sum({decayed('last_id')}) DESC, tag_id"
        " LIMIT :limit OFFSET :offset"),
        {"floor": _floor_id(TAG_WINDOW_HOURS), "min_accounts": TAG_MIN_ACCOUNTS, "now_ms": int(time.time() * 1000),
         "half_life": TAG_HALF_LIFE_HOURS, "limit": limit, "offset": offset})).all()
    ids = [r[0] for r in rows]
    tags = {t.id: t for t in (await session.exec(select(Tag).where(Tag.id.in_(ids)))).all()} if ids else {}
    return [tags[i] for i in ids if i in tags]


async def trending_statuses(session: AsyncSession, viewer_id: int | None, *, limit: int, offset: int) -> list[Status]:
    """The global ranking with the viewer's own exclusions (blocks either way, mutes) applied
    before the page is cut, as Mastodon's `filtered_for`: every page is full while there are
    posts, and pages line up for a given viewer."""
    query = (select(Status).where(text(
        "statuses.id >= :floor AND statuses.visibility = 'public' AND statuses.deleted_at IS NULL"
        " AND statuses.reblog_of_id IS NULL AND NOT statuses.reply"
        " AND statuses.favourites_count + statuses.reblogs_count + statuses.replies_count > 0"
        " AND EXISTS (SELECT 1 FROM accounts a WHERE a.id = statuses.account_id AND a.discoverable"
        "   AND a.indexable AND a.suspended_at IS NULL AND a.silenced_at IS NULL)"))
        .order_by(text(f"(statuses.favourites_count + 2 * statuses.reblogs_count + statuses.replies_count)"
                       f" * {decayed('statuses.id')} DESC, statuses.id DESC"))
        .limit(limit).offset(offset))
    if viewer_id is not None:
        query = query.where(searchable(viewer_id))
    return list((await session.exec(query, params={
        "floor": _floor_id(STATUS_WINDOW_HOURS), "now_ms": int(time.time() * 1000),
        "half_life": STATUS_HALF_LIFE_HOURS})).all())


# A post whose link may trend (alias s), by an author neither suspended nor silenced (alias a).
_SHAREABLE = ("s.visibility = 'public' AND s.deleted_at IS NULL AND s.spoiler_text = '' AND NOT s.sensitive"
              " AND a.suspended_at IS NULL AND a.silenced_at IS NULL")


def _shares(card_filter: str) -> str:
    """SQL for every share of a link since :floor: (card_id, account_id, share_id) for each post
    carrying it and each boost of such a post; share_id is a snowflake, so it tells the time."""
    return (
        "SELECT spc.preview_card_id AS card_id, s.account_id, s.id AS share_id"
        " FROM status_preview_cards spc JOIN statuses s ON s.id = spc.status_id"
        " JOIN accounts a ON a.id = s.account_id"
        f" WHERE spc.status_id >= :floor AND {card_filter} AND {_SHAREABLE}"
        " UNION ALL"
        " SELECT spc.preview_card_id, b.account_id, b.id"
        " FROM statuses b JOIN status_preview_cards spc ON spc.status_id = b.reblog_of_id"
        " JOIN statuses s ON s.id = spc.status_id JOIN accounts a ON a.id = s.account_id"
        " JOIN accounts ba ON ba.id = b.account_id"
        f" WHERE b.id >= :floor AND b.reblog_of_id IS NOT NULL AND b.deleted_at IS NULL AND {card_filter}"
        f"   AND b.visibility = 'public' AND ba.suspended_at IS NULL AND ba.silenced_at IS NULL AND {_SHAREABLE}"
    )


async def trending_links(session: AsyncSession, *, limit: int, offset: int) -> list[PreviewCard]:
    rows = (await session.execute(text(
        f"WITH shares AS ({_shares('TRUE')}),"
        " sharers AS (SELECT card_id, account_id, max(share_id) AS last_id FROM shares GROUP BY card_id, account_id)"
        " SELECT p.card_id FROM sharers p JOIN preview_cards c ON c.id = p.card_id"
        " WHERE c.trendable AND c.type = 'link'"
        " GROUP BY p.card_id HAVING count(*) >= :min_accounts"
        f" ORDER BY sum({decayed('p.last_id')}) DESC, p.card_id"
        " LIMIT :limit OFFSET :offset"),
        {"floor": _floor_id(LINK_WINDOW_HOURS), "min_accounts": LINK_MIN_ACCOUNTS, "now_ms": int(time.time() * 1000),
         "half_life": LINK_HALF_LIFE_HOURS, "limit": limit, "offset": offset})).all()
    ids = [r[0] for r in rows]
    cards = {c.id: c for c in (await session.exec(select(PreviewCard).where(PreviewCard.id.in_(ids)))).all()} if ids else {}
    return [cards[i] for i in ids if i in cards]


async def trending_link(session: AsyncSession, url: str) -> PreviewCard | None:
    """The card of `url` if it is trending now (it would be on some page of trending_links):
    the link timeline shows only those, as Mastodon's."""
    card = (await session.exec(select(PreviewCard).where(
        PreviewCard.url == url, PreviewCard.trendable.is_(True), PreviewCard.type == "link"))).first()
    if card is None:
        return None
    sharers = (await session.execute(text(
        f"SELECT count(DISTINCT account_id) FROM ({_shares('spc.preview_card_id = :card_id')}) shares"),
        {"floor": _floor_id(LINK_WINDOW_HOURS), "card_id": card.id})).scalar_one()
    return card if sharers >= LINK_MIN_ACCOUNTS else None


def _day_start(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


async def link_history(session: AsyncSession, card_ids: list[int]) -> dict[int, list[tuple[int, int, int]]]:
    """For each card, the last HISTORY_DAYS days (UTC), newest first: (day start as UNIX time,
    shares, distinct accounts), counting the same shares as the trend."""
    if not card_ids:
        return {}
    today = _day_start(datetime.now(timezone.utc))
    days = [today - timedelta(days=back) for back in range(HISTORY_DAYS)]
    rows = (await session.execute(text(
        f"WITH shares AS ({_shares('spc.preview_card_id = ANY(:ids)')})"
        " SELECT card_id, date_trunc('day', to_timestamp((share_id >> 16) / 1000.0) AT TIME ZONE 'UTC') AS day,"
        "   count(*), count(DISTINCT account_id) FROM shares GROUP BY 1, 2"),
        {"ids": card_ids, "floor": int(days[-1].timestamp() * 1000) << 16})).all()
    counts = {(card_id, day.replace(tzinfo=timezone.utc)): (uses, accounts) for card_id, day, uses, accounts in rows}
    return {card_id: [(int(day.timestamp()), *counts.get((card_id, day), (0, 0))) for day in days]
            for card_id in card_ids}
