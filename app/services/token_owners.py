"""Who is behind a bearer token, remembered by each process and checked on every request.

    owner = await token_owners.find(bearer)   # TokenOwner, or None (unknown or revoked)
    token_owners.watch_changes()               # once per process (create_app, workers, CLI)

Looking a token up joins four tables and builds four ORM objects: about a quarter of the CPU
of a home timeline read. Each process keeps the owners it has found. Any committed change
that could alter what an owner says is announced before the change's own request answers
(the session events below): a token revoked, an account, user or application edited or
deleted. A bulk UPDATE or DELETE announces a change of everyone unless it names the accounts
it changes: `.execution_options(accounts_changed=[account_id])`.

A change is announced twice, in one Redis round trip:
- as an `auth` notice (app/notices.py) naming the changed owners' keys: a process that is
  listening drops those owners and uses the others without asking Redis at all;
- as new generations of those keys in Redis: a process that is not listening (its notices
  connection is down or not confirmed yet) reads, in one MGET per request, the generation of
  the owner's account and the instance-wide one, and uses the kept owner only if neither
  changed since it was loaded.
The announcing process drops its own kept owners at once. Others hear the notice when Redis
delivers it, usually well under a millisecond later.

What is not announced: counters (statuses_count, followers_count, ...) and last-use times.
Nothing reads them from the owner: verify_credentials reads the account afresh.

Generations are random values, not counters, so losing Redis (a restart, a flush) cannot bring
back a value a kept owner was loaded under. Kept owners also expire after MAX_AGE seconds, a
bound for a change made outside the services (SQL typed into psql).

The owner objects are shared by the requests of one process: treat them as read-only, as the
services do (a change loads the row in its own session).
"""
from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app import db, notices
from app import redis as app_redis
from app.models import AccessToken, Account, Application, User
from app.models.base import utcnow
from app.security import hash_token
from app.services import tokens
from app.services.tokens import TokenOwner

MAX_AGE = 60.0  # seconds a kept owner is used at most before it is loaded again
MAX_KEPT = 100_000  # owners kept per process before the memory is cleared
GENERATION_SECONDS = 86_400  # a generation key outlives any kept owner by far

EVERYONE = "auth:generation"


def account_key(account_id: int) -> str:
    return f"auth:generation:account:{account_id}"


def app_token_key(token_id: int) -> str:
    return f"auth:generation:token:{token_id}"  # a token without an account (client credentials)


def _key_of(owner: TokenOwner) -> str:
    return account_key(owner.account.id) if owner.account is not None else app_token_key(owner.token.id)


AUTH_NOTICE = "auth"  # payload: the changed generation keys


@dataclass
class _Kept:
    key: str  # the owner's generation key: which token belongs to which account never changes
    owner: TokenOwner | None = None  # None until loaded after reading the generations
    generations: tuple | None = None
    until: float = 0.0
    last_used_at: datetime | None = None


_kept: dict[str, _Kept] = {}
_by_key: dict[str, set[str]] = {}  # generation key -> hashed tokens kept under it
# Counts forgettings (notices, gaps): an owner whose load overlapped one is not kept, as the
# forgetting may have been about it and its load may have read the row before the change.
_forgotten = 0


async def find(bearer: str) -> TokenOwner | None:
    hashed = hash_token(bearer)
    kept = _kept.get(hashed)
    now = time.monotonic()
    notices.start()
    if notices.listening():
        # Every change is heard of: a kept owner is current (forget() dropped the changed ones).
        if kept is not None and kept.owner is not None and now < kept.until:
            await _touch_if_due(kept)
            return kept.owner
        return await _load_and_keep(hashed, None, now)
    if kept is None:
        # First sight: only which generation key the token follows is kept. The owner is kept
        # from the next request on, loaded after reading the generations: a generation read
        # after the load could already be newer than what was loaded.
        owner = await _load(hashed)
        if owner is not None:
            _keep(hashed, _Kept(key=_key_of(owner)))
        return owner
    generations = await _generations(kept.key)
    if kept.owner is not None and kept.generations == generations and now < kept.until:
        await _touch_if_due(kept)
        return kept.owner
    return await _load_and_keep(hashed, generations, now)


async def _load_and_keep(hashed: str, generations: tuple | None, now: float) -> TokenOwner | None:
    forgotten = _forgotten
    owner = await _load(hashed)
    if owner is None:
        _drop(hashed)
        return None
    used = owner.token.last_used_at
    if tokens.touch_due(used, utcnow()):
        used = utcnow()  # the load has just recorded this use
    _keep(hashed, _Kept(key=_key_of(owner), owner=owner, generations=generations, until=now + MAX_AGE,
                        last_used_at=used), unless_forgotten_since=forgotten)
    return owner


# Notices are handled in each listening event loop's thread (app/notices.py), so what they
# change is changed under this lock; reading a kept owner needs none.
_lock = threading.RLock()


def _keep(hashed: str, kept: _Kept, unless_forgotten_since: int | None = None) -> None:
    with _lock:
        if unless_forgotten_since is not None and unless_forgotten_since != _forgotten:
            return
        if len(_kept) >= MAX_KEPT:
            _forget_all()
        _drop(hashed)
        _kept[hashed] = kept
        _by_key.setdefault(kept.key, set()).add(hashed)


def _drop(hashed: str) -> None:
    with _lock:
        kept = _kept.pop(hashed, None)
        if kept is not None:
            hashes = _by_key.get(kept.key)
            if hashes is not None:
                hashes.discard(hashed)
                if not hashes:
                    del _by_key[kept.key]


