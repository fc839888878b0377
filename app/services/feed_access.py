"""Who may read the public ("live") feeds and the hashtag and trending-link ("topic") feeds, for
local and for remote posts: Mastodon 4.5's feed access settings, here STARLING_LIVE_FEEDS_LOCAL,
_LIVE_FEEDS_REMOTE, _TOPIC_FEEDS_LOCAL and _TOPIC_FEEDS_REMOTE.

    if feed_access.needs_user("live", local=True, remote=False): ...  # a visitor gets 401
    parts = feed_access.readable("topic", user)                               # Parts(local, remote)
    parts = feed_access.granted("live", user, local=True, remote=False)       # of those asked for

Each setting is `public` (anyone), `authenticated` (signed-in users) or `disabled` (moderators
and admins only, as holders of Mastodon's view_feeds permission). A reader who may not read
one part gets the other alone, and nothing when they may read neither, as Mastodon's PublicFeed.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.config import get_settings
from app.models.account import STAFF_ROLES


@dataclass(frozen=True)
class Parts:
    local: bool
    remote: bool


def settings_of(kind: str) -> tuple[str, str]:
    """(local, remote) access of the "live" or "topic" feeds."""
    settings = get_settings()
    if kind == "live":
        return settings.live_feeds_local, settings.live_feeds_remote
    return settings.topic_feeds_local, settings.topic_feeds_remote


def _may(setting: str, user) -> bool:
    if setting == "public":
        return True
    if user is None:
        return False
    return setting == "authenticated" or user.role in STAFF_ROLES


def readable(kind: str, user) -> Parts:
    """The parts of the `kind` feeds that `user` (a User, or None for a visitor) may read."""
    local, remote = settings_of(kind)
    return Parts(_may(local, user), _may(remote, user))


def granted(kind: str, user, *, local: bool, remote: bool) -> Parts:
    """Of the parts asked for with the `local` and `remote` flags (both alike: both parts), those
    `user` may read; neither when that leaves nothing."""
    may = readable(kind, user)
    both = local == remote
    return Parts(may.local and (local or both), may.remote and (remote or both))


def needs_user(kind: str, *, local: bool, remote: bool) -> bool:
    """Whether a visitor must sign in for what they asked with the `local` and `remote` flags
    (Mastodon answers them 401), in Mastodon's order: `local` asks about the local part (with
    `remote` too, the visitor then gets what they may read: the local part), else `remote`
    about the remote part, else neither part may be closed to them."""
    local_access, remote_access = settings_of(kind)
    if local:
        return local_access != "public"
    if remote:
        return remote_access != "public"
    return local_access != "public" or remote_access != "public"
