"""Marker, as Mastodon renders it (keyed by timeline name in the answers)."""
from __future__ import annotations

from typing import Any

from app.api.entities.account import iso_datetime
from app.models import Marker


def marker_json(marker: Marker) -> dict[str, Any]:
    return {"last_read_id": str(marker.last_read_id), "version": marker.version,
            "updated_at": iso_datetime(marker.updated_at)}


def markers_json(markers: dict[str, Marker]) -> dict[str, Any]:
    return {timeline: marker_json(marker) for timeline, marker in markers.items()}
