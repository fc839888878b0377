"""Poll, as Mastodon renders it.

    tallies = await polls.tallies(session, [poll.id])          # {poll_id: {choice: votes}}
    own = await polls.own_votes(session, [poll.id], viewer_id)  # {poll_id: [choices]}
    poll_json(poll, tallies.get(poll.id, {}), own.get(poll.id), viewer_id)

With `hide_totals`, option counts are null until the poll ends. `voted` and
`own_votes` appear only for a signed-in viewer; the author counts as having voted
(Mastodon: authors cannot vote in their own polls).
"""
from __future__ import annotations

from typing import Any

from app.api.entities.account import iso_datetime
from app.models import Poll
from app.services.polls import is_expired


def poll_json(poll: Poll, tally: dict[int, int], own: list[int] | None, viewer_id: int | None) -> dict[str, Any]:
    expired = is_expired(poll)
    show_totals = expired or not poll.hide_totals
    data: dict[str, Any] = {
        "id": str(poll.id),
        "expires_at": iso_datetime(poll.expires_at) if poll.expires_at else None,
        "expired": expired,
        "multiple": poll.multiple,
        "votes_count": poll.votes_count,
        "voters_count": poll.voters_count,
        "options": [{"title": title, "votes_count": tally.get(i, 0) if show_totals else None}
                    for i, title in enumerate(poll.options)],
        "emojis": [],
    }
    if viewer_id is not None:
        own = own or []
        data["voted"] = viewer_id == poll.account_id or bool(own)
        data["own_votes"] = own
    return data
