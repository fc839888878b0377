"""Follows and follow requests: the write side, with the counts kept right.

    rel = await follows.follow(session, me.id, target_id, FollowOptions(reblogs=False))
    rel = await follows.unfollow(session, me.id, target_id)
    rel = await follows.authorize(session, me.id, requester_id)     # or reject(...)
    rel = await follows.remove_from_followers(session, me.id, follower_id)
    await follows.sever(session, a_id, b_id)      # every follow and request between two accounts

Each action returns the caller's Relationship to the other account afterwards.

`accounts.followers_count` / `following_count` move only together with a row that
was really inserted or deleted (INSERT ... ON CONFLICT DO NOTHING RETURNING and
DELETE ... RETURNING), with `UPDATE ... SET x = x + 1`, so concurrent and repeated
requests never drift. Both counter rows are updated in account-id order so that
two accounts following each other at the same moment cannot deadlock.

Following an unlocked local account follows at once; a locked one, or a remote
one (which must accept over ActivityPub), gets a FollowRequest instead.
New follows and requests spend a per-account budget (settings.rate_limit_follows
per settings.rate_limit_follows_window, Mastodon's 400 a day) when
settings.rate_limits is on; changing the options of an existing follow is free.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import ApiError, Forbidden, NotFound
from app.models import Account, Follow, FollowRequest, ListAccount
from app.services import feeds, notifications, rate_limits, relationships
from app.services.relationships import Relationship

LANGUAGE = re.compile(r"^[a-z]{2,3}$")


@dataclass
class FollowOptions:
    """What the follower asked for; None keeps the current value (or the default for a new follow)."""

    reblogs: bool | None = None
    notify: bool | None = None
    languages: list[str] | None = None  # [] means "all languages" again

    def checked_languages(self) -> list[str] | None:
        if self.languages is None:
            return None
        codes = []
        for code in self.languages:
            text = str(code).strip().lower() if isinstance(code, (str, int)) else ""
            if not LANGUAGE.match(text):
                raise ApiError(f"Validation failed: Languages contains an unsupported language code: {code!r}", 422)
            if text not in codes:
                codes.append(text)
        return codes


# -- the follow budget (rate_limits family "follows") ---------------------------------------

async def budget_headers(account_id: int) -> dict[str, str]:
    """X-RateLimit-* of the follow budget (Mastodon sends them on every follow); {} when limits are off."""
    budget = await rate_limits.current("follows", account_id)
    return rate_limits.headers(budget) if budget is not None else {}


# -- rows and counts ----------------------------------------------------------------------

async def _adjust_counts(session: AsyncSession, follower_id: int, target_id: int, delta: int) -> None:
    changes = {follower_id: Account.following_count, target_id: Account.followers_count}
    for account_id in sorted(changes):  # a fixed lock order: no deadlock between mutual follows
        column = changes[account_id]
        await session.execute(update(Account).where(Account.id == account_id)
                              .values({column: func.greatest(column + delta, 0)}))


async def _insert_follow(session: AsyncSession, follower_id: int, target_id: int, *, show_reblogs: bool,
                         notify: bool, languages: list[str] | None) -> int | None:
    """The new follow's id; None when it existed already."""
    inserted = (await session.execute(
        insert(Follow).values(account_id=follower_id, target_account_id=target_id, show_reblogs=show_reblogs,
                              notify=notify, languages=languages)
        .on_conflict_do_nothing(index_elements=["account_id", "target_account_id"]).returning(Follow.id))).first()
    if inserted is not None:
        await _adjust_counts(session, follower_id, target_id, +1)
        feeds.followed(session, follower_id, target_id)  # their recent posts into the home feed
    return inserted[0] if inserted is not None else None


async def _delete_follow(session: AsyncSession, follower_id: int, target_id: int) -> bool:
    deleted = await session.execute(
        delete(Follow).where(Follow.account_id == follower_id, Follow.target_account_id == target_id)
        .returning(Follow.id))
    if deleted.first() is None:
        return False
    await _adjust_counts(session, follower_id, target_id, -1)
    feeds.unfollowed(session, follower_id, target_id)  # and out of it again
    return True


async def _delete_request(session: AsyncSession, follower_id: int, target_id: int) -> FollowRequest | None:
    row = (await session.execute(
        delete(FollowRequest).where(FollowRequest.account_id == follower_id,
                                    FollowRequest.target_account_id == target_id)
        .returning(FollowRequest.show_reblogs, FollowRequest.notify, FollowRequest.languages))).first()
    if row is None:
        return None
    return FollowRequest(account_id=follower_id, target_account_id=target_id, show_reblogs=row[0], notify=row[1],
                         languages=row[2])


