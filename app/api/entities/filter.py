"""Filter, FilterKeyword, FilterStatus, FilterResult and V1::Filter, as Mastodon renders them."""
from __future__ import annotations

from typing import Any

from app.api.entities.account import iso_datetime
from app.models import CustomFilter, CustomFilterKeyword, CustomFilterStatus
from app.services.filters import FilterGroup, Match


def keyword_json(keyword: CustomFilterKeyword) -> dict[str, Any]:
    return {"id": str(keyword.id), "keyword": keyword.keyword, "whole_word": keyword.whole_word}


def filter_status_json(row: CustomFilterStatus) -> dict[str, Any]:
    return {"id": str(row.id), "status_id": str(row.status_id)}


def _filter_fields(a_filter) -> dict[str, Any]:
    """What every Filter shows (`a_filter`: a CustomFilter or an ActiveFilter)."""
    return {"id": str(a_filter.id), "title": a_filter.title, "context": list(a_filter.context),
            "expires_at": iso_datetime(a_filter.expires_at) if a_filter.expires_at else None,
            "filter_action": a_filter.filter_action}


def filter_json(group: FilterGroup) -> dict[str, Any]:
    return {**_filter_fields(group.filter), "keywords": [keyword_json(k) for k in group.keywords],
            "statuses": [filter_status_json(s) for s in group.statuses]}


def filter_result_json(match: Match) -> dict[str, Any]:
    """In a Status's `filtered`: the Filter without its keywords and statuses (Mastodon omits them there)."""
    return {"filter": _filter_fields(match.filter), "keyword_matches": match.keyword_matches,
            "status_matches": [str(i) for i in match.status_matches] if match.status_matches else None}


def v1_filter_json(keyword: CustomFilterKeyword, a_filter: CustomFilter) -> dict[str, Any]:
    """One keyword seen as a whole v1 filter; `irreversible` is the hide action."""
    return {"id": str(keyword.id), "phrase": keyword.keyword, "context": list(a_filter.context),
            "whole_word": keyword.whole_word,
            "expires_at": iso_datetime(a_filter.expires_at) if a_filter.expires_at else None,
            "irreversible": a_filter.filter_action == "hide"}
