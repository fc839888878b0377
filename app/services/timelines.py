"""Reading timelines: home, public, hashtag, list and trending link.

    statuses = await timelines.home(session, viewer, page)
    statuses = await timelines.public(session, viewer, page, PublicFilter(local=True))
    statuses = await timelines.tag(session, viewer, "cats", page, TagFilter(any=["dogs"]))
    statuses = await timelines.listed(session, viewer, list_id, page)
    statuses = await timelines.link(session, viewer, card, page)    # card: trends.trending_link()

`page` is an app.api.pagination.Page. Every result is newest first and follows
Mastodon's max_id (older than), since_id (newer than, the newest ones) and min_id
(newer than, the ones right after it) exactly, so following the Link header never
skips or repeats an entry, even while new posts arrive.

The home timeline merges up to three sources (docs/feeds.md):
- the Redis feed, which holds every entry at or above its floor;
- PostgreSQL below the floor, or for everything when there is no live feed (a
  returning user; a rebuild is then requested in the background);
- the recent posts of followed accounts too followed to be fanned out (hybrid pull).
Each source returns at most `count` ids; when one is cut short, only what lies above
its last id (below, for min_id) is certain, so the page stops there and, if it is not
full yet, the next round continues from that point. Then one query loads the
candidates the viewer may see (visibility, blocks, mutes, follows, exclusive lists).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Awaitable, Callable

from sqlalchemy import and_, exists, or_
from sqlalchemy import select as sa_select
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.models import (Account, Follow, List, ListAccount, MediaAttachment, PreviewCard, Status, StatusPreviewCard,
                        StatusTag, Tag, TagFollow)
from app.services import feeds, lists, visibility
from app.services.feeds import sources, store
from app.services.feeds.store import Window
from app.text import hashtag_key

MAX_ROUNDS = 4  # a page short of visible entries is completed from further down, this many times
# An empty page ends a client's scrolling, so a page with nothing visible yet (a muted account
# that posted hundreds of times in a row) goes on, asking each source for twice as many ids each
# round, up to this many rounds in all (~7,600 entries at the default page size).
MAX_EMPTY_ROUNDS = 8
EXTRA = 10  # ids asked of each source beyond the page size, for entries the viewer may not see
SLACK = 2  # candidates loaded first beyond what the page lacks (see _collect)

# A source: (window, count) -> (ids, cut): `cut` when it may hold more beyond the last id.
Source = Callable[[Window, int], Awaitable[tuple[list[int], bool]]]
Loader = Callable[[list[int]], Awaitable[list[Status]]]


def window_of(page) -> Window:
    return Window(max_id=page.max_id, since_id=page.since_id, min_id=page.min_id)


async def _collect(page, sources_: list[Source], load: Loader, hidden: set[int] = frozenset()) -> list[Status]:
    """Merge sources into one exact page (see the module docstring); newest first. `hidden`:
    ids the sources returned (so they count for the paging) that the page leaves out; sources
    may add to it as they read."""
    window = window_of(page)
    count = page.limit + EXTRA
    found: dict[int, Status] = {}
    frugal = True
    whole = 2 * (page.limit + EXTRA)
    take = whole
    for round_ in range(1, MAX_EMPTY_ROUNDS + 1):
        results = [await source(window, count) for source in sources_]
        cuts = [ids[-1] for ids, cut in results if cut and ids]
        horizon = None
        if cuts:
            horizon = min(cuts) if window.ascending else max(cuts)
        candidates = {i for ids, _ in results for i in window.within(ids) if i not in hidden}
        if horizon is not None:
            candidates = {i for i in candidates if (i <= horizon if window.ascending else i >= horizon)}
        # Loaded nearest first, only a few beyond what the page still lacks: for most viewers
        # every candidate is shown. Once some were not (mutes, blocks and exclusive lists apply
        # only here), the rest are loaded in batches of a whole round's worth (so a usual round
        # at once: one load more per read at most), each twice the last: a page deep in hidden
        # entries (rounds of thousands of ids, MAX_EMPTY_ROUNDS) loads only what fills it.
        nearest = sorted(candidates, reverse=not window.ascending)
        # (batch sizes keep growing across rounds: a round deep in hidden entries is one load)
        take = page.limit - len(found) + SLACK if frugal else max(take, whole)
        start = 0
        while start < len(nearest) and len(found) < page.limit:
            batch = nearest[start:start + take]
            start += take
            shown = await load(batch)
            frugal = frugal and len(shown) == len(batch)
            for status in shown:
                found[status.id] = status
            take = max(2 * take, whole)
        if len(found) >= page.limit or horizon is None or (found and round_ >= MAX_ROUNDS):
            break
        if not found:
            count *= 2
        window = (window.narrowed(lower=horizon) if window.ascending else window.narrowed(upper=horizon))
    ordered = sorted(found.values(), key=lambda s: s.id, reverse=not window.ascending)[:page.limit]
    return sorted(ordered, key=lambda s: s.id, reverse=True)


def _rows_source(fetch) -> Source:
    async def source(window: Window, count: int) -> tuple[list[int], bool]:
        rows = await fetch(window, count)
        return [r[0] for r in rows], len(rows) >= count
    return source


# -- home -------------------------------------------------------------------------------

def _home_rules(viewer_id: int):
    """What a home timeline shows of the candidates: the viewer's own posts, posts and
    boosts (unless boosts are off for that follow) of accounts they follow now minus
    members of exclusive lists, and public posts with a hashtag they follow; never muted
    authors (of the boost or of the boosted post), never a post mentioning someone the viewer
    blocks or mutes, and only in the languages a follow asks for (Mastodon's home feed rules)."""
    followed = exists().where(Follow.account_id == viewer_id, Follow.target_account_id == Status.account_id,
                              or_(Status.reblog_of_id.is_(None), Follow.show_reblogs.is_(True)),
                              visibility.follow_covers_language())
    in_exclusive_list = exists().where(ListAccount.account_id == Status.account_id, ListAccount.list_id == List.id,
                                       List.account_id == viewer_id, List.exclusive.is_(True))
    # A public post carrying a hashtag the viewer follows (delivered by the fan-out).
    followed_tag = and_(Status.visibility == "public", Status.reblog_of_id.is_(None), exists().where(
        StatusTag.status_id == Status.id, TagFollow.tag_id == StatusTag.tag_id, TagFollow.account_id == viewer_id))
    return and_(or_(Status.account_id == viewer_id, and_(followed, ~in_exclusive_list), followed_tag),
                visibility.not_muted_by(viewer_id), visibility.boosted_not_muted_by(viewer_id),
                visibility.mentions_nobody_hidden_by(viewer_id))


# Built once and run through db.rows (statuses as rows: every home read runs it); the viewer
# and the candidate ids are bound when it runs. Without `text` (the source, which a timeline
# never shows; up to a few kB a row).
_HOME_CANDIDATES = sa_select(*[c for c in Status.__table__.c if c.name != "text"]).where(
    db.any_of(Status.id), visibility.visible_to(visibility.VIEWER), _home_rules(visibility.VIEWER))


async def home(session: AsyncSession, viewer: Account, page) -> list[Status]:
    viewer_id = viewer.id

    async def load(ids: list[int]) -> list[Status]:
        if not ids:
            return []
        shown = await db.rows(session, _HOME_CANDIDATES, {"ids": ids, "viewer_id": viewer_id})
        floor = state.get("floor")
        if floor is not None and any(s.reblog_of_id is not None for s in shown):
            # Counted as read (the sources returned them) but not shown, as a held-back boost is.
            repeated = await repeating_pulled(session, viewer_id, floor, shown)
            shown = [s for s in shown if s.id not in repeated]
        return shown

    state: dict = {}
    held_back: set[int] = set()
    postgres_source = _postgres_home(session, viewer_id, held_back)

    async def redis_source(window: Window, count: int) -> tuple[list[int], bool]:
        floor, ids = await store.read(viewer_id, window, count)
        state["floor"] = floor
        if floor is None:
            # No live feed: PostgreSQL answers, and the feed is rebuilt for the next reads.
            if await store.claim_rebuild(viewer_id):
                feeds.rebuild_requested(session, viewer_id)
            return await postgres_source(window, count)
        cut = len(ids) >= count
        if floor and window.lower < floor and (window.ascending or not cut or ids[-1] < floor):
            # The window reaches under the floor: that part comes from PostgreSQL.
            older, older_cut = await postgres_source(window.narrowed(upper=floor), count)
            return _merge(window, ids, cut, older, older_cut, count)
        return ids, cut

    async def pulled_source(window: Window, count: int) -> tuple[list[int], bool]:
        if state.get("floor") is None:
            return [], False  # PostgreSQL already read every followed account
        return await _rows_source(lambda w, c: sources.home(session, viewer_id, w, c, follows="pulled"))(
            window, count)

    return await _collect(page, [redis_source, pulled_source], load, held_back)


async def repeating_pulled(session: AsyncSession, viewer_id: int, floor: int, shown: list) -> set[int]:
    """The boosts among `shown` (in the Redis feed's part of the timeline) that repeat a post
    of an account pulled at read time, or that such an account boosted: Mastodon's reblog rule
    across the two sources, which the fan-out cannot apply because pulled posts never reach the
    feed. A boost is held back when the post, or another boost of it, is among the REBLOG_FALLOFF
    entries of the merged timeline right under it. Pairs within the feed were judged by the
    fan-out; the PostgreSQL part (below the floor) by `_holding_back`, with every follow."""
    boosts = [s for s in shown if s.reblog_of_id is not None and s.id >= floor]
    followed = {row[0] for row in await sources.followed_pulled(session, viewer_id)} if boosts else set()
    if not followed:
        return set()  # most viewers: no pulled account, no question
    falloff = store.REBLOG_FALLOFF
    # The pulled entries under every boost of the page, read once for all (a pulled account's
    # posts are sparse among the rest): twice the falloff under the newest boost, and again
    # for a boost whose falloff that does not cover.
    read = await sources.home(session, viewer_id, Window(max_id=max(b.id for b in boosts) + 1), 2 * falloff,
                              follows="pulled")
    held = set()
    for boost in boosts:
        boosted_id = boost.reblog_of_id
        pulled_under = [row for row in read if row[0] < boost.id][:falloff]
        if len(pulled_under) < falloff and len(read) >= 2 * falloff:
            pulled_under = await sources.home(session, viewer_id, Window(max_id=boost.id), falloff, follows="pulled")
        same = [row[0] for row in pulled_under if boosted_id in (row[0], row[1])]
        if boost.account_id in followed:  # a pulled boost: the feed may show the post already
            same += [i for i in await store.showing(viewer_id, boosted_id) if i < boost.id]
        if not same:
            continue
        nearest = max(same)
        # The entries in between, each once (a pulled post with a hashtag the viewer follows is
        # in the feed too): the feed's, the pulled ones, and PostgreSQL's under the feed's floor.
        between = await store.between(viewer_id, nearest, boost.id, falloff)
        between.update(row[0] for row in pulled_under if nearest < row[0])
        if nearest < floor and len(between) < falloff:
            below = await sources.home(session, viewer_id, Window(max_id=floor, since_id=nearest), falloff)
            between.update(row[0] for row in below)
        if len(between) < falloff:
            held.add(boost.id)
    return held


def _postgres_home(session: AsyncSession, viewer_id: int, held_back: set[int]) -> Source:
    """Home entries from PostgreSQL, holding back the boosts the Redis feed would have held back
    (see _holding_back): a returning user's first page and pages past the feed show a boosted
    post once, as the feed does."""
    return _holding_back(lambda window, count: sources.home(session, viewer_id, window, count), held_back)


def _holding_back(fetch: Callable[[Window, int], Awaitable[list[sources.Row]]], held_back: set[int]) -> Source:
    """A source of timeline rows (id, boosted id, author) whose repeated boosts
    (`sources.repeated_boosts`) go into `held_back`; they are still returned, so the paging stays exact."""
    async def source(window: Window, count: int) -> tuple[list[int], bool]:
        # Whether a boost is held back depends on the entries under it only: the rows returned
        # and up to REBLOG_FALLOFF under them. Scrolling down, those are read with them (rows
        # the query returns anyway cost less than a query more), unless the window's lower
        # bound cut them short (since_id); otherwise, by a second query when there is a boost
        # to judge.
        below: list = []
        if window.ascending:
            rows = await fetch(window, count)
            cut = len(rows) >= count
        else:
            rows = await fetch(window, count + store.REBLOG_FALLOFF)
            cut = len(rows) > count  # rows beyond those returned exist
            rows, below = rows[:count], rows[count:]
        if any(row[1] is not None for row in rows):
            if len(below) < store.REBLOG_FALLOFF and (window.ascending or window.lower):
                below = await fetch(Window(max_id=min(r[0] for r in rows)), store.REBLOG_FALLOFF)
            # Judged only for the rows returned: those under them are judged, with what lies
            # under them in turn, when a later round returns them.
            returned = {r[0] for r in rows}
            held_back.update(returned & sources.repeated_boosts(rows + below))
        return [r[0] for r in rows], cut
    return source


def _merge(window: Window, a: list[int], a_cut: bool, b: list[int], b_cut: bool, count: int) -> tuple[list[int], bool]:
    """Two id lists from disjoint parts of a window as one source."""
    merged = sorted(set(a) | set(b), reverse=not window.ascending)
    cuts = [ids[-1] for ids, cut in ((a, a_cut), (b, b_cut)) if cut and ids]
    if cuts:
        horizon = min(cuts) if window.ascending else max(cuts)
        merged = [i for i in merged if (i <= horizon if window.ascending else i >= horizon)]
    return merged[:count], bool(cuts) or len(merged) > count


# -- public and hashtag -----------------------------------------------------------------

@dataclass
class PublicFilter:
    local: bool = False
    remote: bool = False
    only_media: bool = False


@dataclass
class TagFilter(PublicFilter):
    any: list[str] = field(default_factory=list)
    all: list[str] = field(default_factory=list)
    none: list[str] = field(default_factory=list)


def _public_query(viewer_id: int | None, options: PublicFilter):
    # Limited (silenced) authors are left out for everyone, their followers too (Mastodon's
    # public feeds; the public streams skip them as well). Their new public posts are unlisted.
    unlimited_author = exists().where(Account.id == Status.account_id, Account.silenced_at.is_(None))
    query = select(Status).where(Status.visibility == "public", Status.reblog_of_id.is_(None),
                                 visibility.visible_to(viewer_id), visibility.not_muted_by(viewer_id),
                                 unlimited_author)
    # Both flags at once mean everything, as in Mastodon (local only is local and not remote).
    if options.local and not options.remote:
        query = query.where(Status.local.is_(True))
    elif options.remote and not options.local:
        query = query.where(Status.local.is_(False))
    if options.only_media:
        query = query.where(exists().where(MediaAttachment.status_id == Status.id))
    return query


async def public(session: AsyncSession, viewer: Account | None, page, options: PublicFilter) -> list[Status]:
    """Public posts (replies only to oneself, as Mastodon), no boosts."""
    query = _public_query(viewer.id if viewer else None, options).where(
        or_(Status.reply.is_(False), Status.in_reply_to_account_id == Status.account_id))
    return page.order(list((await session.exec(page.apply(query, Status.id))).all()))


def clean_tag(name: str) -> str:
    """The key of a hashtag as asked for (`#Café`, `cafe`: app.text.hashtag_key)."""
    return hashtag_key(str(name).strip().lstrip("#"))


async def _tag_ids(session: AsyncSession, names: list[str]) -> dict[str, int]:
    names = [n for n in (clean_tag(x) for x in names) if n]
    if not names:
        return {}
    rows = await session.exec(select(Tag.key, Tag.id).where(Tag.key.in_(names)))
    return dict(rows.all())


TAGS_PER_MODE = 4  # as Mastodon's TagFeed: the path's tag and any[] together, all[] and none[] each


async def tag(session: AsyncSession, viewer: Account | None, name: str, page, options: TagFilter) -> list[Status]:
    """Public posts with the hashtag or any of `any`, all of `all` and none of `none`, as
    Mastodon's TagFeed: the path's tag and `any` share four places (the path's first), `all` and
    `none` have four each, and unknown tags there are left out (an unknown one in `all` asks for
    nothing). An unknown tag in the path gives nothing at all, whatever `any` asks for."""
    wanted = await _tag_ids(session, list(dict.fromkeys([name, *options.any]))[:TAGS_PER_MODE])
    if clean_tag(name) not in wanted:
        return []
    required = await _tag_ids(session, options.all[:TAGS_PER_MODE])
    excluded = await _tag_ids(session, options.none[:TAGS_PER_MODE])
    query = _public_query(viewer.id if viewer else None, options).where(
        Status.id.in_(select(StatusTag.status_id).where(StatusTag.tag_id.in_(list(wanted.values())))))
    for tag_id in required.values():
        query = query.where(exists().where(StatusTag.status_id == Status.id, StatusTag.tag_id == tag_id))
    if excluded:
        query = query.where(~exists().where(StatusTag.status_id == Status.id,
                                            StatusTag.tag_id.in_(list(excluded.values()))))
    return page.order(list((await session.exec(page.apply(query, Status.id))).all()))


async def link(session: AsyncSession, viewer: Account | None, card: PreviewCard, page,
               options: PublicFilter | None = None) -> list[Status]:
    """Public posts carrying a (trending) link's card, replies included, by authors who opted
    in to discovery: Mastodon's link timeline (`options`: local or remote only)."""
    discoverable_author = exists().where(Account.id == Status.account_id, Account.discoverable.is_(True))
    query = _public_query(viewer.id if viewer else None, options or PublicFilter()).where(
        discoverable_author,
        Status.id.in_(select(StatusPreviewCard.status_id).where(StatusPreviewCard.preview_card_id == card.id)))
    return page.order(list((await session.exec(page.apply(query, Status.id))).all()))


# -- lists ------------------------------------------------------------------------------

async def listed(session: AsyncSession, viewer: Account, list_id, page) -> list[Status]:
    """The posts and boosts of a list's members, replies per its replies_policy."""
    a_list = await lists.find_list(session, viewer, list_id)

    async def load(ids: list[int]) -> list[Status]:
        if not ids:
            return []
        return list((await session.exec(select(Status).where(
            Status.id.in_(ids), visibility.shown_in_lists_of(viewer.id)))).all())

    # A list holds back repeated boosts as home does (Mastodon's list feeds follow the same rule).
    held_back: set[int] = set()
    source = _holding_back(lambda window, count: sources.listed(session, a_list, window, count), held_back)
    return await _collect(page, [source], load, held_back)
