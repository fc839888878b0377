"""Who receives a status in their home feed at write time (Mastodon's fan-out rules, in SQL).

    async for batch in audience.followers(session, status, batch_size):   # lists of account ids
        ...

The local followers of the author who were active in the last feed_active_days
(plus a day of grace, because last_active_at is only touched once a minute and the
feed itself expires feed_active_days after the last read), filtered as Mastodon's
fan-out does:
- a boost reaches only followers who did not turn boosts off (`show_reblogs`);
- a reply to someone else reaches only followers who also follow the replied-to account
  (or are that account);
- a post in a language reaches only followers who follow in all languages or in that one;
- a direct post reaches only the mentioned accounts among the followers;
- a public post (not a boost) also reaches the active local accounts following one of
  its hashtags (Mastodon's hashtag follows), whether or not they follow the author.
Blocks and mutes are applied when reading, so that undoing them needs no rewrite.
"""
from __future__ import annotations

from datetime import timedelta
from typing import AsyncIterator
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import get_settings
from app.models import Status
from app.models.base import utcnow

# psycopg's own placeholders: these run on the driver's connection (see followers()).
_AUDIENCE = """
    FROM follows f
    JOIN users u ON u.account_id = f.account_id
    WHERE f.target_account_id = %(author)s
      AND u.last_active_at > %(active_since)s
      AND (NOT %(is_reblog)s OR f.show_reblogs)
      AND (CAST(%(language)s AS text) IS NULL OR f.languages IS NULL
           OR CAST(f.languages AS jsonb) ? CAST(%(language)s AS text))
      AND (CAST(%(reply_to)s AS bigint) IS NULL OR f.account_id = %(reply_to)s OR EXISTS (
            SELECT 1 FROM follows g WHERE g.account_id = f.account_id AND g.target_account_id = %(reply_to)s))
      AND (NOT %(direct)s OR EXISTS (
            SELECT 1 FROM status_mentions m WHERE m.status_id = %(status_id)s AND m.account_id = f.account_id))
"""
_FOLLOWER_ROWS = "SELECT CAST(f.account_id AS text)" + _AUDIENCE
_FOLLOWERS_JOINED = "SELECT string_agg(CAST(f.account_id AS text), ',')" + _AUDIENCE
# An author with at least this many followers has the audience streamed (below); fewer come
# in one query and one comma-separated value, which costs less for the usual post.
STREAMED_FROM = 10_000

_TAG_FOLLOWERS = text("""
    SELECT string_agg(DISTINCT CAST(tf.account_id AS text), ',') FROM tag_follows tf
    JOIN status_tags st ON st.tag_id = tf.tag_id AND st.status_id = :status_id
    JOIN users u ON u.account_id = tf.account_id
    WHERE u.last_active_at > :active_since AND tf.account_id <> :author
""")


def active_since():
    return utcnow() - timedelta(days=get_settings().feed_active_days + 1)


async def followers(session: AsyncSession, status: Status, batch_size: int, *,
                    followers_count: int = STREAMED_FROM, pushed: bool = True) -> AsyncIterator[list[str]]:
    """Batches of the receivers' account ids, as digit strings (what the Redis script takes).

    For an author with many followers (`followers_count`), as PostgreSQL finds them: a
    server-side cursor read `batch_size` rows at a time, so the first feeds are written while
    the database is still looking for the rest (for 100,000 followers the query alone takes
    150 ms or more). The cursor is planned for the whole result (cursor_tuple_fraction = 1):
    by default PostgreSQL plans cursors for their first rows, which for a big account meant
    100,000 index lookups instead of one hash join. Otherwise one query returns them all as
    one comma-separated value (rows through the driver cost more than the query).

    `pushed=False`: an author pulled at read time (hybrid push/pull), whose followers read
    their posts from PostgreSQL; only the followers of the post's hashtags get it in their
    feed (a follower of both finds it in both sources, which the read merges)."""
    params = _params(status)
    tagged: set[str] = set()
    if status.visibility == "public" and status.reblog_of_id is None:
        joined = (await session.execute(_TAG_FOLLOWERS, params)).scalar_one_or_none()
        tagged = set(joined.split(",")) if joined else set()
    driver = (await (await session.connection()).get_raw_connection()).driver_connection
    to_followers = pushed and _to_followers(status)
    if to_followers and followers_count < STREAMED_FROM:
        joined = (await (await driver.execute(_FOLLOWERS_JOINED, params)).fetchone())[0]
        ids = joined.split(",") if joined else []
        chunks = (ids[start:start + batch_size] for start in range(0, len(ids), batch_size))
        for batch in chunks:
            tagged.difference_update(batch)  # followers of the tag who follow the author too: once
            yield batch
    elif to_followers:
        await driver.execute("SET LOCAL cursor_tuple_fraction = 1")
        async with driver.cursor(name="feed_audience") as cursor:
            await cursor.execute(_FOLLOWER_ROWS, params)
            while rows := await cursor.fetchmany(batch_size):
                batch = [row[0] for row in rows]
                if tagged:
                    tagged.difference_update(batch)
                yield batch
    if tagged:
        yield sorted(tagged)


async def followers_among(session: AsyncSession, status: Status, account_ids: list[int]) -> list[int]:
    """Those of `account_ids` among the followers the same rules would give the status (for an
    author pulled at read time: whose open home stream is told of it, as if it were fanned out)."""
    if not account_ids or not _to_followers(status):
        return []
    driver = (await (await session.connection()).get_raw_connection()).driver_connection
    rows = await (await driver.execute(_FOLLOWERS_AMONG, dict(_params(status), among=account_ids))).fetchall()
    return [row[0] for row in rows]


_FOLLOWERS_AMONG = "SELECT f.account_id" + _AUDIENCE + " AND f.account_id = ANY(%(among)s)"


def _params(status: Status) -> dict:
    is_reblog = status.reblog_of_id is not None
    reply_to = None
    if not is_reblog and status.in_reply_to_account_id not in (None, status.account_id):
        reply_to = status.in_reply_to_account_id
    return dict(author=status.account_id, active_since=active_since(), is_reblog=is_reblog,
                language=None if is_reblog else status.language, reply_to=reply_to,
                direct=status.visibility == "direct", status_id=status.id)


def _to_followers(status: Status) -> bool:
    # A reply to a post unknown here goes into no follower's home (Mastodon's filter_from_home);
    # followers of its hashtags still get it, as in Mastodon.
    return status.reblog_of_id is not None or not status.reply or status.in_reply_to_account_id is not None
