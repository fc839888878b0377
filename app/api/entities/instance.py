"""Instance (v2), V1_Instance and Rule, as Mastodon renders them.

Both documents are built from one `InstanceFacts` so v1 and v2 never disagree.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, metadata, version
from typing import Any

from app.api.entities.account import account_json
from app.config import Settings
from app.models import Account, Rule
from app.services import feed_access
from app.services.instance import LIMITS, Stats

# Clients parse the leading Mastodon version to decide which features exist.
MASTODON_COMPATIBLE = "4.3.0"
THUMBNAIL_PATH = "/instance/thumbnail.png"


def starling_version() -> str:
    try:
        return version("starling")
    except PackageNotFoundError:
        return "0.0.0"


def source_url(settings: Settings) -> str:
    """The `Source` project URL from the package metadata; the instance itself until there is one."""
    try:
        for entry in metadata("starling").get_all("Project-URL") or []:
            label, _, url = entry.partition(",")
            if label.strip().lower() in ("source", "repository") and url.strip():
                return url.strip()
    except PackageNotFoundError:
        pass
    return settings.base_url


def version_string() -> str:
    return f"{MASTODON_COMPATIBLE} (compatible; Starling {starling_version()})"


@dataclass
class InstanceFacts:
    settings: Settings
    stats: Stats
    rules: list[Rule]
    contact: Account | None


def rule_json(rule: Rule) -> dict[str, Any]:
    return {"id": str(rule.id), "text": rule.text, "hint": rule.hint}


def _streaming_url(settings: Settings) -> str:
    return f"{'wss' if settings.scheme == 'https' else 'ws'}://{settings.domain}"


def _media_limits() -> dict[str, Any]:
    return {
        "supported_mime_types": list(LIMITS.supported_mime_types),
        "image_size_limit": LIMITS.image_size_limit,
        "image_matrix_limit": LIMITS.image_matrix_limit,
        "video_size_limit": LIMITS.video_size_limit,
        "video_frame_rate_limit": LIMITS.video_frame_rate_limit,
        "video_matrix_limit": LIMITS.video_matrix_limit,
        "description_limit": LIMITS.description_limit,
    }


def _timelines_access() -> dict[str, dict[str, str]]:
    """Who may read which public feeds (Mastodon 4.5; app.services.feed_access): the topic
    settings cover both hashtag and trending-link feeds."""
    live, topic = feed_access.settings_of("live"), feed_access.settings_of("topic")
    return {"live_feeds": {"local": live[0], "remote": live[1]},
            "hashtag_feeds": {"local": topic[0], "remote": topic[1]},
            "trending_link_feeds": {"local": topic[0], "remote": topic[1]}}


def _statuses(settings: Settings) -> dict[str, Any]:
    return {
        "max_characters": settings.max_post_chars,
        "max_media_attachments": LIMITS.max_media_attachments,
        "characters_reserved_per_url": LIMITS.characters_reserved_per_url,
    }


def _polls() -> dict[str, Any]:
    return {
        "max_options": LIMITS.poll_max_options,
        "max_characters_per_option": LIMITS.poll_max_characters_per_option,
        "min_expiration": LIMITS.poll_min_expiration,
        "max_expiration": LIMITS.poll_max_expiration,
    }


def _thumbnail_url(settings: Settings) -> str:
    return settings.base_url + THUMBNAIL_PATH


def instance_v2_json(facts: InstanceFacts) -> dict[str, Any]:
    settings = facts.settings
    return {
        "domain": settings.domain,
        "title": settings.instance_title,
        "version": version_string(),
        "source_url": source_url(settings),
        "description": settings.instance_description,
        "usage": {"users": {"active_month": facts.stats.active_month}},
        "thumbnail": {"url": _thumbnail_url(settings), "blurhash": None},
        "icon": [],
        "languages": ["en"],
        "configuration": {
            "urls": {"streaming": _streaming_url(settings), "status": None, "about": None,
                     "privacy_policy": None, "terms_of_service": None},
            "accounts": {
                "max_featured_tags": LIMITS.max_featured_tags,
                "max_pinned_statuses": LIMITS.max_pinned_statuses,
                "max_display_name_length": LIMITS.max_display_name_length,
                "max_note_length": LIMITS.max_note_length,
                "max_profile_fields": LIMITS.max_profile_fields,
                "profile_field_name_limit": LIMITS.profile_field_name_limit,
                "profile_field_value_limit": LIMITS.profile_field_value_limit,
            },
            "statuses": _statuses(settings),
            "media_attachments": _media_limits(),
            "polls": _polls(),
            "translation": {"enabled": False},
            "limited_federation": False,
            "timelines_access": _timelines_access(),
        },
        "registrations": {
            "enabled": settings.registrations != "closed",
            "approval_required": settings.registrations == "approval",
            "message": None,
            "url": None,
        },
        "api_versions": {"mastodon": 2},  # grouped notifications (v2) exist
        "contact": {
            "email": settings.contact_email,
            "account": account_json(facts.contact) if facts.contact else None,
        },
        "rules": [rule_json(r) for r in facts.rules],
    }


def instance_v1_json(facts: InstanceFacts) -> dict[str, Any]:
    settings = facts.settings
    return {
        "uri": settings.domain,
        "title": settings.instance_title,
        "short_description": settings.instance_description,
        "description": settings.instance_description,
        "email": settings.contact_email,
        "version": version_string(),
        "urls": {"streaming_api": _streaming_url(settings)},
        "stats": {
            "user_count": facts.stats.user_count,
            "status_count": facts.stats.status_count,
            "domain_count": facts.stats.domain_count,
        },
        "thumbnail": _thumbnail_url(settings),
        "languages": ["en"],
        "registrations": settings.registrations != "closed",
        "approval_required": settings.registrations == "approval",
        "invites_enabled": False,
        "configuration": {
            "accounts": {"max_featured_tags": LIMITS.max_featured_tags},
            "statuses": _statuses(settings),
            "media_attachments": _media_limits(),
            "polls": _polls(),
        },
        "contact_account": account_json(facts.contact) if facts.contact else None,
        "rules": [rule_json(r) for r in facts.rules],
    }
