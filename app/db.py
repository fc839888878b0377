"""The async SQLAlchemy engine and sessions.

Async connections belong to the event loop that opened them, and a process may
run several loops (the web server's and Dramatiq's AsyncIO worker loop), so
each running loop gets its own engine, made on first use.
"""
from __future__ import annotations

import asyncio
import re
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator

import orjson
from psycopg import AsyncRawCursor, adapters, postgres, pq
from psycopg.adapt import Dumper
from psycopg.rows import namedtuple_row
from sqlalchemy import BigInteger, any_, bindparam, event, exc
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

_url: str | None = None
_pool_size = 10
_per_loop: dict[asyncio.AbstractEventLoop, tuple[AsyncEngine, async_sessionmaker, async_sessionmaker]] = {}


def async_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def connect(url: str, pool_size: int = 20) -> None:
    global _url, _pool_size
    _url, _pool_size = url, pool_size


def _state() -> tuple[AsyncEngine, async_sessionmaker, async_sessionmaker]:
    if _url is None:
        raise RuntimeError("database not connected: call app.db.connect() first")
    loop = asyncio.get_running_loop()
    state = _per_loop.get(loop)
    if state is None:
        options = {"options": f"-c idle_in_transaction_session_timeout={IDLE_TRANSACTION_MS}"}
        # json columns parsed by orjson: a page of statuses has a few per author (profile fields,
        # roles), which the standard library's parser took ~2% of a home read's CPU to read.
        common = dict(pool_size=_pool_size, max_overflow=MAX_OVERFLOW, connect_args=options,
                      json_deserializer=orjson.loads)
        engine = create_async_engine(async_url(_url), **common)
        # reading() has a pool of its own whose connections stay in autocommit: switching a shared
        # connection in and out of it (and rolling back on return) cost ~0.1 ms of CPU per
        # request. Nothing runs a transaction on them, so nothing needs resetting on return.
        autocommit = create_async_engine(async_url(_url), **common, isolation_level="AUTOCOMMIT",
                                         pool_reset_on_return=None)
        for each in (engine, autocommit):
            _ping_after_idle(each)
        state = (engine, async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False),
                 async_sessionmaker(autocommit, class_=AsyncSession, expire_on_commit=False))
        _per_loop[loop] = state
    return state


# Connections beyond pool_size, per pool, opened for a burst and closed after it. An event loop
# holds at most 2 x (pool_size + MAX_OVERFLOW) connections: 60 for a web process, 30 for a
# worker (docs/decisions.md), and keeps at most 2 x pool_size of them open when idle.
MAX_OVERFLOW = 10
IDLE_PING_SECONDS = 10
# A transaction left open with nothing running ends after this long. Ours never idle for more
# than a moment (none waits on the network while it is open), but one whose process vanished
# without closing its socket (a host lost, a network split) would otherwise hold its locks
# until TCP gives up, hours later: a fan-out's claimed outbox row, and with it the
# redeliveries waiting on that row (docs/decisions.md).
IDLE_TRANSACTION_MS = 300_000


def _ping_after_idle(engine: AsyncEngine) -> None:
    """Check a pooled connection before use only when it sat idle for a while (a restarted
    or failed-over server drops idle connections). SQLAlchemy's pool_pre_ping pings on
    every checkout: a round trip more per request for connections that were just in use."""
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _checked_in(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi_connection, record, proxy) -> None:
        if time.monotonic() - record.info.get("idle_since", time.monotonic()) < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as dead:
            raise exc.DisconnectionError() from dead  # the pool replaces it and checks out again


def engine() -> AsyncEngine:
    return _state()[0]


def engines() -> tuple[AsyncEngine, AsyncEngine]:
    """This loop's two engines: session()'s and reading()'s."""
    return _engines_of(_state())


def _engines_of(state: tuple[AsyncEngine, async_sessionmaker, async_sessionmaker]) -> tuple[AsyncEngine, AsyncEngine]:
    return state[0], state[2].kw["bind"]


async def dispose() -> None:
    """Close this loop's connections (other loops close theirs on their own)."""
    state = _per_loop.pop(asyncio.get_running_loop(), None)
    if state is not None:
        for each in _engines_of(state):
            await each.dispose()


@asynccontextmanager
async def session() -> AsyncIterator[AsyncSession]:
    """A session that commits on success and rolls back on any error."""
    async with _state()[1]() as s:
        try:
            yield s
            await _commit(s)
        except BaseException:
            await s.rollback()
            raise
        # Work that must only start once the change is durable (see app.jobs.defer).
        for callback in s.info.pop("after_commit", []):
            await callback()


@asynccontextmanager
async def reading() -> AsyncIterator[AsyncSession]:
    """A session for requests that read: its connection runs in autocommit, so no BEGIN and
    COMMIT round trips around the queries (a home read spent ~8% of its CPU on them). Each
    statement sees its own snapshot and commits on its own: fine for reads and for a single
    incidental write (a token's last use, one outbox row), never for a change that spans
    statements, which belongs in session()."""
    async with _state()[2]() as s:
        yield s
        if s.new or s.dirty or s.deleted or s.info.get("commit_with"):
            await _commit(s)  # flushes an incidental write; no COMMIT round trip in autocommit
        elif s.info.get("after_commit"):
            await s.close()  # the connection goes back before the work below, as after a commit
        # Otherwise there is nothing to commit: every statement committed as it ran, and the
        # session's close hands the connection back (SQLAlchemy's commit cost ~0.08 ms a read).
        for callback in s.info.pop("after_commit", []):
            await callback()


