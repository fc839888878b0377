"""PreviewCard -> Mastodon's PreviewCard entity (a status's `card`) and Trends::Link (a card
with seven days of sharing history, for GET /api/v1/trends/links)."""
from __future__ import annotations

from typing import Any

from app.api.entities.account import iso_datetime
from app.models import PreviewCard


def preview_card_json(card: PreviewCard) -> dict[str, Any]:
    authors = []
    if card.author_name or card.author_url:
        # The fediverse account of an author (fediverse:creator) is not looked up yet.
        authors.append({"name": card.author_name, "url": card.author_url, "account": None})
    return {
        "url": card.url,
        "title": card.title,
        "description": card.description,
        "language": card.language,
        "type": card.type,
        "author_name": card.author_name,
        "author_url": card.author_url,
        "provider_name": card.provider_name,
        "provider_url": card.provider_url,
        "html": card.html,
        "width": card.width,
        "height": card.height,
        "image": card.image_url,
        "image_description": "",
        "embed_url": card.embed_url,
        "blurhash": card.blurhash,
        "published_at": iso_datetime(card.published_at) if card.published_at else None,
        "authors": authors,
    }


def trends_link_json(card: PreviewCard, history: list[tuple[int, int, int]]) -> dict[str, Any]:
    """`history`: (day start as UNIX time, shares, distinct accounts), newest day first;
    Mastodon renders the numbers as strings."""
    return {**preview_card_json(card),
            "history": [{"day": str(day), "accounts": str(accounts), "uses": str(uses)}
                        for day, uses, accounts in history]}
