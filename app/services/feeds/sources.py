"""Home and list timelines straight from PostgreSQL.

    rows = await sources.home(session, viewer_id, window, 40)                    # everything followed
    rows = await sources.home(session, viewer_id, window, 40, follows="pulled")  # only "celebrities"
    rows = await sources.listed(session, a_list, window, 40)

Each returns (status id, boosted id, author id) rows, newest first (oldest first for a
min_id window), at most `count`. The query walks the followed accounts and, for each,
reads its newest statuses in the window from the (account_id, id DESC) index with a
LATERAL subquery limited to `count`, then merges, looking at a short slice of time
first and longer ones after (see _run): busy follow lists read only the posts of the
first slice, and quiet or sparse ones stay fast because each round costs index probes
per followed account, never a walk through anyone's history (a big
`account_id IN (...) ORDER BY id` would walk every followed account's history to fill
a page from quiet accounts).

The cheap per-row rules are applied inside: boosts of follows with boosts off, replies to
accounts the viewer does not follow, direct posts not addressed to the viewer (and in a
list, no direct post at all). Visibility, blocks and mutes are applied by the caller when
loading the rows.
"""
from __future__ import annotations

import time
from collections import deque

from sqlalchemy import TextClause, text
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.config import get_settings
from app.models import List
from app.services.feeds.store import REBLOG_FALLOFF, Window
from app.refreshed import Refreshed
from app.services.ids import MAX_ID

_FOLLOWED = {
    "all": "SELECT f.target_account_id AS account_id, f.show_reblogs FROM follows f WHERE f.account_id = :viewer",
    # accounts fanned out on write (rebuilds) and accounts merged in at read time
    "pushed": """SELECT f.target_account_id AS account_id, f.show_reblogs FROM follows f
                 JOIN accounts a ON a.id = f.target_account_id
                 WHERE f.account_id = :viewer AND a.followers_count <= :threshold""",
    # of the accounts pulled at read time (pulled_accounts()), those the viewer follows
    "pulled": """SELECT f.target_account_id AS account_id, f.show_reblogs FROM follows f
                 WHERE f.account_id = :viewer AND f.target_account_id = ANY(CAST(:pulled AS bigint[]))""",
    "one": """SELECT f.target_account_id AS account_id, f.show_reblogs FROM follows f
              WHERE f.account_id = :viewer AND f.target_account_id = :target""",
}
_SELF = " UNION ALL SELECT CAST(:viewer AS bigint), true"

_REPLIES = {
    # Mastodon's home rule (and replies_policy=followed): replies to others only when the
    # viewer follows the replied-to account. A reply to a post unknown here (`reply`, no
    # parent) shows in no one's home or list but its author's (Mastodon's filter_from_home).
    "followed": """(NOT s.reply OR s.in_reply_to_account_id = s.account_id
                    OR s.account_id = :viewer OR s.in_reply_to_account_id = :viewer
                    OR EXISTS (SELECT 1 FROM follows g WHERE g.account_id = :viewer
                               AND g.target_account_id = s.in_reply_to_account_id))""",
    # A reply to the list's owner shows whatever the policy (Mastodon's filter_from_list?).
    "list": """(NOT s.reply OR s.in_reply_to_account_id = s.account_id
                OR s.in_reply_to_account_id = :viewer
                OR EXISTS (SELECT 1 FROM list_accounts m WHERE m.list_id = :list_id
                           AND m.account_id = s.in_reply_to_account_id))""",
    "none": """(NOT s.reply OR s.in_reply_to_account_id = s.account_id
                OR s.in_reply_to_account_id = :viewer)""",
}

_QUERY = """
SELECT x.id, x.reblog_of_id, x.account_id
FROM unnest(CAST(:account_ids AS bigint[]), CAST(:show_reblogs AS boolean[])) AS fa(account_id, show_reblogs)
CROSS JOIN LATERAL (
    SELECT s.id, s.reblog_of_id, s.account_id FROM statuses s
    WHERE s.account_id = fa.account_id AND s.deleted_at IS NULL
      AND s.id > :lower AND s.id < :upper
      AND (s.reblog_of_id IS NULL OR fa.show_reblogs)
      AND {direct}
      AND {replies}
    ORDER BY s.id {direction} LIMIT :count
) x
ORDER BY x.id {direction} LIMIT :count
"""