async def commit_now(s: AsyncSession) -> None:
    """Commit inside a session() block that is about to fail when what it did so far must stick
    (a replayed OAuth code's revocations): the after-commit work registered so far runs now,
    since a failing block runs none."""
    await _commit(s)
    for callback in s.info.pop("after_commit", []):
        await callback()


def commit_with(s: AsyncSession, statement: ClauseElement, params: dict, use_rows) -> None:
    """Send `statement` (built once, as for `rows`) in the round trip of the session's COMMIT,
    as its last statement; `use_rows(rows)` gets its rows once committed, before the after-commit
    work. For rows that nothing in the transaction reads (app.jobs' outbox rows): a round trip
    less for every transaction that defers work."""
    s.info.setdefault("commit_with", []).append((statement, params, use_rows))


async def _commit(s: AsyncSession) -> None:
    riders = s.info.pop("commit_with", [])
    if riders:
        driver = await _driver(s)  # flushes what the ORM still holds first
        results = await _pipelined(driver, [(statement, params) for statement, params, _ in riders], commit=True)
        for (_, _, use_rows), rows_of_one in zip(riders, results):
            use_rows(rows_of_one)
    # SQLAlchemy's own commit: a flush and COMMIT, or, once the driver has committed, only the
    # session's bookkeeping (psycopg sends nothing for a connection with no transaction open).
    await s.commit()


def after_commit(s: AsyncSession, callback) -> None:
    """Run `callback` (an async function of no arguments) once `s` has committed."""
    s.info.setdefault("after_commit", []).append(callback)


def any_of(column, name: str = "ids"):
    """`column = ANY(:name)`, the ids bound as one bigint[] when the statement runs. Unlike an
    expanding IN, the SQL text is the same however many ids there are, so a statement built
    once is also compiled once, and psycopg prepares it once so PostgreSQL stops parsing and
    planning it (an expanding IN renders new SQL for every list length). A home read makes
    about 6% fewer Python calls."""
    return column == any_(bindparam(name, type_=ARRAY(BigInteger)))


# -- hot statements straight on the driver ------------------------------------------------

_DIALECT = psycopg_dialect.dialect()
class _Compiled:
    """A statement built once, ready for psycopg's raw cursors: its SQL with PostgreSQL's own
    `$1` placeholders (psycopg sends it as it is, where a `%(name)s` text is parsed and its
    parameters reordered on every run, or, over 4 kB, parsed afresh: ~0.15 ms of a home read),
    the names the placeholders stand for, in order, and its fixed values (literals, IN lists)."""

    __slots__ = ("sql", "names", "fixed")

    def __init__(self, sql: bytes, names: tuple[str, ...], fixed: dict):
        self.sql, self.names, self.fixed = sql, names, fixed

    def args(self, params: dict) -> list:
        """The placeholders' values in order, id and flag lists as single arrays."""
        fixed = self.fixed
        return [_array_of(value) if type(value) is list and value else value
                for value in (params[name] if name in params else fixed[name] for name in self.names)]


_compiled: dict[ClauseElement, _Compiled] = {}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


def _sql_of(statement: ClauseElement) -> _Compiled:
    """The statement built once, compiled for a raw cursor (once per process)."""
    found = _compiled.get(statement)
    if found is None:
        compiled = statement.compile(dialect=_DIALECT)
        unbound = {name: None for name, value in compiled.params.items() if value is None}
        expanded = compiled.construct_expanded_state(unbound)  # IN (...) lists as separate parameters
        sql = expanded.statement.replace(" \n", " ")  # SQLAlchemy's line breaks: only whitespace
        sql, fixed = _inline_constants(sql, dict(expanded.parameters))
        names: list[str] = []

        def placeholder(match: re.Match) -> str:
            if match.group(1) is None:
                return "%"  # a literal percent sign, doubled for the pyformat text
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        sql = _PLACEHOLDER.sub(placeholder, sql)
        found = _compiled[statement] = _Compiled(sql.encode(), tuple(names), fixed)
    return found


_PLAIN = re.compile(r"[\w.:-]*")


def _inline_constants(sql: str, params: dict) -> tuple[str, dict]:
    """Plain string constants of a statement built once in a module (visibility names...)
    written into its SQL: fewer parameters sent on every run, and a shorter text (psycopg caches
    the parsing of statements under 4 kB only; the home candidates were just over). Only
    letters, digits and `_.:-`, quoted: nothing a caller sends ever gets here (values bound when
    the statement runs are parameters), and nothing that could end the quote. So a parameter
    given a value where the statement is built cannot be overridden when it runs: leave
    run-time ones without a value (`bindparam("viewer_id", type_=...)`)."""
    for name, value in list(params.items()):
        if not isinstance(value, str) or not _PLAIN.fullmatch(value):
            continue
        sql, replaced = re.subn(r"%\(" + re.escape(name) + r"\)s", f"'{value}'", sql)
        if replaced:
            del params[name]
    return sql, params


