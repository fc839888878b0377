"""Writing home feeds: what the feed actors (workers/feeds.py) do. Each is idempotent:
running it again adds or removes nothing more.

    await fanout.distribute(status_id)              # a new post or boost -> followers' feeds
    await fanout.withdraw(status_id)                # a deleted post (and its boosts) -> out of feeds
    await fanout.announce_edit(status_id, render, render_for)  # an edit -> the open home streams holding it
    await fanout.merge(account_id, target_id)       # just followed: their recent posts come in
    await fanout.unmerge(account_id, target_id)     # unfollowed: their posts go
    await fanout.rebuild(account_id)                # a feed rebuilt from PostgreSQL
    await fanout.hide(account_id, target_id)        # muted (or blocked: severed=True): `delete` for what reads now hide
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import AsyncIterator, Awaitable, Callable

from sqlalchemy import BigInteger, and_, bindparam, or_, text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.config import get_settings
from app.models import Account, List, Status
from app.models.base import utcnow
from app.services import filters, lists, relationships, streaming, timelines, visibility
from app.services.feeds import audience, sources, store
from app.services.feeds.store import Window

log = logging.getLogger("starling.feeds")
LOGGED_AUDIENCE = 10_000  # fan-outs at least this big are logged with their timings

# Given the status being fanned out or edited, the encoded event (`update`, `status.update`)
# for its receivers' home streams (app.services.streaming.encode), or None, rendered once for
# all of them. The worker renders it (services do not render API entities). Only called if some
# receiver has a home stream open, then once.
Announcement = Callable[[AsyncSession, Status], Awaitable[str | None]]
# Given a status and one receiver, the same event rendered for that receiver (their own flags,
# votes and filter matches), or None: for the few whose rendering differs, and lists' owners.
ViewerAnnouncement = Callable[[AsyncSession, Status, int], Awaitable[str | None]]


async def _silent(session: AsyncSession, status: Status) -> None:
    return None


# The caller's claim on the work, taken first in distribute's transaction, which commits when
# the fan-out is done (the actor takes its outbox row: see workers/feeds.py). False: already done.
Claim = Callable[[AsyncSession], Awaitable[bool]]


async def _unclaimed(session: AsyncSession) -> bool:
    return True


async def distribute(status_id: int, announcement: Announcement = _silent, claim: Claim = _unclaimed,
                     announcement_for: ViewerAnnouncement | None = None) -> int:
    """Fan a status out to its author's feed and its followers' live feeds, and announce it on
    the home streams of those receivers who have one open: rendered once (`announcement`) for
    all but those with filters, whose matches it must carry, and those who touched the post (or
    the boosted post): they favourited, bookmarked or boosted it already..., rendered for each
    with `announcement_for`. Returns how many feeds got it."""
    settings = get_settings()
    started, started_at = time.perf_counter(), utcnow()
    async with db.session() as session:
        if not await claim(session):
            return 0
        status = await session.get(Status, status_id)
        if status is None or status.deleted_at is not None:
            return 0
        author = await session.get(Account, status.account_id)
        if author is None or author.suspended_at is not None:
            return 0
        # The lists holding the author: their open streams hear of the post, and the owners of
        # exclusive ones do not see it at home (the home read leaves it out), so neither there.
        lists_of_author = (await session.execute(_LISTS_OF, {"author": status.account_id})).all()
        announcer = _Announcer(status, announcement, hidden_for=_exclusive_owners(lists_of_author, status),
                               per_viewer=announcement_for)
        # Hybrid push/pull: a very followed account is read at read time instead (docs/feeds.md).
        pushed = author.followers_count <= settings.fanout_pull_threshold
        audience_size = 0

        async def batches() -> AsyncIterator[tuple[list, bool]]:
            nonlocal audience_size
            if author.domain is None:
                yield [author.id], True  # the author's own feed: their posts always go in
            # Closed with this generator (an abandoned `async for` would leave it to the GC).
            # A pulled author's post still goes to the followers of its hashtags.
            async with contextlib.aclosing(audience.followers(
                    session, status, settings.fanout_batch_size, followers_count=author.followers_count,
                    pushed=pushed)) as found:
                async for batch in found:
                    audience_size += len(batch)
                    yield batch, False

        redis_ms = 0.0

        async def one(batch: tuple[list, bool]) -> int:
            nonlocal redis_ms
            account_ids, own = batch
            sent = time.perf_counter()
            added = await store.add_to_feeds(account_ids, status.id, status.reblog_of_id, own=own)
            redis_ms += (time.perf_counter() - sent) * 1000
            await announcer.tell(added.watching)
            return added.received

        # Feeds are written while the database still streams the rest of the audience.
        received = sum(await _overlapped(batches(), one))
        if not pushed:
            # No follower's feed holds it, but those with a home stream open hear of it as of a
            # post in their feed (Mastodon tells every follower's open stream); once, as a feed
            # entry is added once, should the fan-out be run again (marked once they are known:
            # a failure before then leaves the retry to tell them).
            watchers = await audience.followers_among(session, status, await store.everyone_watching())
            if await store.first_telling(status.id):
                await announcer.tell(watchers)
        await announcer.tell_lists(await _lists_showing(session, status, [list_id for list_id, _, _ in lists_of_author]))
    await _withdrawn_meanwhile(status_id)
    if audience_size >= LOGGED_AUDIENCE:
        # How long the post waited for a worker, and how long the batches' scripts took in all
        # (they overlap with reading the audience, so the parts do not add up to the whole).
        waited = (started_at - status.created_at).total_seconds() * 1000
        log.info("status %s: %d of %d followers' feeds in %.0f ms (%.0f ms after it was created; Redis scripts "
                 "%.0f ms in all)", status.id, received, audience_size, (time.perf_counter() - started) * 1000,
                 waited, redis_ms)
    return received


# Lists are read at read time, not fanned out (docs/feeds.md), but a list stream that is open
# hears of a member's new post as in Mastodon: the lists holding the author that someone
# listens to now, each only if its own rules (replies policy, boosts, direct) let the post in.
_LISTS_OF = text("SELECT l.id, l.account_id, l.exclusive FROM list_accounts la JOIN lists l ON l.id = la.list_id"
                 " WHERE la.account_id = :author")


def _exclusive_owners(lists_of_author: list, status: Status) -> set[int]:
    """Owners of an exclusive list holding the author: their home timeline leaves the author's
    posts out (Mastodon's skip_home), so their home stream hears of none of them. (One's own
    posts stay at home even in an exclusive list of one's own, as in Mastodon.)"""
    return {owner for _, owner, exclusive in lists_of_author if exclusive and owner != status.account_id}


async def _lists_listened(session: AsyncSession, author_id: int,
                          list_ids: list[int] | None = None) -> list[List]:
    """The lists holding an author (`list_ids`, when the caller has them) whose stream is open."""
    if list_ids is None:
        list_ids = [row[0] for row in (await session.execute(_LISTS_OF, {"author": author_id})).all()]
    listened = await streaming.listened([streaming.list_channel(i) for i in list_ids])
    if not listened:
        return []
    return [a_list for a_list in (await session.exec(select(List).where(List.id.in_(list_ids)))).all()
            if streaming.list_channel(a_list.id) in listened]


async def _lists_showing(session: AsyncSession, status: Status,
                         list_ids: list[int] | None = None) -> list[tuple[str, int]]:
    """(channel, owner) of the open list streams whose list shows the status by its own rules
    (a boost that the list holds back, as home does, is not news there either)."""
    around = Window(max_id=status.id + 1, since_id=status.id - 1)
    return [(streaming.list_channel(a_list.id), a_list.account_id)
            for a_list in await _lists_listened(session, status.account_id, list_ids)
            if await sources.listed(session, a_list, around, 1)
            and not (status.reblog_of_id is not None and await _held_back_in(session, a_list, status.id))
            and await _shown_to(session, status.id, a_list.account_id)]


async def _held_back_in(session: AsyncSession, a_list: List, boost_id: int) -> bool:
    """Whether the list's timeline holds this boost back (sources.repeated_boosts), judged
    from the boost and the entries right under it."""
    rows = await sources.listed(session, a_list, Window(max_id=boost_id + 1), 1 + store.REBLOG_FALLOFF)
    return boost_id in sources.repeated_boosts(rows)


# What the list timeline itself applies when it loads (timelines.listed).
_SHOWN = select(Status.id).where(Status.id == bindparam("status_id", type_=BigInteger),
                                 visibility.shown_in_lists_of(visibility.VIEWER))


async def _shown_to(session: AsyncSession, status_id: int, viewer_id: int) -> bool:
    return bool(await db.rows(session, _SHOWN, {"status_id": status_id, "viewer_id": viewer_id}))


# Of the viewers (`:viewers`), those who must not see the status (`:ids`: it, and the post it
# boosts) on their home stream, by the home timeline's own rules (timelines._home_rules): they
# block or mute its author, the boosted author or an account it (or the boosted post) mentions, or an author
# blocks them.
_HIDDEN_FROM = text("""
    WITH involved AS (
        SELECT s.account_id AS id, true AS author FROM statuses s WHERE s.id = ANY(CAST(:ids AS bigint[]))
        UNION SELECT m.account_id, false FROM status_mentions m
        WHERE m.status_id = ANY(CAST(:ids AS bigint[])) AND NOT m.silent
    )
    SELECT v.id FROM unnest(CAST(:viewers AS bigint[])) AS v(id)
    WHERE EXISTS (SELECT 1 FROM blocks b JOIN involved i ON i.id = b.target_account_id WHERE b.account_id = v.id)
       OR EXISTS (SELECT 1 FROM blocks b JOIN involved i ON i.id = b.account_id AND i.author
                  WHERE b.target_account_id = v.id)
       OR EXISTS (SELECT 1 FROM mutes m JOIN involved i ON i.id = m.target_account_id
                  WHERE m.account_id = v.id AND (m.expires_at IS NULL OR m.expires_at > now()))
""")


_STILL_THERE = text("SELECT 1 FROM statuses WHERE id = :id AND deleted_at IS NULL")

# Whether a pulled account wrote the boosted post or boosted it (a boost of it may show right
# under a new boost in the merged timeline).
_PULLED_INVOLVED = text("SELECT 1 FROM statuses WHERE id = :boosted AND account_id = ANY(CAST(:pulled AS bigint[]))"
                        " UNION ALL SELECT 1 FROM statuses WHERE reblog_of_id = :boosted AND deleted_at IS NULL"
                        " AND account_id = ANY(CAST(:pulled AS bigint[])) LIMIT 1")

# Of the viewers, those who follow one of the accounts pulled at read time.
_FOLLOWING_ANY = text("SELECT DISTINCT account_id FROM follows WHERE account_id = ANY(CAST(:viewers AS bigint[]))"
                      " AND target_account_id = ANY(CAST(:pulled AS bigint[]))")


# Of the viewers, those for whom :target (a new post, or the post a boost boosts) renders
# differently from everyone else: they favourited, boosted (the booster too), bookmarked, pinned
# or voted in it, muted its thread, or wrote it (a poll counts its author as having voted).
_TOUCHED = text("""
    SELECT account_id FROM favourites WHERE status_id = :target AND account_id = ANY(CAST(:viewers AS bigint[]))
    UNION SELECT account_id FROM bookmarks WHERE status_id = :target AND account_id = ANY(CAST(:viewers AS bigint[]))
    UNION SELECT account_id FROM status_pins WHERE status_id = :target AND account_id = ANY(CAST(:viewers AS bigint[]))
    UNION SELECT account_id FROM statuses WHERE reblog_of_id = :target AND deleted_at IS NULL
                                            AND account_id = ANY(CAST(:viewers AS bigint[]))
    UNION SELECT account_id FROM statuses WHERE id = :target AND account_id = ANY(CAST(:viewers AS bigint[]))
    UNION SELECT m.account_id FROM conversation_mutes m JOIN statuses s ON s.conversation_id = m.conversation_id
          WHERE s.id = :target AND m.account_id = ANY(CAST(:viewers AS bigint[]))
    UNION SELECT v.account_id FROM poll_votes v JOIN polls p ON p.id = v.poll_id
          WHERE p.status_id = :target AND v.account_id = ANY(CAST(:viewers AS bigint[]))
""")


class _Announcer:
    """Renders the announcement when the first receiver with an open stream turns up (most
    fan-outs have none: nothing is rendered), and publishes it to each such receiver."""

    def __init__(self, status: Status, announcement: Announcement, hidden_for: set[int] = frozenset(),
                 per_viewer: ViewerAnnouncement | None = None):
        self.status, self.announcement = status, announcement
        # Rendered for one receiver: one with filters (`filtered`), one whose flags show on the
        # status (_TOUCHED), a list's owner. None: everyone gets the one rendering.
        self.per_viewer = per_viewer
        self.hidden_for = hidden_for  # home streams not to tell (the author is in an exclusive list of theirs)
        self._message: asyncio.Task | None = None
        self._told: set[int] = set()

    async def tell(self, account_ids: list) -> None:
        """Best effort, like every stream event: a failure here is logged, never a reason to
        retry the fan-out (a retry finds the feeds written and would tell nobody anyway).
        Each receiver once, whichever ways it was found."""
        # (audience batches may carry ids as text: compared as numbers)
        receivers = [a for a in map(int, account_ids) if a not in self.hidden_for and a not in self._told]
        self._told.update(receivers)
        if receivers:
            hidden = await self._blocked_or_muted(receivers) | await self._repeating_pulled(receivers)
            receivers = [a for a in receivers if a not in hidden]
        # One rendering for all, but a receiver with filters gets theirs matched, as Mastodon's
        # streaming server does, and a post, boost or edit comes rendered for each receiver whose
        # flags it shows differently (few of those with a home stream open right now: a big
        # account's boost or edit rendered once per watching follower held its job for seconds).
        render = self.per_viewer
        personal = set()
        if receivers and render is not None:
            personal = await self._with_filters(receivers) | await self._touched(receivers)
        await self.tell_channels([streaming.user_channel(a) for a in receivers if a not in personal])
        await self._tell_each([(streaming.user_channel(a), a) for a in receivers if a in personal], render)

    async def tell_lists(self, listeners: list[tuple[str, int]]) -> None:
        """Open list streams, (channel, the list's owner): each rendered for its owner, whose
        filters apply to lists as to home and whose flags the boosted post shows (few: lists
        holding the author with a stream open right now)."""
        render = self.per_viewer
        if render is None:
            await self.tell_channels([channel for channel, _ in listeners])
        else:
            await self._tell_each(listeners, render)

    async def _blocked_or_muted(self, receivers: list[int]) -> set[int]:
        """The receivers whose home timeline leaves the status out (blocks and mutes apply at
        read time, after the fan-out), so that their stream does not show it either."""
        ids = [self.status.id] + ([self.status.reblog_of_id] if self.status.reblog_of_id else [])
        return await self._picked(_HIDDEN_FROM, {"viewers": receivers, "ids": ids},
                                  "blocks and mutes not read; telling nobody", set(receivers))

    async def _repeating_pulled(self, receivers: list[int]) -> set[int]:
        """For a boost, the receivers whose home timeline holds it back by the reblog rule across
        the feed and the accounts pulled at read time (timelines.repeating_pulled: the post shows
        right under it from a pulled account, or a pulled account boosted it), which the feed's
        script cannot judge. Only if a pulled account is involved (it boosted, wrote the post, or
        boosted the post already: none on most instances, one query), then for each receiver
        who follows one."""
        if self.status.reblog_of_id is None:
            return set()
        try:
            pulled = await sources.pulled_accounts()
            if not pulled:
                return set()
            async with db.reading() as session:
                involved = self.status.account_id in pulled or await db.rows(
                    session, _PULLED_INVOLVED, {"boosted": self.status.reblog_of_id, "pulled": pulled})
                if not involved:
                    return set()
                following = [row[0] for row in await db.rows(session, _FOLLOWING_ANY,
                                                              {"viewers": receivers, "pulled": pulled})]
                floors = await store.floors_of(following)
                held = set()
                for viewer, floor in zip(following, floors):
                    if floor is not None and await timelines.repeating_pulled(session, viewer, floor, [self.status]):
                        held.add(viewer)
                return held
        except Exception:  # best effort, as every stream event: never a reason to retry the fan-out
            log.exception("status %s: boosts held back by pulled accounts not judged", self.status.id)
            return set()

    async def _touched(self, receivers: list[int]) -> set[int]:
        """The receivers whose flags show on the status (the boosted post, for a boost), rendered
        one by one (_TOUCHED): for a new post, its author and those who muted its thread."""
        target = self.status.reblog_of_id or self.status.id
        return await self._picked(_TOUCHED, {"target": target, "viewers": receivers},
                                  "flags not read; rendering for each", set(receivers))

    async def _with_filters(self, receivers: list[int]) -> set[int]:
        return await self._picked(filters.owners_with_filters, receivers, "filters not read", set())

    async def _picked(self, query, params, failing: str, otherwise: set[int]) -> set[int]:
        """The receivers a query finds: a statement's first column (with `params`), or what a
        function of (session, params) returns; `otherwise` when they cannot be read."""
        try:
            async with db.reading() as session:
                if callable(query):
                    return await query(session, params)
                return {row[0] for row in await db.rows(session, query, params)}
        except Exception:
            log.exception("status %s: receivers' %s", self.status.id, failing)
            return otherwise

    async def _tell_each(self, listeners: list[tuple[str, int]], render: ViewerAnnouncement) -> None:
        """(channel, viewer): the event rendered for each viewer, on their channel."""
        for channel, viewer in listeners:  # few: only streams open right now
            try:
                async with db.session() as session:
                    status = await session.get(Status, self.status.id)
                    message = await render(session, status, viewer) if status is not None else None
            except Exception:
                log.exception("status %s: stream event for %s not rendered", self.status.id, viewer)
                continue
            await _publish([channel], message, self.status.id)

    async def tell_channels(self, channels: list[str]) -> None:
        if not channels:
            return
        if self._message is None:
            self._message = asyncio.ensure_future(self._render())
        try:
            message = await asyncio.shield(self._message)
        except Exception:
            log.exception("status %s: stream event not rendered", self.status.id)
            return
        await _publish(channels, message, self.status.id)

    async def _render(self) -> str | None:
        async with db.session() as session:
            status = await session.get(Status, self.status.id)
            return await self.announcement(session, status) if status is not None else None


# Script calls in flight at once: while Redis runs one batch, the next is already encoded and
# sent, so Redis never waits for this process. Not more: each call is short (a batch is a few
# milliseconds of Redis time) and other clients' commands get their turn between two calls.
IN_FLIGHT = 2


async def _overlapped(items: AsyncIterator, call: Callable[[object], Awaitable]) -> list:
    """`call(item)` for every item, at most IN_FLIGHT at a time; results in any order.
    The first failure cancels the rest and is raised (the actor is retried: idempotent).
    Either way `items` is closed here, before the caller's transaction ends: an audience
    generator left to the garbage collector would close its server-side cursor later, on a
    connection that may by then be serving someone else's transaction."""
    results: list = []
    running: set[asyncio.Task] = set()
    async with contextlib.aclosing(items):
        try:
            async for item in items:
                if len(running) >= IN_FLIGHT:
                    done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                    results += [task.result() for task in done]
                running.add(asyncio.create_task(call(item)))
            if running:
                done, running = await asyncio.wait(running)
                results += [task.result() for task in done]
        finally:
            for task in running:
                task.cancel()
            # Wait for the cancelled ones, and collect every failure, so none is left unretrieved.
            await asyncio.gather(*running, return_exceptions=True)
    return results


async def _feed_owners(session: AsyncSession, status: Status) -> list[int]:
    """Every feed that may hold a status: its author's, its author's local followers' and, for a
    public post (the fan-out gives followers of its hashtags nothing else), those of local
    followers of its hashtags."""
    rows = await session.execute(text(
        "SELECT f.account_id FROM follows f JOIN users u ON u.account_id = f.account_id "
        "WHERE f.target_account_id = :author"), {"author": status.account_id})
    owners = [status.account_id, *(r[0] for r in rows)]
    if status.visibility == "public" and status.reblog_of_id is None:
        rows = await session.execute(text(
            "SELECT tf.account_id FROM tag_follows tf "
            "JOIN status_tags st ON st.tag_id = tf.tag_id AND st.status_id = :status "
            "JOIN users u ON u.account_id = tf.account_id"), {"status": status.id})
        owners += [r[0] for r in rows]  # (duplicates go below: a UNION cost ~50 ms for 100,000 followers)
    return list(dict.fromkeys(owners))


async def _mentioned_locals(session: AsyncSession, status_id: int) -> list[int]:
    rows = await session.execute(text(
        "SELECT m.account_id FROM status_mentions m JOIN users u ON u.account_id = m.account_id "
        "WHERE m.status_id = :status AND NOT m.silent"), {"status": status_id})
    return [r[0] for r in rows]


async def _withdrawn_meanwhile(status_id: int) -> None:
    """A status deleted while a job wrote it into feeds or told streams of it: its withdrawal,
    running beside this job, may have gone first, leaving it in feeds (where a boost would
    hold back later boosts of its post) and its `update` on screens after the `delete`. Withdrawn
    again, once this job is done: a deletion committed after this check has its own withdrawal
    run after it."""
    try:
        async with db.reading() as session:
            there = await db.rows(session, _STILL_THERE, {"id": status_id})
    except Exception:
        log.exception("status %s: not checked for a deletion during its fan-out", status_id)
        return
    if not there:
        try:
            await withdraw(status_id)
        except Exception:  # the deletion's own withdrawal has run; this one only tidies after it
            log.exception("status %s: not withdrawn again after its deletion during its fan-out", status_id)


async def withdraw(status_id: int) -> int:
    """Take a deleted status and every boost of it out of the feeds that may hold them, and
    tell the open home streams of those feeds' owners and of the local accounts it mentions,
    and the open list streams of lists holding its author (`delete`, as Mastodon does)."""
    async with db.session() as session:
        gone = (await session.exec(select(Status).where(
            (Status.id == status_id) | (Status.reblog_of_id == status_id)))).all()
        removed = 0
        for status in gone:
            if status.deleted_at is None:
                continue  # still there (the job ran for an older delete of something else)
            owners = await _feed_owners(session, status)
            batch = get_settings().fanout_batch_size
            for start in range(0, len(owners), batch):
                removed += await store.remove(owners[start:start + batch], [(status.id, status.reblog_of_id)])
            # Also the local accounts it mentions (they may follow no one: a mention or a direct
            # message they were shown; boosts mention no one) and the open list streams of lists
            # holding its author, as Mastodon; a client not showing the post ignores the event.
            told = set(owners)
            if status.reblog_of_id is None:
                told.update(await _mentioned_locals(session, status.id))
            lists = [streaming.list_channel(a_list.id) for a_list in await _lists_listened(session, status.account_id)]
            await _publish([streaming.user_channel(a) for a in await store.watching(list(told))] + lists,
                           streaming.encode("delete", str(status.id)), status.id)
        return removed


async def announce_edit(status_id: int, announcement: Announcement, announcement_for: ViewerAnnouncement) -> int:
    """`status.update` for an edited status on the open home streams that show it: those whose
    feed holds it (followers', and followers' of its hashtags), and for an author pulled at read
    time (whose posts no follower's feed holds) the followers the fan-out's rules give it to
    (as its new post was told); and on the open list streams whose list shows it. Rendered once
    (`announcement`) for the receivers who never touched the post, and for each of the others,
    of those with filters and of the lists' owners on their own (`announcement_for`), as a new
    post is; nothing is rendered if no stream is open. How many were told."""
    async with db.session() as session:
        status = await session.get(Status, status_id)
        if status is None or status.deleted_at is not None:
            return 0
        author = await session.get(Account, status.account_id)
        watching = await store.watching(await _feed_owners(session, status))
        pulled = author is not None and author.followers_count > get_settings().fanout_pull_threshold
        holders = await store.holding(watching, status.id)  # the author's own feed too
        if pulled:
            # No follower's feed holds it (followers of its hashtags' may): also those whose open
            # stream the fan-out told of it, by the same rules (a direct post: the followers it
            # mentions; a reply: those who follow whom it answers too).
            holders += await audience.followers_among(session, status, [a for a in watching if a not in holders])
        lists_of_author = (await session.execute(_LISTS_OF, {"author": status.account_id})).all()
        lists = await _lists_showing(session, status, [list_id for list_id, _, _ in lists_of_author])
    announcer = _Announcer(status, announcement, hidden_for=_exclusive_owners(lists_of_author, status),
                           per_viewer=announcement_for)
    await announcer.tell(holders)
    await announcer.tell_lists(lists)
    await _withdrawn_meanwhile(status_id)
    return len(holders) + len(lists)


async def _publish(channels: list[str], message: str | None, status_id: int) -> None:
    """Publish an encoded event on these channels. Best effort, like every stream event: the
    feeds are already right, and a retry would not find the streams any wiser."""
    if not channels or message is None:
        return
    try:
        await streaming.publish_encoded(channels, message)
    except Exception:
        log.exception("status %s: stream event not published", status_id)


async def merge(account_id: int, target_id: int) -> int:
    """Bring a newly followed account's recent posts into a live feed (Mastodon merges them too)."""
    floor = await store.floor_of(account_id)
    if floor is None:
        return 0  # no live feed: the next read rebuilds it with this follow in
    async with db.session() as session:
        target = await session.get(Account, target_id)
        if target is None or target.followers_count > get_settings().fanout_pull_threshold:
            return 0  # pulled at read time anyway
        rows = await sources.home(session, account_id, Window(since_id=floor - 1 if floor else None),
                                  get_settings().feed_max_items, follows="one", target_id=target_id)
    return await store.fill(account_id, rows)


async def unmerge(account_id: int, target_id: int) -> int:
    """Take an unfollowed account's posts and boosts out of a feed, and their boosts held back
    for others' (which must not take a place they would hide from: the booster is unfollowed)."""
    feed_ids = await store.ids(account_id)
    if not feed_ids:
        return 0
    async with db.session() as session:
        theirs = (await session.exec(select(Status.id, Status.reblog_of_id).where(
            Status.account_id == target_id,
            or_(Status.id.in_(feed_ids), and_(Status.reblog_of_id.is_not(None), Status.id >= min(feed_ids)))))).all()
    return await store.remove([account_id], [(status_id, reblog_of_id) for status_id, reblog_of_id in theirs])


# A feed's entries that a mute or block of :target hides from now on (Mastodon's clear_from_home):
# by the target, boosts of the target's posts, and posts (or boosted posts) mentioning them. With
# `:theirs`, also the target's own posts above the feed's floor, whether in the feed or not: after
# a block that ended a follow (whose unmerge job may have taken them out of the feed first), or
# for a followed account pulled at read time (whose posts no feed holds). Not direct ones.
_HIDDEN_BY_TARGET = text("""
    SELECT s.id FROM statuses s LEFT JOIN statuses r ON r.id = s.reblog_of_id
    WHERE s.id = ANY(CAST(:ids AS bigint[]))
      AND (s.account_id = :target OR r.account_id = :target OR EXISTS (
            SELECT 1 FROM status_mentions m WHERE m.account_id = :target AND NOT m.silent
              AND m.status_id = ANY(ARRAY[s.id, s.reblog_of_id])))
    UNION
    (SELECT id FROM statuses WHERE :theirs AND account_id = :target AND id >= :floor AND deleted_at IS NULL
       AND visibility <> 'direct'
     ORDER BY id DESC LIMIT :most)
""")


async def hide(account_id: int, target_id: int, severed: bool = False) -> int:
    """A mute or block: the muter's open home and list streams get `delete` for each entry their
    timeline now leaves out, as Mastodon's do (clear_from_home, clear_from_lists), so apps drop
    them without a reload. `severed`: a block that ended the viewer's follow of the target. The
    entries stay in the feed (reads filter them; an unmute brings them back). How many posts
    were withdrawn (from either)."""
    settings = get_settings()
    most = settings.feed_max_items
    floor = await store.floor_of(account_id)  # None: no live feed, nothing was streamed from it
    withdrawn: list[tuple[str, int]] = []  # (channel, status id)
    async with db.reading() as session:
        viewer = await session.get(Account, account_id)
        if viewer is None:
            return 0
        owned = await lists.all_of(session, viewer)
        listening = await streaming.listened([streaming.list_channel(a_list.id) for a_list in owned])
        listened = [a_list for a_list in owned if streaming.list_channel(a_list.id) in listening]
        home = floor is not None and bool(await store.watching([account_id]))
        if not home and not listened:
            return 0
        # Still muted (unexpired) or blocked when the job runs: an unmute in between, or a late
        # retry, must not take visible posts off the screen.
        if not (await relationships.is_blocking(session, account_id, target_id)
                or await relationships.is_muting(session, account_id, target_id)):
            return 0
        if home:
            target = await session.get(Account, target_id)
            # A followed account pulled at read time: its posts were on the home timeline, in no feed.
            pulled = (target is not None and target.followers_count > settings.fanout_pull_threshold
                      and await relationships.is_following(session, account_id, target_id))
            # So were the other pulled accounts' posts and boosts: those mentioning the target,
            # or boosting its posts, leave the timeline as the feed's do.
            pulled_rows = await sources.home(session, account_id, Window(since_id=floor - 1 if floor else None), most,
                                             follows="pulled")
            shown = await store.ids(account_id) + [row[0] for row in pulled_rows]
            channel = streaming.user_channel(account_id)
            withdrawn += [(channel, row[0]) for row in await db.rows(session, _HIDDEN_BY_TARGET, {
                "ids": shown, "target": target_id, "theirs": severed or pulled, "floor": floor, "most": most})]
        for a_list in listened:
            # A list's own entries (a list is read from PostgreSQL: it may show a boost where
            # home shows the post itself, or posts home leaves out).
            entries = [row[0] for row in await sources.listed(session, a_list, Window(), most)]
            channel = streaming.list_channel(a_list.id)
            # After a block that ended the follow the target is no member any more (its list rows
            # went with the follow), so its posts are among no entries: the target's own above
            # the list's oldest entry, as home's above its floor (a client drops what it shows).
            withdrawn += [(channel, row[0]) for row in await db.rows(session, _HIDDEN_BY_TARGET, {
                "ids": entries, "target": target_id, "theirs": severed, "floor": min(entries, default=0),
                "most": most})]
    if withdrawn:
        # Up to a feed's worth of deletes per stream: one round trip, not one per post.
        try:
            await streaming.publish_each((channel, streaming.encode("delete", str(status_id)))
                                         for channel, status_id in withdrawn)
        except Exception:  # best effort, like every stream event: the reads already leave them out
            log.exception("account %s: deletes of %d posts of %s not published", account_id, len(withdrawn),
                          target_id)
    return len({status_id for _, status_id in withdrawn})


async def rebuild(account_id: int) -> int:
    """Refill a feed from PostgreSQL (a returning user, a lost Redis): the newest feed_max_items
    entries of the accounts fanned out on write. How many went in."""
    count = get_settings().feed_max_items
    await store.start_building(account_id)
    async with db.session() as session:
        rows = await sources.home(session, account_id, Window(), count, follows="pushed")
    added = await store.fill(account_id, rows)
    # Fewer rows than asked: the feed holds everything there is; else only from its oldest row.
    await store.finish_building(account_id, min(r[0] for r in rows) if len(rows) >= count else 0)
    return added
