"""What an account does to someone's status: favourite, reblog (boost), bookmark, pin,
mute its conversation; and the lists those make.

    status = await favourite(account, status_id)          # each write returns the Status to show
    status = await unfavourite(account, status_id)
    reblog = await reblog(account, user, status_id, visibility=None)   # the boost (a Status)
    status = await unreblog(account, status_id)
    status = await bookmark(account, status_id) / unbookmark(...)
    status = await pin(account, status_id) / unpin(...)
    status = await mute_conversation(account, status_id) / unmute_conversation(...)

    rows = await favourites_of(session, account, page)     # [(favourite id, Status)], newest first
    rows = await bookmarks_of(session, account, page)
    rows = await favourited_by(session, viewer, status, page)   # [(favourite id, Account)]
    rows = await reblogged_by(session, viewer, status, page)    # [(reblog id, Account)]

Rules (Mastodon's):
- Every action needs the status to be visible to the caller (404 "Record not found"
  otherwise, also for deleted ones). An id of a boost acts on the boosted status.
- Doing something twice is the same as doing it once, and undoing what was never
  done is a 200: each write is an INSERT ... ON CONFLICT DO NOTHING RETURNING or a
  DELETE ... RETURNING, and counts move (`x = x + 1`, never below 0) only when a row
  really appeared or went, so concurrent and repeated requests never drift.
- Reblog: not someone else's private post, never a direct one (403 "This action is not
  allowed", as Mastodon, for a post the caller can see but not boost). A boost of a
  private post is private; otherwise `visibility` (public/unlisted/private) or the user's
  default. New boosts spend the posting budget (rate_limits family "statuses").
- Favourite: new favourites spend rate_limits family "favourites" (429 past it).
- Pin: own statuses only, not boosts, not direct, at most PIN_LIMIT (422 with Mastodon's
  messages).
Each write is one transaction; the hooks below run inside it.
"""
from __future__ import annotations

from sqlalchemy import delete, func, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.errors import ApiError, Forbidden, NotFound, ValidationFailed
from app.models import (Account, Bookmark, ConversationMute, Favourite, Status, StatusPin, Tombstone, User)
from app.models.base import utcnow
from app.services import feeds, notifications, rate_limits, relationships, statuses, visibility

PIN_LIMIT = 5  # Mastodon's StatusPinValidator::PIN_LIMIT
REBLOG_VISIBILITIES = ("public", "unlisted", "private")
HIDDEN = ("private", "direct")


# -- hooks ------------------------------------------------------------------------------------
# Notifications, home feeds, streaming and federation (Like/Announce/Undo) plug in here,
# each with `jobs.defer(session, ...)` so the side effect commits with the interaction.

async def on_favourited(session: AsyncSession, favourite: Favourite, status: Status) -> None:
    """`favourite.account_id` favourited `status` (runs inside the favouriting transaction)."""
    await notifications.favourited(session, favourite)


async def on_unfavourited(session: AsyncSession, account_id: int, status: Status) -> None:
    """`account_id` took back its favourite of `status` (inside that transaction)."""


async def on_reblogged(session: AsyncSession, reblog: Status, original: Status) -> None:
    """`reblog` (a new Status row) boosts `original` (inside the reblogging transaction)."""
    feeds.status_created(session, reblog)  # home feeds, with Mastodon's boost rules
    await notifications.reblogged(session, reblog)


async def on_unreblogged(session: AsyncSession, reblog: Status, original: Status) -> None:
    """`reblog` was undone: it is soft-deleted already (inside that transaction)."""
    feeds.status_deleted(session, reblog)


# -- finding the target -----------------------------------------------------------------------

async def _visible_target(session: AsyncSession, account: Account, status_id) -> Status:
    """The status the caller acts on: visible to them (404 otherwise); a boost stands for
    the boosted status."""
    status = await _visible(session, account, status_id)
    if status.reblog_of_id is not None:
        status = await _visible(session, account, status.reblog_of_id)
    return status


async def _visible(session: AsyncSession, account: Account, raw_id) -> Status:
    """statuses.find_visible's answer through visibility's prebuilt query (building the rules
    as a new SQLAlchemy expression took longer than the rest of a favourite request)."""
    status_id = statuses.parse_id(raw_id)
    status = await session.get(Status, status_id) if status_id is not None else None
    if status is None or not await visibility.can_see(session, account, status):
        raise NotFound()
    return status