def forget(keys) -> None:
    """Drop the owners kept under generation keys `keys` (all of them for EVERYONE)."""
    global _forgotten
    with _lock:
        _forgotten += 1
        if EVERYONE in keys:
            _forget_all()
            return
        for key in keys:
            for hashed in list(_by_key.get(key, ())):
                _drop(hashed)


def _forget_all() -> None:
    global _forgotten
    with _lock:
        _forgotten += 1
        _kept.clear()
        _by_key.clear()


notices.on(AUTH_NOTICE, forget)
notices.on_gap(_forget_all)


async def _load(hashed: str) -> TokenOwner | None:
    async with db.reading() as session:
        return await tokens.lookup_hashed(session, hashed)


async def _touch_if_due(kept: _Kept) -> None:
    now = utcnow()
    if not tokens.touch_due(kept.last_used_at, now):
        return
    kept.last_used_at = now
    owner = kept.owner
    async with db.reading() as session:
        await tokens.touch(session, owner.token.id, owner.user.id if owner.user is not None else None, now)


async def _generations(key: str) -> tuple:
    client = app_redis.client()
    values = await client.mget(EVERYONE, key)
    if None in values:
        # Never set, expired or lost: a fresh random value, unless another process set one first.
        async with client.pipeline(transaction=False) as pipe:
            for name, value in zip((EVERYONE, key), values):
                if value is None:
                    pipe.set(name, secrets.token_hex(8), nx=True, ex=GENERATION_SECONDS)
            await pipe.execute()
        values = await client.mget(EVERYONE, key)
    return tuple(values)


async def bump(keys: set[str]) -> None:
    """Announce a change of the owners under `keys` (see the module docstring)."""
    if not keys:
        return
    forget(keys)  # this process at once; the others when the notice arrives
    async with app_redis.client().pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.set(key, secrets.token_hex(8), ex=GENERATION_SECONDS)
        pipe.publish(*notices.message(AUTH_NOTICE, sorted(keys)))
        await pipe.execute()


# -- noticing changes -----------------------------------------------------------------------

# Columns whose changes owners need not see (see the module docstring).
_UNSEEN = {"statuses_count", "followers_count", "following_count", "last_status_at", "last_used_at",
           "last_active_at", "updated_at"}
_WATCHED_TABLES = {Account.__tablename__, User.__tablename__, AccessToken.__tablename__, Application.__tablename__}
# A write to one of them in SQL text (quoted or not, with a schema, ONLY, TABLE; an upsert).
_WRITES_WATCHED = re.compile(
    r"\b(update|delete\s+from|truncate|insert\s+into)\s+(only\s+|table\s+)?(\"?\w+\"?\.)?\"?(%s)\b"
    % "|".join(sorted(_WATCHED_TABLES)), re.IGNORECASE)
_INFO = "token_owner_keys"


def _changed(session: Session, keys: set[str]) -> None:
    """Bump `keys` once the session commits (db.session / db.reading run the callback)."""
    pending = session.info.get(_INFO)
    if pending is None:
        pending = session.info[_INFO] = set()

        async def bump_pending() -> None:
            await bump(session.info.pop(_INFO, set()))

        # First: later after-commit work (jobs, streams) may fail, and this must still happen.
        session.info.setdefault("after_commit", []).insert(0, bump_pending)
    pending |= keys


def _keys_of_instance(session: Session, instance) -> set[str]:
    if not isinstance(instance, (Account, User, AccessToken, Application)):
        return set()
    if instance not in session.deleted and not _changed_columns(instance) - _UNSEEN:
        return set()
    if isinstance(instance, Account):
        return {account_key(instance.id)} if instance.domain is None else set()  # remote: no tokens
    if isinstance(instance, User):
        return {account_key(instance.account_id)}
    if isinstance(instance, AccessToken):
        return {account_key(instance.account_id) if instance.account_id else app_token_key(instance.id)}
    return {EVERYONE}  # an application: shown by every token it issued


def _changed_columns(instance) -> set[str]:
    return {attr.key for attr in inspect(instance).attrs if attr.history.has_changes()}


def _before_flush(session: Session, flush_context, instances) -> None:
    keys: set[str] = set()
    for instance in (*session.dirty, *session.deleted):
        keys |= _keys_of_instance(session, instance)
    if keys:
        _changed(session, keys)


def _do_orm_execute(state) -> None:
    statement = state.statement
    if state.is_update or state.is_delete:
        table = getattr(statement, "table", None)
        if getattr(table, "name", None) not in _WATCHED_TABLES:
            return
        if state.is_update:
            columns = {getattr(column, "key", str(column)) for column in (getattr(statement, "_values", None) or {})}
            if columns and not columns - _UNSEEN:
                return
        # Which rows a bulk statement changes is not known here: the statement may say which
        # accounts (execution option accounts_changed), else every owner is loaded again.
        accounts = state.execution_options.get("accounts_changed")
        _changed(state.session, {account_key(i) for i in accounts} if accounts else {EVERYONE})
    elif hasattr(statement, "text") and _WRITES_WATCHED.search(statement.text):
        _changed(state.session, {EVERYONE})


_watching = False


def watch_changes() -> None:
    """Listen to every session of this process (idempotent)."""
    global _watching
    if not _watching:
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "do_orm_execute", _do_orm_execute)
        _watching = True
