"""Account search (the same for every backend: PostgreSQL indexes from migration 0005).

    accounts = await search_accounts(session, viewer_id, AccountQuery(text="ali", limit=40))

Matches by prefix, case-insensitively: the username, the whole display name or any word
of it, and `user@domain` (a username prefix and a domain prefix; our own domain means
local accounts). Never suspended or not-yet-approved accounts, never accounts blocking the
searcher or blocked by them. Accounts that opted out of discovery (`discoverable` false)
are found only by their followers, by themselves, or by their exact username (as Mastodon
always finds an exact match). Ranked: exact username first, then followed accounts, then by
followers.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import case, func, literal_column, or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import get_settings
from app.models import Account, User
from app.services.relationships import blocks_between, follows, known_joined

WORD = re.compile(r"\w+")
MAX_WORDS = 8


@dataclass(frozen=True)
class AccountQuery:
    text: str
    following: bool = False
    offset: int = 0
    limit: int = 40


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _parse(raw: str) -> tuple[str, str | None]:
    """(username or name part, domain part or None) from `ali`, `@ali`, `ali@exa`, `@ali@exa`."""
    text = raw.strip().lstrip("@")
    if "@" in text:
        name, _, domain = text.partition("@")
        return name.strip(), domain.strip().lower()
    return text, None


def _matches(raw: str):
    name, domain = _parse(raw)
    if domain is not None:
        # user@domain: only usernames, on that domain (ours: local accounts).
        username = func.lower(Account.username).like(_like_prefix(name.lower()), escape="\\")
        local = get_settings().domain.lower()
        if local.startswith(domain):
            return or_(username & Account.domain.is_(None),
                       username & func.lower(Account.domain).like(_like_prefix(domain), escape="\\"))
        return username & func.lower(Account.domain).like(_like_prefix(domain), escape="\\")
    lowered = name.lower()
    conditions = [func.lower(Account.username).like(_like_prefix(lowered), escape="\\"),
                  func.lower(Account.display_name).like(_like_prefix(lowered), escape="\\")]
    words = WORD.findall(lowered)[:MAX_WORDS]
    if words:
        # Word prefixes in display names; \w+ words carry no tsquery syntax.
        prefixes = " & ".join(f"'{w}':*" for w in words)
        vector = func.to_tsvector(literal_column("'simple'::regconfig"), Account.display_name)
        conditions.append(vector.op("@@")(func.to_tsquery(literal_column("'simple'::regconfig"), prefixes)))
    return or_(*conditions)


async def search_accounts(session: AsyncSession, viewer_id: int | None, q: AccountQuery) -> list[Account]:
    name, _ = _parse(q.text)
    if not name:
        return []
    exact = func.lower(Account.username) == name.lower()
    query = (select(Account).outerjoin(User, User.account_id == Account.id)
             .where(_matches(q.text), Account.suspended_at.is_(None), known_joined()))
    if viewer_id is None:
        query = query.where(or_(Account.discoverable.is_(True), exact))
        followed = literal_column("false")
    else:
        followed = follows(viewer_id, Account.id)
        query = query.where(~blocks_between(viewer_id, Account.id))
        if q.following:
            query = query.where(followed)
        else:
            query = query.where(or_(Account.discoverable.is_(True), exact, followed, Account.id == viewer_id))
    query = query.order_by(case((exact, 0), else_=1), case((followed, 0), else_=1),
                           Account.followers_count.desc(), Account.id).offset(q.offset).limit(q.limit)
    return list((await session.exec(query)).all())
