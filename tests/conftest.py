"""The one fixture world: real PostgreSQL, Redis and SMTP; the app in-process and
as a real server process; factories for users and tokens (tests/support/world.py)."""
from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app import db
from app import redis as app_redis
from app.config import Settings, configure
from app.api.entities import render_cache
from app import refreshed
from app.main import create_app
from app.migrate import upgrade
from app.models import metadata
from app.services import rate_limits
from tests.support.services import ROOT, Mailbox, TestDatabase, TestRedis, free_port
from workers.pool import WorkerPool

SECRET = "test-secret-key-that-is-long-enough-for-hs256-signing"


@pytest.fixture(scope="session")
def mailbox():
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture(scope="session")
def database():
    database = TestDatabase()
    url = database.create()
    upgrade(url)
    yield url
    database.drop()


@pytest.fixture(scope="session")
def redis_url():
    redis = TestRedis()
    yield redis.url
    redis.release()


@pytest.fixture(scope="session")
def live_port() -> int:
    return free_port()


def _no_internet(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError(f"tests do not reach the internet ({request.url})", request=request)


@pytest.fixture(scope="session")
def settings(database, redis_url, mailbox, live_port, tmp_path_factory) -> Settings:
    var = tmp_path_factory.mktemp("var")
    return Settings(
        domain=f"127.0.0.1:{live_port}",
        scheme="http",
        secret_key=SECRET,
        database_url=database,
        redis_url=redis_url,
        var_dir=var,
        media_dir=var / "media",
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        rate_limits=False,
        # Parallel test sessions share one PostgreSQL (max_connections 100 by default): each
        # session's event loops (the app's, the workers', the sweeper's) keep few connections
        # idle, so one session's burst leaves room for the others'.
        db_pool_size=3,
        # Outgoing fetches (link previews) never leave the machine; a test that needs a
        # remote server installs its own httpx.MockTransport here.
        http_transport=httpx.MockTransport(_no_internet),
    )


def settings_env(settings: Settings) -> dict[str, str]:
    """The same settings, as the environment of a `starling` process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STARLING_")}
    for name in ("domain", "scheme", "secret_key", "database_url", "redis_url", "var_dir", "media_dir",
                 "smtp_host", "smtp_port", "rate_limits", "registrations", "db_pool_size"):
        env[f"STARLING_{name.upper()}"] = str(getattr(settings, name))
    return env


@pytest.fixture(scope="session")
def app(settings):
    application = create_app(settings)
    pool = WorkerPool(threads=2)
    pool.start()
    yield application
    pool.stop()


async def _quiesce_workers(seconds: float = 3.0) -> None:
    """Give the in-process workers a moment to finish the previous test's jobs.

    Actors delete their outbox row when done, so an empty outbox means idle workers.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        async with db.session() as session:
            if not (await session.execute(text("SELECT EXISTS (SELECT 1 FROM outbox_jobs)"))).scalar():
                return
        await asyncio.sleep(0.05)


async def _truncate_all() -> None:
    """TRUNCATE every table; a worker still holding locks makes us wait and retry, not deadlock."""
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    for attempt in range(10):
        try:
            async with db.session() as session:
                await session.execute(text("SET LOCAL lock_timeout = '2s'"))
                await session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            return
        except DBAPIError:
            if attempt == 9:
                raise
            await asyncio.sleep(0.2)


@pytest.fixture(autouse=True)
async def clean(request):
    """Every test that touches the database starts from empty tables and Redis."""
    if "settings" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("app")
    await _quiesce_workers()
    await _truncate_all()
    await app_redis.client().flushdb()
    render_cache.forget_local()
    refreshed.forget_all()
    rate_limits.forget_local()  # counts this process heard from the Redis just emptied
    request.getfixturevalue("mailbox").clear()
    yield


@pytest.fixture
def registration_mode(settings):
    """Switch the registration mode (open, approval, closed) for one test; the original
    settings come back afterwards."""
    def switch(mode: str) -> None:
        configure(dataclasses.replace(settings, registrations=mode))

    yield switch
    configure(settings)


@pytest.fixture
async def client(app, settings):
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=settings.base_url) as c:
        yield c


@pytest.fixture(scope="session")
def live_server(settings, live_port, app):
    """A real `starling serve` process on the settings' domain, sharing the test database."""
    log = Path(settings.var_dir) / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(live_port), "--no-workers"],
            cwd=ROOT, env=settings_env(settings), stdout=out, stderr=subprocess.STDOUT,
        )
    base = settings.base_url
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"{base}/api/v1/instance", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError(f"server did not start:\n{log.read_text()}")
    yield base
    process.terminate()
    process.wait(timeout=15)