def _changes(options: FollowOptions, languages: list[str] | None) -> dict:
    changes = {}
    if options.reblogs is not None:
        changes["show_reblogs"] = options.reblogs
    if options.notify is not None:
        changes["notify"] = options.notify
    if languages is not None:
        changes["languages"] = languages or None
    return changes


# -- actions ------------------------------------------------------------------------------

async def follow(session: AsyncSession, follower_id: int, target_id: int,
                 options: FollowOptions | None = None) -> Relationship:
    """Follow (or ask to follow) `target_id`; following again changes the options."""
    options = options or FollowOptions()
    languages = options.checked_languages()
    target = await relationships.find_target(session, target_id)
    if target.id == follower_id:
        raise Forbidden("You cannot follow yourself")
    await relationships.pair_lock(session, follower_id, target.id)
    if await relationships.is_blocking(session, follower_id, target.id):
        raise Forbidden("You are blocking this account: unblock it before following")
    if await relationships.is_blocking(session, target.id, follower_id):
        raise Forbidden("You cannot follow this account: it has blocked you")

    changes = _changes(options, languages)
    for model in (Follow, FollowRequest):
        existing = (await session.exec(select(model.id).where(
            model.account_id == follower_id, model.target_account_id == target.id))).first()
        if existing is not None:
            if changes:
                await session.execute(update(model).where(model.id == existing).values(changes))
            return await relationships.for_account(session, follower_id, target.id)

    await rate_limits.spend("follows", follower_id)
    values = dict(show_reblogs=True if options.reblogs is None else options.reblogs,
                  notify=bool(options.notify), languages=languages or None)
    if target.locked or not target.local:
        requested = (await session.execute(
            insert(FollowRequest).values(account_id=follower_id, target_account_id=target.id, **values)
            .on_conflict_do_nothing(index_elements=["account_id", "target_account_id"])
            .returning(FollowRequest.id))).first()
        if requested is not None:
            await notifications.follow_requested(session, requested[0])
    else:
        follow_id = await _insert_follow(session, follower_id, target.id, **values)
        if follow_id is not None:  # accepting a request (authorize) notifies nobody, as in Mastodon
            await notifications.followed(session, follow_id)
    return await relationships.for_account(session, follower_id, target.id)


async def unfollow(session: AsyncSession, follower_id: int, target_id: int) -> Relationship:
    """Stop following, or withdraw a pending request. Not following is not an error."""
    target = await relationships.find_target(session, target_id, allow_suspended=True)
    await relationships.pair_lock(session, follower_id, target.id)
    await _delete_follow(session, follower_id, target.id)
    await _delete_request(session, follower_id, target.id)
    return await relationships.for_account(session, follower_id, target.id)


async def remove_from_followers(session: AsyncSession, account_id: int, follower_id: int) -> Relationship:
    follower = await relationships.find_target(session, follower_id, allow_suspended=True)
    await relationships.pair_lock(session, account_id, follower.id)
    await _delete_follow(session, follower.id, account_id)
    return await relationships.for_account(session, account_id, follower.id)


async def authorize(session: AsyncSession, account_id: int, requester_id: int) -> Relationship:
    """Accept `requester_id`'s pending request to follow `account_id`; 404 when there is none."""
    if requester_id > relationships.MAX_ID:
        raise NotFound()
    await relationships.pair_lock(session, account_id, requester_id)
    # The requester's lists that already hold the account (added while the request was
    # pending) move to the follow: taken off the request first, which is deleted with them.
    listed = (await session.execute(
        update(ListAccount).where(ListAccount.follow_request_id == FollowRequest.id,
                                  FollowRequest.account_id == requester_id,
                                  FollowRequest.target_account_id == account_id)
        .values(follow_request_id=None).returning(ListAccount.id))).scalars().all()
    request = await _delete_request(session, requester_id, account_id)
    if request is None:
        raise NotFound()
    follow_id = await _insert_follow(session, requester_id, account_id, show_reblogs=request.show_reblogs,
                                     notify=request.notify, languages=request.languages)
    if listed:
        if follow_id is None:  # already following (a race): the memberships join that follow
            follow_id = (await session.exec(select(Follow.id).where(
                Follow.account_id == requester_id, Follow.target_account_id == account_id))).one()
        await session.execute(update(ListAccount).where(ListAccount.id.in_(listed)).values(follow_id=follow_id))
    return await relationships.for_account(session, account_id, requester_id)


