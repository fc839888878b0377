"""Who may see a status: the one place the rules live.

    query = select(Status).where(visible_to(viewer_id))     # list queries (timelines, search...)
    if not await can_see(session, viewer, status): raise NotFound()   # one status

The rules (Mastodon's StatusPolicy, with blocks applied both ways):
- deleted statuses and statuses of suspended accounts are seen by nobody;
- the author always sees their own statuses;
- nobody sees anything of an account that blocks them, nor of an account they block;
- public and unlisted: anyone, signed in or not;
- private: the author's followers and the accounts mentioned in it;
- direct: only the accounts mentioned in it;
- a reblog is seen only if its own visibility allows it AND the reblogged status is seen.

Endpoints answer 404 (never 403) for a status the viewer may not see, so its
existence does not leak.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, and_, bindparam, cast, exists, func, or_, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.models import Account, Block, Follow, Mention, Mute, Status

OPEN = ("public", "unlisted")

# Hot queries are built once with the viewer as a bound parameter (building a SQLAlchemy
# expression costs more CPU than running the query): pass VIEWER where an id is expected
# and `viewer_id=...` when executing.
VIEWER = bindparam("viewer_id", type_=BigInteger)


def _blocked_between(author_id, viewer_id: int) -> ColumnElement:
    return or_(
        exists().where(Block.account_id == author_id, Block.target_account_id == viewer_id),
        exists().where(Block.account_id == viewer_id, Block.target_account_id == author_id),
    )


def _rules(status, viewer_id: int | None) -> ColumnElement:
    """The rules for one status row (`status` is Status or an alias of it), reblogs aside."""
    author_available = exists().where(Account.id == status.account_id, Account.suspended_at.is_(None))
    alive = and_(status.deleted_at.is_(None), author_available)
    if viewer_id is None:
        return and_(alive, status.visibility.in_(OPEN))
    mentioned = exists().where(Mention.status_id == status.id, Mention.account_id == viewer_id)
    following = exists().where(Follow.account_id == viewer_id, Follow.target_account_id == status.account_id)
    audience = or_(
        status.visibility.in_(OPEN),
        and_(status.visibility == "private", or_(following, mentioned)),
        and_(status.visibility == "direct", mentioned),
    )
    return and_(alive, or_(status.account_id == viewer_id, and_(~_blocked_between(status.account_id, viewer_id), audience)))


def visible_to(viewer_id: int | None, status=Status) -> ColumnElement:
    """A WHERE condition on `status` (Status or an alias): rows `viewer_id` may see
    (None: an anonymous visitor)."""
    original = aliased(Status)
    reblog_ok = or_(
        status.reblog_of_id.is_(None),
        exists().where(original.id == status.reblog_of_id, _rules(original, viewer_id)),
    )
    return and_(_rules(status, viewer_id), reblog_ok)


def not_muted_by(viewer_id: int | None, status=Status) -> ColumnElement:
    """Statuses whose author the viewer has not muted (threads and timelines hide those;
    fetching one by id still works, as in Mastodon)."""
    if viewer_id is None:
        return true()
    return ~exists().where(
        Mute.account_id == viewer_id, Mute.target_account_id == status.account_id,
        or_(Mute.expires_at.is_(None), Mute.expires_at > func.now()),
    )


def boosted_not_muted_by(viewer_id: int, status=Status) -> ColumnElement:
    """Statuses that are not boosts of a post whose author the viewer muted (Mastodon's home and
    list feeds check the boosted post's author as the booster)."""
    original = aliased(Status)
    return or_(status.reblog_of_id.is_(None),
               exists().where(original.id == status.reblog_of_id, not_muted_by(viewer_id, original)))


def mentions_nobody_hidden_by(viewer_id: int, status=Status) -> ColumnElement:
    """Statuses that mention no one the viewer blocks or mutes, and boosts of such statuses:
    Mastodon leaves those out of home timelines and lists (not out of threads or a status
    fetched by id)."""
    mentioned = aliased(Mention)
    # Correlated explicitly: the viewer may be a column two queries up (the notify follower in
    # notifications._in_subscribers_home), which SQLAlchemy's automatic correlation, looking only
    # at the query just around, would have turned into a FROM of its own: anyone's block then hid
    # the post from everyone.
    hidden = or_(
        exists().where(Block.account_id == viewer_id, Block.target_account_id == mentioned.account_id)
        .correlate_except(Block),
        exists().where(Mute.account_id == viewer_id, Mute.target_account_id == mentioned.account_id,
                       or_(Mute.expires_at.is_(None), Mute.expires_at > func.now())).correlate_except(Mute),
    )
    # A boost counts what the boosted post mentions (a boost row mentions no one itself).
    return ~exists().where(mentioned.status_id.in_([status.id, status.reblog_of_id]), mentioned.silent.is_(False),
                           hidden)


def follow_covers_language(status=Status) -> ColumnElement:
    """On a Follow row of the status's author: the follow takes the status's language (a
    follow's `languages`; none set: all), as Mastodon's home and list feeds. Boosts and posts
    of no language are always taken."""
    return or_(status.reblog_of_id.is_not(None), status.language.is_(None), Follow.languages.is_(None),
               cast(Follow.languages, JSONB).has_key(status.language))


def in_followed_languages(viewer_id: int, status=Status) -> ColumnElement:
    """Statuses not left out by the language of the viewer's follow of their author (if any)."""
    return ~exists().where(Follow.account_id == viewer_id, Follow.target_account_id == status.account_id,
                           ~follow_covers_language(status))


def shown_in_lists_of(viewer_id: int, status=Status) -> ColumnElement:
    """What a list of the viewer's shows of its members' posts (the list timeline, and its stream):
    what they may see, minus muted authors (of a boost or of the boosted post), posts mentioning
    someone they block or mute, and posts in a language their follow leaves out."""
    return and_(visible_to(viewer_id, status), not_muted_by(viewer_id, status), boosted_not_muted_by(viewer_id, status),
                mentions_nobody_hidden_by(viewer_id, status), in_followed_languages(viewer_id, status))


def _visible_ids_query(viewer):
    return select(Status.id).where(db.any_of(Status.id), visible_to(viewer))


_VISIBLE_IDS = {True: _visible_ids_query(VIEWER), False: _visible_ids_query(None)}


async def visible_ids(session: AsyncSession, viewer: Account | None, ids: list[int]) -> set[int]:
    """The subset of `ids` that `viewer` may see, in one query."""
    if not ids:
        return set()
    viewer_id = viewer.id if viewer is not None else None
    found = await session.exec(_VISIBLE_IDS[viewer_id is not None], params={"ids": list(ids), "viewer_id": viewer_id})
    return set(found.all())


async def can_see(session: AsyncSession, viewer: Account | None, status: Status | None) -> bool:
    """May `viewer` (None: anonymous) see `status`? Asks the database with the same rules."""
    if status is None or status.id is None:
        return False
    return bool(await visible_ids(session, viewer, [status.id]))