async def _fresh(session: AsyncSession, status_id: int) -> Status:
    """The row as it is now (counts were changed with SQL behind the ORM's back)."""
    return await session.get(Status, status_id, populate_existing=True)


async def _bump(session: AsyncSession, status_id: int, column, delta: int) -> None:
    await session.execute(update(Status).where(Status.id == status_id)
                          .values({column: func.greatest(column + delta, 0)}))


# -- favourites -------------------------------------------------------------------------------

async def favourite(account: Account, status_id) -> Status:
    spent = None
    try:
        async with db.session() as session:
            status = await _visible_target(session, account, status_id)
            already = (await session.exec(select(Favourite.id).where(
                Favourite.account_id == account.id, Favourite.status_id == status.id))).first()
            if already is None:
                spent = await rate_limits.spend("favourites", account.id)  # 429 before anything is written
                row = (await session.execute(
                    insert(Favourite).values(account_id=account.id, status_id=status.id, created_at=utcnow())
                    .on_conflict_do_nothing(index_elements=["account_id", "status_id"])
                    .returning(Favourite.id))).first()
                if row is None:  # a concurrent duplicate inserted nothing, so it counts nothing
                    await rate_limits.refund("favourites", account.id, spent)
                    spent = None
                else:
                    await _bump(session, status.id, Status.favourites_count, +1)
                    await on_favourited(session, await session.get(Favourite, row[0]), status)
            return await _fresh(session, status.id)
    except BaseException:
        await rate_limits.refund("favourites", account.id, spent)  # rolled back: nothing happened
        raise


async def unfavourite(account: Account, status_id) -> Status:
    async with db.session() as session:
        status = await _visible_target(session, account, status_id)
        gone = (await session.execute(
            delete(Favourite).where(Favourite.account_id == account.id, Favourite.status_id == status.id)
            .returning(Favourite.id))).first()
        if gone is not None:
            await _bump(session, status.id, Status.favourites_count, -1)
            await on_unfavourited(session, account.id, status)
        return await _fresh(session, status.id)


# -- reblogs ----------------------------------------------------------------------------------

def _reblog_visibility(original: Status, asked: str | None, user: User | None, account: Account) -> str:
    if original.visibility in HIDDEN:
        return original.visibility  # a boost of a private post stays with the followers
    if asked not in (None, ""):
        if asked not in REBLOG_VISIBILITIES:
            # With `details`, as the OpenAPI description asks of this endpoint's 422.
            raise ValidationFailed({"visibility": [("ERR_INCLUSION", "is not included in the list")]})
        chosen = asked
    else:
        default = user.default_privacy if user else "public"
        chosen = default if default in REBLOG_VISIBILITIES else "public"
    if chosen == "public" and account.silenced_at is not None:
        chosen = "unlisted"  # as for posts: a limited account reaches only its followers
    return chosen


async def reblog(account: Account, user: User | None, status_id, visibility_param: str | None = None) -> Status:
    """Boost a status; boosting again returns the existing boost."""
    async with db.session() as session:
        original = await _visible_target(session, account, status_id)
        # Mastodon's StatusPolicy#reblog?: never a direct post; a private one only one's own.
        if original.visibility == "direct" or (original.visibility == "private"
                                               and original.account_id != account.id):
            raise Forbidden()
        existing = (await session.exec(select(Status).where(
            Status.account_id == account.id, Status.reblog_of_id == original.id, Status.deleted_at.is_(None))
        )).first()
        if existing is not None:
            return existing
        chosen = _reblog_visibility(original, visibility_param, user, account)
        await rate_limits.check("statuses", account.id)
        reblog_id = (await session.execute(text("SELECT starling_id()"))).scalar_one()
        now = utcnow()
        activity_uri = f"{account.uri}/statuses/{reblog_id}/activity"
        inserted = (await session.execute(
            insert(Status).values(
                id=reblog_id, uri=activity_uri, url=activity_uri, local=account.domain is None,
                account_id=account.id, reblog_of_id=original.id, visibility=chosen, text="", content="",
                spoiler_text="", sensitive=False, language=None, replies_count=0, reblogs_count=0,
                favourites_count=0, created_at=now, updated_at=now)
            # ux_statuses_reblog: one live boost per account and post, also under races.
            .on_conflict_do_nothing(index_elements=["account_id", "reblog_of_id"],
                                    index_where=text("reblog_of_id IS NOT NULL AND deleted_at IS NULL"))
            .returning(Status.id))).first()
        if inserted is None:  # a concurrent request boosted it first
            return (await session.exec(select(Status).where(
                Status.account_id == account.id, Status.reblog_of_id == original.id,
                Status.deleted_at.is_(None)))).one()
        await _bump(session, original.id, Status.reblogs_count, +1)
        await session.execute(update(Account).where(Account.id == account.id).values(
            statuses_count=Account.statuses_count + 1, last_status_at=now))
        boost = await session.get(Status, reblog_id)
        await on_reblogged(session, boost, original)
    await rate_limits.spend("statuses", account.id, refuse=False)
    return boost


