"""GET /api/v2/search?resolve=true: looking up accounts and posts on other servers.

    resolve.install(resolver)                              # app/main.py, with federation's resolver
    found = await resolve.lookup(viewer, text, kind)       # network; None when there is nothing to resolve
    results = await resolve.search(session, viewer, request, found)
    accounts = await resolve.account_first(session, viewer, accounts, found, following=False, limit=40)

As Mastodon: a query of the form `user@domain` or `@user@domain` looks the account up on its
server (fetched profiles are reused for a day) and puts it first among the accounts; an
http(s) URL is answered with only what the URL is (an account or a post), whether already
known here or fetched. Only signed-in searches resolve (the API enforces it), and only on
the first page. A found post is shown only if the searcher may see it (visibility.py); a
found account only if it may be listed and no block stands between the two.

Anything that goes wrong on the remote side (a server down, a malformed document, a
refused address) means no extra result, never an error: a search must not fail because
another server did. The app does not import federation/: the composition root installs an
object with the `Resolver` shape, and without one only known URLs are found.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from sqlalchemy import or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db
from app.config import get_settings
from app.models import Account, Status
from app.services import relationships, remote_statuses, visibility
from app.services.search import KINDS, SearchRequest, SearchResults
from app.services.search import search as full_text_search

log = logging.getLogger("starling.search")

# `user@domain` or `@user@domain`: the username as Mastodon accepts remote ones, one @ before
# the domain, no spaces or slashes. Anything else (`@@x@`, `@a@b@c`) is not resolved.
ACCT = re.compile(r"^@?([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)@([a-z0-9.:\-\u0080-\uffff]+)$", re.IGNORECASE)
MAX_URL = 2048


@dataclass(frozen=True)
class Found:
    kind: str  # "account" | "status"
    id: int


class Resolver(Protocol):
    """What federation provides. Both return None (or raise) when nothing usable was found."""

    async def resolve_account(self, username: str, domain: str) -> Found | None: ...

    async def resolve_url(self, url: str) -> Found | None: ...


@dataclass(frozen=True)
class Lookup:
    is_url: bool
    found: Found | None


_resolver: Resolver | None = None


def install(resolver: Resolver | None) -> Resolver | None:
    """Use `resolver` from now on (None: resolve nothing remotely); returns the previous one."""
    global _resolver
    previous, _resolver = _resolver, resolver
    return previous


def installed() -> Resolver | None:
    return _resolver


def acct_query(text: str) -> tuple[str, str] | None:
    match = ACCT.match(text.strip())
    return (match.group(1), match.group(2).lower()) if match else None


def url_query(text: str) -> str | None:
    value = text.strip()
    if not re.match(r"^https?://", value, re.IGNORECASE) or len(value) > MAX_URL or any(c.isspace() for c in value):
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises on a malformed port
    except ValueError:
        return None
    return value if parts.hostname else None


def _is_local(host: str) -> bool:
    return host.lower() == get_settings().domain.lower()


async def lookup(viewer: Account, text: str, kind: str | None) -> Lookup | None:
    """Resolve `text` if it is an address or a URL (None when it is neither, or `kind`
    excludes what it could be)."""
    if kind is not None and kind not in KINDS:
        return None  # the search refuses the type itself
    url = url_query(text)
    if url is not None:
        if kind not in (None, "accounts", "statuses"):
            return Lookup(is_url=True, found=None)
        found = await _known_url(url)
        if found is None and not _is_local(urlsplit(url).netloc):
            found = await _ask(lambda r: r.resolve_url(url))
        return Lookup(is_url=True, found=found)
    acct = acct_query(text)
    if acct is None or kind not in (None, "accounts") or _is_local(acct[1]):
        return None  # local names are found by the ordinary search
    return Lookup(is_url=False, found=await _ask(lambda r: r.resolve_account(*acct)))


async def _ask(call) -> Found | None:
    resolver = _resolver
    if resolver is None:
        return None
    try:
        return await call(resolver)
    except Exception:  # a remote server's failure, whatever its shape, is "nothing found"
        log.warning("resolving a search query failed", exc_info=True)
        return None


async def _known_url(url: str) -> Found | None:
    async with db.session() as session:
        status = await remote_statuses.find_known(session, url)
        if status is not None:
            return Found("status", status.id)
        account = (await session.exec(select(Account.id).where(or_(Account.uri == url, Account.url == url))
                                      .order_by((Account.uri == url).desc()).limit(1))).first()
        return Found("account", account) if account is not None else None


async def _visible_account(session: AsyncSession, viewer: Account, account_id: int,
                           following: bool) -> Account | None:
    query = select(Account).where(Account.id == account_id, relationships.listable(),
                                  ~relationships.blocks_between(viewer.id, Account.id))
    if following:
        query = query.where(relationships.follows(viewer.id, Account.id))
    return (await session.exec(query)).first()


async def search(session: AsyncSession, viewer: Account | None, request: SearchRequest,
                 resolved: Lookup | None) -> SearchResults:
    """The search results, with what `lookup` resolved: alone for a URL, first among the
    accounts for an address."""
    found = resolved.found if resolved is not None else None
    account = status = None
    if found is not None and viewer is not None:
        if found.kind == "account" and request.kind in (None, "accounts"):
            account = await _visible_account(session, viewer, found.id, request.following)
        elif found.kind == "status" and request.kind in (None, "statuses"):
            candidate = await session.get(Status, found.id)
            status = candidate if await visibility.can_see(session, viewer, candidate) else None
    if resolved is not None and resolved.is_url:
        return SearchResults(accounts=[account] if account else [], statuses=[status] if status else [])
    results = await full_text_search(session, viewer, request)
    results.accounts = _first(account, results.accounts, request.limit)
    return results


async def account_first(session: AsyncSession, viewer: Account, accounts: list[Account], resolved: Lookup | None,
                        *, following: bool, limit: int) -> list[Account]:
    """GET /api/v1/accounts/search?resolve=true: the account an address resolved to, first
    among `accounts`, if the searcher may see it."""
    found = resolved.found if resolved is not None else None
    if found is None or found.kind != "account":
        return accounts
    return _first(await _visible_account(session, viewer, found.id, following), accounts, limit)


def _first(account: Account | None, accounts: list[Account], limit: int) -> list[Account]:
    if account is None:
        return accounts
    return ([account] + [a for a in accounts if a.id != account.id])[:limit]
