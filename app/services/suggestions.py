"""Who to follow (GET /api/v2/suggestions).

    suggestions = await suggest(session, viewer_id, limit=40)      # [(Account, ["friends_of_friends"])]
    await dismiss(session, viewer_id, "123")                       # never suggest that account again

First, accounts followed by many of the accounts the viewer follows (at most FRIENDS of the
most recently followed are consulted, so a large follow list stays cheap): source
"friends_of_friends". Then the most followed local accounts fill up the list: "most_followed".
Never the viewer, accounts they already follow or requested, blocks either way, mutes,
accounts they dismissed, suspended, unapproved or not discoverable accounts.
"""
from __future__ import annotations

from sqlalchemy import and_, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import aliased
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import Account, Follow, FollowRequest, SuggestionDismissal
from app.services.ids import parse_id
from app.services.relationships import blocks_between, follows, listable, mutes

FRIENDS = 200


def _candidates(viewer_id: int):
    requested = aliased(FollowRequest)
    return and_(
        Account.id != viewer_id, Account.discoverable.is_(True), listable(),
        ~follows(viewer_id, Account.id), ~blocks_between(viewer_id, Account.id), ~mutes(viewer_id, Account.id),
        ~select(requested.id).where(requested.account_id == viewer_id, requested.target_account_id == Account.id)
        .exists(),
        ~select(SuggestionDismissal.id).where(SuggestionDismissal.account_id == viewer_id,
                                              SuggestionDismissal.target_account_id == Account.id).exists(),
    )


async def dismiss(session: AsyncSession, viewer_id: int, raw_account_id) -> None:
    """Take an account out of the viewer's suggestions for good. As Mastodon, nothing to
    report: an unknown or malformed id, or an account never suggested, changes nothing."""
    account_id = parse_id(raw_account_id)
    if account_id is None or account_id == viewer_id or await session.get(Account, account_id) is None:
        return
    await session.execute(insert(SuggestionDismissal).values(account_id=viewer_id, target_account_id=account_id)
                          .on_conflict_do_nothing())


async def suggest(session: AsyncSession, viewer_id: int, *, limit: int) -> list[tuple[Account, list[str]]]:
    friends = (select(Follow.target_account_id).where(Follow.account_id == viewer_id)
               .order_by(Follow.id.desc()).limit(FRIENDS).subquery())
    theirs = aliased(Follow)
    ranked = (select(theirs.target_account_id, func.count().label("n"))
              .where(theirs.account_id.in_(select(friends.c.target_account_id)))
              .group_by(theirs.target_account_id).subquery())
    query = (select(Account).join(ranked, ranked.c.target_account_id == Account.id).where(_candidates(viewer_id))
             .order_by(ranked.c.n.desc(), Account.followers_count.desc(), Account.id).limit(limit))
    chosen = [(a, ["friends_of_friends"]) for a in (await session.exec(query)).all()]
    if len(chosen) < limit:
        seen = [a.id for a, _ in chosen]
        popular = select(Account).where(_candidates(viewer_id), Account.domain.is_(None))
        if seen:
            popular = popular.where(Account.id.not_in(seen))
        popular = popular.order_by(Account.followers_count.desc(), Account.id).limit(limit - len(chosen))
        chosen += [(a, ["most_followed"]) for a in (await session.exec(popular)).all()]
    return chosen