async def unreblog(account: Account, status_id) -> Status:
    """Undo one's boost (soft delete, as deleting a status); returns the boosted status."""
    async with db.session() as session:
        original = await _visible_target(session, account, status_id)
        now = utcnow()
        gone = (await session.execute(
            update(Status).where(Status.account_id == account.id, Status.reblog_of_id == original.id,
                                 Status.deleted_at.is_(None))
            .values(deleted_at=now, updated_at=now).returning(Status.id))).first()
        if gone is not None:
            boost = await _fresh(session, gone[0])
            session.add(Tombstone(uri=boost.uri, account_id=account.id))
            await _bump(session, original.id, Status.reblogs_count, -1)
            await session.execute(update(Account).where(Account.id == account.id).values(
                statuses_count=func.greatest(Account.statuses_count - 1, 0)))
            await on_unreblogged(session, boost, original)
            await session.flush()
        return await _fresh(session, original.id)


# -- bookmarks --------------------------------------------------------------------------------

async def bookmark(account: Account, status_id) -> Status:
    async with db.session() as session:
        status = await _visible_target(session, account, status_id)
        await session.execute(insert(Bookmark).values(account_id=account.id, status_id=status.id, created_at=utcnow())
                              .on_conflict_do_nothing(index_elements=["account_id", "status_id"]))
        return status


async def unbookmark(account: Account, status_id) -> Status:
    async with db.session() as session:
        status = await _visible_target(session, account, status_id)
        await session.execute(delete(Bookmark).where(Bookmark.account_id == account.id,
                                                     Bookmark.status_id == status.id))
        return status


# -- pins -------------------------------------------------------------------------------------

def _unpinnable(message: str) -> ApiError:
    return ApiError(f"Validation failed: {message}", 422)


async def pin(account: Account, status_id) -> Status:
    async with db.session() as session:
        status = await statuses.find_visible(session, account, status_id)
        if status.reblog_of_id is not None:
            raise _unpinnable("A boost cannot be pinned")
        if status.account_id != account.id:
            raise _unpinnable("Someone else's post cannot be pinned")
        if status.visibility == "direct":
            raise _unpinnable("Posts that are only visible to mentioned users cannot be pinned")
        # One pinning at a time per account, so two concurrent pins cannot both take the last place.
        await session.execute(select(Account.id).where(Account.id == account.id).with_for_update())
        pinned = set((await session.exec(select(StatusPin.status_id).where(StatusPin.account_id == account.id))).all())
        if status.id in pinned:
            return status  # pinning again changes nothing
        if len(pinned) >= PIN_LIMIT:
            raise _unpinnable("You have already pinned the maximum number of posts")
        session.add(StatusPin(account_id=account.id, status_id=status.id, created_at=utcnow()))
        return status


async def unpin(account: Account, status_id) -> Status:
    async with db.session() as session:
        status = await statuses.find_visible(session, account, status_id)
        await session.execute(delete(StatusPin).where(StatusPin.account_id == account.id,
                                                      StatusPin.status_id == status.id))
        return status


# -- conversation mutes -----------------------------------------------------------------------

