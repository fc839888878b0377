"""The one settings object. Nothing else in the code base reads the environment.

Every field comes from a ``STARLING_<FIELD>`` variable (upper case). Tests build a
``Settings`` directly and install it with ``configure``.
"""
from __future__ import annotations

import dataclasses
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REGISTRATION_MODES = ("open", "approval", "closed")
# Who may read the public ("live") feeds and the hashtag and trending-link ("topic") feeds, for
# local and for remote posts (Mastodon 4.5's *_feed_access settings; app.services.feed_access).
FEED_ACCESS = ("public", "authenticated", "disabled")
FEED_ACCESS_SETTINGS = {"live_feeds_local": FEED_ACCESS, "live_feeds_remote": FEED_ACCESS,
                        "topic_feeds_local": FEED_ACCESS[:2], "topic_feeds_remote": FEED_ACCESS}


@dataclass(frozen=True)
class Settings:
    domain: str = "localhost:8000"
    scheme: str = "http"
    secret_key: str = ""
    # None means "start the embedded server under var_dir".
    database_url: str | None = None
    redis_url: str | None = None
    # Home feeds on a Redis server of their own (app.redis.feeds); None: the one above.
    feeds_redis_url: str | None = None
    var_dir: Path = Path("var")
    media_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000

    instance_title: str = "Starling"
    instance_description: str = "A small, fast, federated social server."
    contact_email: str = ""

    # None: no mail server configured (a one-command run): mail is written to mail_root as
    # .eml files and logged, where a newcomer finds their confirmation link.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_from: str = ""

    registrations: str = "open"  # open | approval | closed
    # public | authenticated (signed-in users only) | disabled (moderators and admins only)
    live_feeds_local: str = "public"
    live_feeds_remote: str = "public"
    topic_feeds_local: str = "public"  # no "disabled", as in Mastodon
    topic_feeds_remote: str = "public"
    max_post_chars: int = 280
    min_password_length: int = 8

    rate_limits: bool = True
    # requests per window: general API per token or IP, and the tighter buckets.
    rate_limit_api: int = 300
    rate_limit_api_window: int = 300
    rate_limit_sensitive: int = 5  # sign-up, login, password reset, per IP
    rate_limit_sensitive_window: int = 1800
    # new follows (and follow requests) per account per window, as Mastodon's 400 a day.
    rate_limit_follows: int = 400
    rate_limit_follows_window: int = 86400
    # new statuses per account per window, as Mastodon's 300 every 3 hours.
    rate_limit_statuses: int = 300
    rate_limit_statuses_window: int = 3 * 3600
    # new favourites per account per window (Mastodon sets none; see docs/interactions.md).
    rate_limit_favourites: int = 300
    rate_limit_favourites_window: int = 3 * 3600

    max_body_bytes: int = 10 * 1024 * 1024
    max_avatar_bytes: int = 2 * 1024 * 1024
    max_header_bytes: int = 2 * 1024 * 1024

    confirmation_link_hours: int = 24
    reset_link_hours: int = 2
    # PostgreSQL connections each event loop of a web process keeps open per pool (it has two:
    # reads in autocommit and transactions), each opening up to 10 more for a burst.
    # Idle connections count against the server's max_connections (docs/decisions.md).
    db_pool_size: int = 20
    # Dramatiq worker threads when workers run inside `starling serve`.
    inline_workers: int = 2
    # Web server processes of `starling serve` (uvicorn workers sharing one socket): one
    # Python process uses one core, so a busy instance runs about one per core.
    web_processes: int = 1
    # Outbox rows enqueued this long ago and still there were lost: the sweeper (every
    # outbox_sweep_seconds) enqueues them again (see docs/feeds.md, "No lost work").
    outbox_stale_seconds: int = 120
    outbox_sweep_seconds: int = 30

    # Home feeds (docs/feeds.md): Redis feeds of users active in the last feed_active_days,
    # feed_max_items entries each; accounts with more followers than fanout_pull_threshold
    # are merged in at read time instead of fanned out; followers are written fanout_batch_size at a time.
    feed_active_days: int = 14
    feed_max_items: int = 800
    fanout_pull_threshold: int = 100_000
    fanout_batch_size: int = 2500

    # Search (docs/search.md): Meilisearch when a URL is set, PostgreSQL full-text otherwise.
    meilisearch_url: str = ""
    meilisearch_api_key: str = ""
    meilisearch_index: str = "statuses"

    # Outgoing HTTP (link previews, search resolve; docs/federation.md): private, loopback, link-local
    # addresses are refused unless allowed (instances federating inside one private network).
    allow_private_addresses: bool = False
    # Not read from the environment: tests put an httpx.MockTransport here to stand in for
    # the internet. None means real connections.
    http_transport: Any = field(default=None, compare=False, repr=False, metadata={"env": False})

    def __post_init__(self) -> None:
        # Checked however the settings were made (from the environment, or replaced in code).
        if self.registrations not in REGISTRATION_MODES:
            raise ValueError(f"STARLING_REGISTRATIONS must be one of {', '.join(REGISTRATION_MODES)}")
        for name, allowed in FEED_ACCESS_SETTINGS.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"STARLING_{name.upper()} must be one of {', '.join(allowed)}")

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"

    @property
    def media_root(self) -> Path:
        return self.media_dir or self.var_dir / "media"

    @property
    def mail_root(self) -> Path:
        return self.var_dir / "mail"

    @property
    def mail_from(self) -> str:
        return self.smtp_from or f"notifications@{self.domain.split(':')[0]}"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        values: dict = {}
        for f in dataclasses.fields(cls):
            if f.metadata.get("env") is False:
                continue
            raw = env.get(f"STARLING_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _coerce(f, raw)
        settings = cls(**values)
        if not settings.secret_key:
            settings = dataclasses.replace(settings, secret_key=_persistent_secret(settings.var_dir))
        return settings


def _coerce(f: dataclasses.Field, raw: str):
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    if "bool" in kind:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind == "int":
        return int(raw)
    if "Path" in kind:
        return Path(raw)
    return raw


def _persistent_secret(var_dir: Path) -> str:
    """An embedded instance keeps one generated secret across restarts."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    return secret


_current: Settings | None = None


def get_settings() -> Settings:
    global _current
    if _current is None:
        _current = Settings.from_env()
    return _current


def configure(settings: Settings) -> Settings:
    global _current
    _current = settings
    return settings