class _IdArray(list):
    """A list of ints sent as one bigint[] literal."""


class _FlagArray(list):
    """A list of bools sent as one boolean[] literal."""


class _IdArrayDumper(Dumper):
    """psycopg's own list dumper finds the element type and checks every element's text for
    characters to quote (a regular expression each): ~0.2 ms of a home read's CPU for the id
    lists it sends. Integers and booleans never need quoting."""

    oid = postgres.types["int8"].array_oid

    def dump(self, obj: list) -> bytes:
        return ("{" + ",".join(map(str, obj)) + "}").encode()


class _FlagArrayDumper(Dumper):
    oid = postgres.types["bool"].array_oid

    def dump(self, obj: list) -> bytes:
        return ("{" + ",".join("t" if flag else "f" for flag in obj) + "}").encode()


adapters.register_dumper(_IdArray, _IdArrayDumper)
adapters.register_dumper(_FlagArray, _FlagArrayDumper)


def _array_of(values: list) -> list:
    """A non-empty list of plain ints (ids) as _IdArray, of bools as _FlagArray; any other as
    given. (An empty list is sent as it is: psycopg leaves its type to the statement.)"""
    if all(type(v) is int for v in values):
        return _IdArray(values)
    if all(type(v) is bool for v in values):
        return _FlagArray(values)
    return values


async def rows(session: AsyncSession, statement: ClauseElement, params: dict) -> list:
    """Run a statement built once (module level) on the session's own connection, straight
    through psycopg, and return its rows as named tuples (`row.id`, `row.account_id`).

    For the statements every timeline read runs: going through SQLAlchemy's session costs
    ~0.2 ms of CPU per statement before any row, and loading ORM objects about as much
    again for a page of statuses (measured on the synthetic instance), while the rows
    read the same by attribute. Columns come back as psycopg gives them, which for our
    column types (integers, text, booleans, timestamptz, json) is what the models hold.
    Model properties (`Account.acct`) are not there: use the functions they are made of."""
    compiled = _sql_of(statement)
    driver = await _driver(session)
    async with AsyncRawCursor(driver, row_factory=namedtuple_row) as cursor:
        await cursor.execute(compiled.sql, compiled.args(params), prepare=True)
        return await cursor.fetchall()


async def rows_together(session: AsyncSession, statements: list[tuple[ClauseElement, dict]]) -> list[list]:
    """Like `rows`, for statements that do not depend on each other: sent together and answered
    together (psycopg's pipeline mode), one round trip for all. Two statements cost ~0.4 ms of
    CPU this way against ~0.7 ms one after the other (measured on the synthetic instance).
    A statement that returns no rows (an INSERT or UPDATE without RETURNING) gives []. Writes
    sent this way pass by the session's events, so token owners (app.services.token_owners)
    do not see them: only for rows and columns that owners do not show (a post, its counters)."""
    return await _pipelined(await _driver(session), statements)


async def _pipelined(driver, statements: list[tuple[ClauseElement, dict]], *, commit: bool = False) -> list[list]:
    """Each statement's rows, all sent in one round trip; `commit`: the transaction's COMMIT too."""
    cursors = []
    try:
        async with driver.pipeline():
            for statement, params in statements:
                compiled = _sql_of(statement)
                cursor = AsyncRawCursor(driver, row_factory=namedtuple_row)
                cursors.append(cursor)
                await cursor.execute(compiled.sql, compiled.args(params), prepare=True)
            if commit and not driver.autocommit:
                await driver.commit()
        return [await cursor.fetchall() if _has_rows(cursor) else [] for cursor in cursors]
    finally:
        for cursor in cursors:
            await cursor.close()


def _has_rows(cursor) -> bool:
    """Whether the statement returned rows (a SELECT, or RETURNING), without building
    `cursor.description` (a Column object per column: ~250 calls for a page's statements)."""
    return cursor.pgresult is not None and cursor.pgresult.status == pq.ExecStatus.TUPLES_OK


_DRIVER = "driver_connection"


async def _driver(session: AsyncSession):
    """The psycopg connection under the session (its transaction, if it has one). Kept in the
    session until its transaction ends: asking SQLAlchemy again costs ~0.05 ms a time, and a
    timeline read asks twice (the candidates, then the render)."""
    if session.new or session.dirty or session.deleted:
        await session.flush()  # what an ORM query would have seen (autoflush)
    driver = session.info.get(_DRIVER)
    if driver is None:
        connection = await session.connection()
        driver = session.info[_DRIVER] = (await connection.get_raw_connection()).driver_connection
    return driver


@event.listens_for(Session, "after_transaction_end")
def _forget_driver(session: Session, transaction) -> None:
    """A commit or rollback may hand the connection back to the pool: ask again next time."""
    session.info.pop(_DRIVER, None)