# Direct posts: home shows those addressed to the viewer; lists show none (Mastodon delivers a
# direct post to the home feeds of those it mentions and to their conversations, never to lists).
_DIRECT = {
    "home": """(s.visibility <> 'direct' OR s.account_id = :viewer OR EXISTS (
                 SELECT 1 FROM status_mentions dm WHERE dm.status_id = s.id AND dm.account_id = :viewer))""",
    "list": "s.visibility <> 'direct'",
}

Row = tuple[int, int | None, int]

# The accounts merged in at read time (more followers than the threshold) are a handful on any
# instance, so each process keeps their ids for PULLED_SECONDS instead of joining each of the
# viewer's follows to its account on every home read (a few hundred index probes per read).
# Finding them scans `accounts` (no index on a counter every follow changes): one refresh at a
# time per process, in the background (app.refreshed).
# An account that just crossed the threshold upwards is neither pushed nor pulled until then;
# its posts are in PostgreSQL and show up at the next refresh (docs/feeds.md).
PULLED_SECONDS = 15.0
_PULLED_QUERY = text("SELECT id FROM accounts WHERE followers_count > :threshold")


async def _find_pulled(threshold: int) -> list[int]:
    async with db.reading() as session:
        return [r[0] for r in (await session.execute(_PULLED_QUERY, {"threshold": threshold})).all()]


_pulled = Refreshed(PULLED_SECONDS, _find_pulled)


async def pulled_accounts() -> list[int]:
    return await _pulled.get(get_settings().fanout_pull_threshold)


# Time slices: a page is first looked for among the posts of the last FIRST_SLICE before its
# upper bound, then in slices GROWTH times longer, then without bound. A busy follow list
# fills a page from the first slice, reading only the few posts in it (a single unbounded
# query reads `count` posts of every followed account: ~10,000 rows for 340 follows); a
# quiet one takes a few more rounds, each of them cheap index probes.
FIRST_SLICE_MS = 2 * 3600 * 1000
GROWTH = 8
SLICES = 4
# Up to this many followed accounts, one query without slices: it reads at most `count` posts
# of each (a few hundred index entries), cheaper than the four or five rounds in which a quiet
# account's page would otherwise be found. The accounts pulled at read time are such a list
# for nearly every viewer, and it is read on every home read.
FEW_ACCOUNTS = 16


def _span(ms: int) -> int:
    return ms << 16  # snowflake ids: milliseconds << 16


def _now_id() -> int:
    return _span(int(time.time() * 1000))


# Which of the pulled accounts a viewer follows, per process for PULLED_SECONDS too: most
# viewers follow none, and then a home read asks PostgreSQL nothing for them. A follow of one
# is seen within that time; an unfollow at once (the home rules re-check follows on loading).
_pulled_follows: dict[int, tuple[float, list]] = {}  # viewer -> (valid until, followed rows)
_PULLED_FOLLOWS_MAX = 100_000  # viewers remembered per process before the memory is cleared


async def followed_pulled(session: AsyncSession, viewer_id: int) -> list:
    """(account id, show_reblogs) of the accounts pulled at read time that the viewer follows."""
    pulled = await pulled_accounts()
    if not pulled:
        return []  # nobody is pulled (most instances): no query at all
    return await _followed_pulled(session, viewer_id, pulled)


async def _followed_pulled(session: AsyncSession, viewer_id: int, pulled: list[int]) -> list:
    now = time.monotonic()
    cached = _pulled_follows.get(viewer_id)
    if cached is None or cached[0] < now:
        rows = await db.rows(session, _statement(_FOLLOWED["pulled"]), {"viewer": viewer_id, "pulled": pulled})
        if len(_pulled_follows) >= _PULLED_FOLLOWS_MAX:
            _pulled_follows.clear()
        cached = _pulled_follows[viewer_id] = (now + PULLED_SECONDS, [tuple(r) for r in rows])
    return cached[1]


# Each distinct SQL text made a statement once: db.rows runs them straight on the driver,
# compiled once and prepared by psycopg, as every home read runs one or more of them (through
# the ORM session each cost ~0.2 ms of CPU more, and psycopg quoted the id lists one by one).
_statements: dict[str, TextClause] = {}


def _statement(sql: str) -> TextClause:
    found = _statements.get(sql)
    if found is None:
        found = _statements[sql] = text(sql)
    return found