async def reject(session: AsyncSession, account_id: int, requester_id: int) -> Relationship:
    if requester_id > relationships.MAX_ID:
        raise NotFound()
    await relationships.pair_lock(session, account_id, requester_id)
    if await _delete_request(session, requester_id, account_id) is None:
        raise NotFound()
    return await relationships.for_account(session, account_id, requester_id)


async def authorize_all(session: AsyncSession, account_id: int) -> int:
    """Accept every pending request (Mastodon does this when an account unlocks); how many."""
    requester_ids = (await session.exec(select(FollowRequest.account_id).where(
        FollowRequest.target_account_id == account_id))).all()
    for requester_id in requester_ids:
        try:
            await authorize(session, account_id, requester_id)
        except NotFound:  # withdrawn meanwhile
            pass
    return len(requester_ids)


async def sever(session: AsyncSession, a_id: int, b_id: int) -> None:
    """Remove every follow and follow request between two accounts, both ways (blocks do this)."""
    await relationships.pair_lock(session, a_id, b_id)
    for follower, target in ((a_id, b_id), (b_id, a_id)):
        await _delete_follow(session, follower, target)
        await _delete_request(session, follower, target)


# -- lists --------------------------------------------------------------------------------
# `page` is an app.api.pagination.Page (anything with `apply(query, column)` and `order(rows, key)`).

async def _page(session: AsyncSession, model, account_column, owner_column, owner_id: int, page,
                viewer_id: int | None) -> list[tuple[int, Account]]:
    """(row id, account) pairs, paginated by the follow/request row id as Mastodon does."""
    query = (select(model.id, Account).join(Account, Account.id == account_column)
             .where(owner_column == owner_id, relationships.listable()))
    if viewer_id is not None and viewer_id != owner_id:
        query = query.where(~relationships.blocks_between(viewer_id, Account.id),
                            ~relationships.mutes(viewer_id, Account.id))
    rows = (await session.exec(page.apply(query, model.id))).all()
    return page.order([(row_id, account) for row_id, account in rows], key=lambda pair: pair[0])


async def _collection_hidden(session: AsyncSession, account: Account, viewer_id: int | None) -> bool:
    if viewer_id == account.id:
        return False
    if account.hide_collections:
        return True
    # Mastodon shows nothing of an account's network to someone it blocks.
    return viewer_id is not None and await relationships.is_blocking(session, account.id, viewer_id)


async def followers(session: AsyncSession, account_id: int, page,
                    viewer_id: int | None = None) -> list[tuple[int, Account]]:
    account = await relationships.find_target(session, account_id)
    if await _collection_hidden(session, account, viewer_id):
        return []
    return await _page(session, Follow, Follow.account_id, Follow.target_account_id, account.id, page, viewer_id)


async def following(session: AsyncSession, account_id: int, page,
                    viewer_id: int | None = None) -> list[tuple[int, Account]]:
    account = await relationships.find_target(session, account_id)
    if await _collection_hidden(session, account, viewer_id):
        return []
    return await _page(session, Follow, Follow.target_account_id, Follow.account_id, account.id, page, viewer_id)


async def pending_requests(session: AsyncSession, account_id: int, page) -> list[tuple[int, Account]]:
    """Who asks to follow `account_id`, newest request first."""
    return await _page(session, FollowRequest, FollowRequest.account_id, FollowRequest.target_account_id,
                       account_id, page, None)


async def pending_requests_count(session: AsyncSession, account_id: int) -> int:
    """For CredentialAccount.source.follow_requests_count."""
    query = (select(func.count()).select_from(FollowRequest)
             .join(Account, Account.id == FollowRequest.account_id)
             .where(FollowRequest.target_account_id == account_id, relationships.listable()))
    return int((await session.exec(query)).one())


async def familiar_followers(session: AsyncSession, viewer_id: int,
                             account_ids: list[int]) -> dict[int, list[Account]]:
    """For each account, the accounts the viewer follows that follow it too (hidden networks left out)."""
    ids = await relationships.visible_ids(session, account_ids)
    found: dict[int, list[Account]] = {i: [] for i in ids}
    if not ids:
        return found
    query = (select(Follow.target_account_id, Account).join(Account, Account.id == Follow.account_id)
             .where(Follow.target_account_id.in_(ids), relationships.follows(viewer_id, Follow.account_id),
                    Account.id != viewer_id, Account.hide_collections.is_(False), relationships.listable())
             .order_by(Follow.id.desc()))
    for target_id, account in (await session.exec(query)).all():
        found[target_id].append(account)
    return found
