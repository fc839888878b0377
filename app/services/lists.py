"""Lists: create, rename, delete, and who is in them (accounts the owner follows or asked to
follow, and the owner).

    a_list = await lists.create(session, me, ListDraft(title="Friends"))
    await lists.add_accounts(session, me, a_list.id, [alice.id, bob.id])
    accounts = await lists.accounts(session, me, a_list.id, page)      # newest account first

Membership hangs on the owner's follow of the member (list_accounts.follow_id), or on their
pending request to follow (follow_request_id, moved to the follow when it is accepted:
follows.authorize), so unfollowing someone, or the request going, takes them out of every
list, as in Mastodon. The owner's own membership hangs on nothing. The list's
timeline is read at read time (app.services.timelines.listed); exclusive lists hide
their members from the home timeline there too.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import ApiError, NotFound
from app.models import Account, Follow, FollowRequest, List, ListAccount
from app.models.base import utcnow
from app.models.list import REPLIES_POLICIES
from app.services import relationships
from app.services.ids import MAX_ID
from app.services.statuses import parse_id

MAX_TITLE = 255
PER_ACCOUNT = 50  # lists an account may have (Mastodon's List::PER_ACCOUNT_LIMIT)


@dataclass
class ListDraft:
    """What the owner sent; None keeps the current value (or the default for a new list)."""

    title: str | None = None
    replies_policy: str | None = None
    exclusive: bool | None = None


def _checked(draft: ListDraft, *, creating: bool) -> ListDraft:
    if draft.title is not None or creating:
        title = (draft.title or "").strip()
        if not title:
            raise ApiError("Validation failed: Title can't be blank", 422)
        if len(title) > MAX_TITLE:
            raise ApiError(f"Validation failed: Title is too long (maximum is {MAX_TITLE} characters)", 422)
        draft.title = title
    if draft.replies_policy is not None and draft.replies_policy not in REPLIES_POLICIES:
        raise ApiError("Validation failed: Replies policy is not included in the list "
                       f"({', '.join(REPLIES_POLICIES)})", 422)
    return draft


async def find_list(session: AsyncSession, owner: Account, list_id, *, lock: bool = False) -> List:
    """The owner's list; 404 for a malformed id, someone else's list or no list. `lock`: held
    until the transaction ends, so changes to its members wait for each other."""
    found = None
    parsed = parse_id(list_id)
    if parsed is not None:
        query = select(List).where(List.id == parsed, List.account_id == owner.id)
        found = (await session.exec(query.with_for_update() if lock else query)).first()
    if found is None:
        raise NotFound()
    return found


async def all_of(session: AsyncSession, owner: Account) -> list[List]:
    return list((await session.exec(select(List).where(List.account_id == owner.id).order_by(List.id))).all())


async def create(session: AsyncSession, owner: Account, draft: ListDraft) -> List:
    draft = _checked(draft, creating=True)
    # One owner's creates one at a time (the lock of the pair of the owner with themselves,
    # which nothing else takes), so two at once cannot both pass the count.
    await relationships.pair_lock(session, owner.id, owner.id)
    held = (await session.exec(select(func.count()).select_from(List).where(List.account_id == owner.id))).one()
    if held >= PER_ACCOUNT:
        raise ApiError("Validation failed: You have reached the maximum number of lists", 422)
    a_list = List(account_id=owner.id, title=draft.title, replies_policy=draft.replies_policy or "list",
                  exclusive=bool(draft.exclusive))
    session.add(a_list)
    await session.flush()
    return a_list


async def update(session: AsyncSession, owner: Account, list_id, draft: ListDraft) -> List:
    a_list = await find_list(session, owner, list_id)
    draft = _checked(draft, creating=False)
    if draft.title is not None:
        a_list.title = draft.title
    if draft.replies_policy is not None:
        a_list.replies_policy = draft.replies_policy
    if draft.exclusive is not None:
        a_list.exclusive = draft.exclusive
    a_list.updated_at = utcnow()
    session.add(a_list)
    await session.flush()
    return a_list


async def remove(session: AsyncSession, owner: Account, list_id) -> None:
    a_list = await find_list(session, owner, list_id)
    await session.delete(a_list)


async def accounts(session: AsyncSession, owner: Account, list_id, page) -> list[Account]:
    """Members, newest account first and paginated by account id, as Mastodon's
    `paginate_by_max_id` on the list's accounts (a client pages on with the last account's id);
    `page` None means all of them. Suspended members are not listed (Mastodon's without_suspended)."""
    a_list = await find_list(session, owner, list_id)
    query = (select(Account).join(ListAccount, ListAccount.account_id == Account.id)
             .where(ListAccount.list_id == a_list.id, Account.suspended_at.is_(None)))
    if page is None:
        return list((await session.exec(query.order_by(Account.id.desc()))).all())
    return page.order(list((await session.exec(page.apply(query, Account.id))).all()))


def _account_ids(raw_ids: list) -> list[int]:
    ids = [parse_id(r) if isinstance(r, (str, int)) else None for r in raw_ids]
    if any(i is None for i in ids):
        raise NotFound()
    return list(dict.fromkeys(ids))


async def _ties(session: AsyncSession, owner_id: int, ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """The owner's follows of and pending requests to `ids`: {account id: row id} each."""
    follows = dict((await session.exec(select(Follow.target_account_id, Follow.id).where(
        Follow.account_id == owner_id, Follow.target_account_id.in_(ids)))).all())
    requests = dict((await session.exec(select(FollowRequest.target_account_id, FollowRequest.id).where(
        FollowRequest.account_id == owner_id, FollowRequest.target_account_id.in_(ids)))).all())
    return follows, requests


async def add_accounts(session: AsyncSession, owner: Account, list_id, raw_ids: list) -> None:
    """All or nothing: 404 if one of them is neither followed, asked to follow nor the owner
    (or does not exist), 422 if one is already in the list."""
    # Two adds to the same list wait for each other (the second then finds the member there:
    # 422, not a unique-key 500), and each follow or request to be tied to waits for an
    # unfollow, accept or withdrawal racing it (they hold the pair lock), so the membership
    # is never tied to a row that is gone.
    a_list = await find_list(session, owner, list_id, lock=True)
    ids = _account_ids(raw_ids)
    if not ids:
        return  # nothing to add: fine, as Mastodon (a client saving a list with no change)
    for account_id in sorted(i for i in ids if i != owner.id):
        await relationships.pair_lock(session, owner.id, account_id)
    follows, requests = await _ties(session, owner.id, ids)
    if any(i not in follows and i not in requests and i != owner.id for i in ids):
        raise NotFound()
    present = (await session.exec(select(ListAccount.account_id).where(
        ListAccount.list_id == a_list.id, ListAccount.account_id.in_(ids)))).first()
    if present is not None:
        raise ApiError("Validation failed: Account has already been taken", 422)
    for account_id in ids:
        follow_id = follows.get(account_id)
        session.add(ListAccount(list_id=a_list.id, account_id=account_id, follow_id=follow_id,
                                follow_request_id=None if follow_id else requests.get(account_id)))
    await session.flush()


async def remove_accounts(session: AsyncSession, owner: Account, list_id, raw_ids: list) -> None:
    """Accounts not in the list are fine (Mastodon answers 200 too)."""
    a_list = await find_list(session, owner, list_id)
    ids = [i for i in (parse_id(r) if isinstance(r, (str, int)) else None for r in raw_ids) if i is not None]
    if ids:
        await session.execute(delete(ListAccount).where(ListAccount.list_id == a_list.id,
                                                        ListAccount.account_id.in_(ids)))


async def lists_with(session: AsyncSession, owner: Account, account_id: int) -> list[List]:
    """GET /api/v1/accounts/:id/lists: the owner's lists that hold the account."""
    target = await session.get(Account, account_id) if account_id <= MAX_ID else None
    if target is None:
        raise NotFound()
    return list((await session.exec(select(List).join(ListAccount, ListAccount.list_id == List.id).where(
        List.account_id == owner.id, ListAccount.account_id == account_id).order_by(List.id))).all())
