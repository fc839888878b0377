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

_FOLLOWERS = text("""
    SELECT string_agg(CAST(f.account_id AS text), ',') FROM follows f
    JOIN users u ON u.account_id = f.account_id
    WHERE f.target_account_id = :author
      AND u.last_active_at > :active_since
      AND (NOT :is_reblog OR f.show_reblogs)
      AND (CAST(:language AS text) IS NULL OR f.languages IS NULL
           OR CAST(f.languages AS jsonb) ? CAST(:language AS text))
      AND (CAST(:reply_to AS bigint) IS NULL OR f.account_id = :reply_to OR EXISTS (
            SELECT 1 FROM follows g WHERE g.account_id = f.account_id AND g.target_account_id = :reply_to))
      AND (NOT :direct OR EXISTS (
            SELECT 1 FROM status_mentions m WHERE m.status_id = :status_id AND m.account_id = f.account_id))
""")

_TAG_FOLLOWERS = text("""
    SELECT string_agg(DISTINCT CAST(tf.account_id AS text), ',') FROM tag_follows tf
    JOIN status_tags st ON st.tag_id = tf.tag_id AND st.status_id = :status_id
    JOIN users u ON u.account_id = tf.account_id
    WHERE u.last_active_at > :active_since AND tf.account_id <> :author
""")


def active_since():
    return utcnow() - timedelta(days=get_settings().feed_active_days + 1)


async def followers(session: AsyncSession, status: Status, batch_size: int) -> AsyncIterator[list[str]]:
    """Batches of follower account ids, as digit strings (what the Redis script takes).
    One query returning one comma-separated value: 100,000 ids arrive in milliseconds,
    where 100,000 rows through the driver would take a good part of a second."""
    is_reblog = status.reblog_of_id is not None
    reply_to = None
    if not is_reblog and status.in_reply_to_account_id not in (None, status.account_id):
        reply_to = status.in_reply_to_account_id
    params = dict(author=status.account_id, active_since=active_since(), is_reblog=is_reblog,
                  language=None if is_reblog else status.language, reply_to=reply_to,
                  direct=status.visibility == "direct", status_id=status.id)
    joined = (await session.execute(_FOLLOWERS, params)).scalar_one_or_none()
    ids = joined.split(",") if joined else []
    if status.visibility == "public" and not is_reblog:
        tagged = (await session.execute(_TAG_FOLLOWERS, params)).scalar_one_or_none()
        if tagged:
            ids = list(dict.fromkeys(ids + tagged.split(",")))
    for start in range(0, len(ids), batch_size):
        yield ids[start:start + batch_size]