async def _conversation_of(session: AsyncSession, account: Account, status_id) -> tuple[Status, int]:
    status = await statuses.find_visible(session, account, status_id)
    target = status  # a boost mutes the boosted post's thread
    if status.reblog_of_id is not None:
        target = await statuses.find_visible(session, account, status.reblog_of_id)
    conversation_id = target.conversation_id
    if conversation_id is None:
        raise ValidationFailed({"conversation": [("ERR_BLANK", "can't be blank")]})
    return status, conversation_id


async def mute_conversation(account: Account, status_id) -> Status:
    """Mastodon's docs ask for a thread one takes part in, but Mastodon itself accepts any
    visible status; so do we (it only silences notifications from that thread)."""
    async with db.session() as session:
        status, conversation_id = await _conversation_of(session, account, status_id)
        await session.execute(insert(ConversationMute).values(account_id=account.id, conversation_id=conversation_id,
                                                              created_at=utcnow())
                              .on_conflict_do_nothing(index_elements=["account_id", "conversation_id"]))
        return status


async def unmute_conversation(account: Account, status_id) -> Status:
    async with db.session() as session:
        status, conversation_id = await _conversation_of(session, account, status_id)
        await session.execute(delete(ConversationMute).where(ConversationMute.account_id == account.id,
                                                             ConversationMute.conversation_id == conversation_id))
        return status


# -- lists ------------------------------------------------------------------------------------
# `page` is an app.api.pagination.Page. Mastodon pages these by the favourite, bookmark or
# boost row id (not the status id), so the Link header carries those ids.

async def _own_list(session: AsyncSession, model, account: Account, page) -> list[tuple[int, Status]]:
    query = (select(model.id, Status).join(Status, Status.id == model.status_id)
             .where(model.account_id == account.id, visibility.visible_to(account.id)))
    rows = (await session.exec(page.apply(query, model.id))).all()
    return page.order([(row_id, status) for row_id, status in rows], key=lambda pair: pair[0])


async def favourites_of(session: AsyncSession, account: Account, page) -> list[tuple[int, Status]]:
    """GET /api/v1/favourites: what `account` favourited and can still see, newest favourite first."""
    return await _own_list(session, Favourite, account, page)


async def bookmarks_of(session: AsyncSession, account: Account, page) -> list[tuple[int, Status]]:
    return await _own_list(session, Bookmark, account, page)


def _listable_for(query, viewer: Account | None):
    """Accounts that may appear in a list shown to `viewer`: not suspended, and for a signed-in
    viewer none they block, are blocked by, or mute (as Mastodon's favourited_by)."""
    query = query.where(relationships.listable())
    if viewer is not None:
        query = query.where(~relationships.blocks_between(viewer.id, Account.id),
                            ~relationships.mutes(viewer.id, Account.id))
    return query


async def favourited_by(session: AsyncSession, viewer: Account | None, status: Status,
                        page) -> list[tuple[int, Account]]:
    target = status.reblog_of_id or status.id
    query = _listable_for(select(Favourite.id, Account).join(Account, Account.id == Favourite.account_id)
                          .where(Favourite.status_id == target), viewer)
    rows = (await session.exec(page.apply(query, Favourite.id))).all()
    return page.order([(row_id, account) for row_id, account in rows], key=lambda pair: pair[0])


async def reblogged_by(session: AsyncSession, viewer: Account | None, status: Status,
                       page) -> list[tuple[int, Account]]:
    """Accounts whose live boost of the status the viewer may see (a private boost only to
    the booster's followers)."""
    target = status.reblog_of_id or status.id
    # A CTE keeps the visibility subqueries (which mention accounts) apart from the account list.
    boosts = (select(Status.id.label("boost_id"), Status.account_id.label("booster_id"))
              .where(Status.reblog_of_id == target, visibility.visible_to(viewer.id if viewer else None))
              .cte("boosts"))
    query = _listable_for(select(boosts.c.boost_id, Account).join(Account, Account.id == boosts.c.booster_id),
                          viewer)
    rows = (await session.exec(page.apply(query, boosts.c.boost_id))).all()
    return page.order([(row_id, account) for row_id, account in rows], key=lambda pair: pair[0])