async def _run(session: AsyncSession, accounts: str | list, replies: str, window: Window, count: int,
               direct: str = _DIRECT["home"], **params) -> list[Row]:
    # The followed accounts once, not in every round (and no round at all when there are none,
    # as for most viewers when asked for the accounts pulled at read time). `accounts` is the
    # query that finds them, or the (account id, show_reblogs) rows themselves.
    fixed = dict(threshold=get_settings().fanout_pull_threshold, **params)
    followed = await db.rows(session, _statement(accounts), fixed) if isinstance(accounts, str) else accounts
    if not followed:
        return []
    fixed.update(account_ids=[r[0] for r in followed], show_reblogs=[bool(r[1]) for r in followed])
    direction = "ASC" if window.ascending else "DESC"
    statement = _statement(_QUERY.format(direct=direct, replies=replies, direction=direction))
    lower, upper = window.lower, window.max_id or MAX_ID
    rows: list[Row] = []
    delta = _span(FIRST_SLICE_MS)
    slices = 0 if len(followed) <= FEW_ACCOUNTS else SLICES
    for round_ in range(slices + 1):
        last = round_ == slices
        if window.ascending:
            slice_lower, slice_upper = lower, (upper if last else min(upper, lower + delta))
        else:
            top = min(upper, _now_id()) if upper == MAX_ID else upper
            slice_lower, slice_upper = (lower if last else max(lower, top - delta)), upper
        values = dict(fixed, lower=slice_lower, upper=slice_upper, count=count - len(rows))
        rows += [(r[0], r[1], r[2]) for r in await db.rows(session, statement, values)]
        if len(rows) >= count:
            break
        # Continue beyond this slice (bounds are exclusive).
        if window.ascending:
            if slice_upper >= upper:
                break
            lower = slice_upper - 1
        else:
            if slice_lower <= window.lower:
                break
            upper = slice_lower + 1
        delta *= GROWTH
    return rows


async def home(session: AsyncSession, viewer_id: int, window: Window, count: int, *, follows: str = "all",
               target_id: int | None = None) -> list[Row]:
    """The viewer's home timeline rows: their own posts (unless follows="pulled"/"one") and
    those of the accounts they follow."""
    accounts = _FOLLOWED[follows] + ("" if follows in ("pulled", "one") else _SELF)
    if follows == "pulled":
        accounts = await followed_pulled(session, viewer_id)
    return await _run(session, accounts, _REPLIES["followed"], window, count, viewer=viewer_id, target=target_id)


async def listed(session: AsyncSession, a_list: List, window: Window, count: int) -> list[Row]:
    """A list's timeline rows: its members' posts (and boosts, unless the owner turned
    boosts of that follow off), replies per the list's replies_policy."""
    # Members followed now, and the owner if a member (with their own boosts); not those whose
    # follow request is still pending.
    accounts = """SELECT la.account_id, coalesce(f.show_reblogs, true) FROM list_accounts la
                  LEFT JOIN follows f ON f.id = la.follow_id
                  WHERE la.list_id = :list_id AND (f.id IS NOT NULL OR la.account_id = :viewer)"""
    return await _run(session, accounts, _REPLIES.get(a_list.replies_policy, _REPLIES["list"]), window, count,
                      _DIRECT["list"], viewer=a_list.account_id, list_id=a_list.id)


def repeated_boosts(rows: list[Row]) -> set[int]:
    """The boosts among `rows` (id, boosted id, author) held back by Mastodon's reblog rule
    (docs/feeds.md; home pages read from PostgreSQL and list timelines): those with the boosted
    post, or another boost of it, among the REBLOG_FALLOFF rows right under them. Held back or
    not, every row under counts: a verdict then rests on those rows alone, never on verdicts
    further down, so it is the same however deep a read looks (every page, read either way, and
    the list stream agree). The Redis feed counts only the entries it kept, a window that may
    reach a little further down."""
    recent: deque[tuple[int, int | None]] = deque(maxlen=REBLOG_FALLOFF)  # (id, boosted id) right under
    held: set[int] = set()
    for status_id, boosted_id, _ in sorted(set(rows)):
        if boosted_id is not None and any(boosted_id in entry for entry in recent):
            held.add(status_id)
        recent.append((status_id, boosted_id))
    return held
