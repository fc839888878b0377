"""StatusEdit (one revision, for /history) and StatusSource (for /source), as Mastodon renders them."""
from __future__ import annotations

from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.api.entities.account import account_json, iso_datetime
from app.api.entities.media_attachment import media_attachment_json
from app.models import Account, MediaAttachment, Status, StatusEdit


async def render_history(session: AsyncSession, status: Status, edits: list[StatusEdit]) -> list[dict[str, Any]]:
    """The revisions, oldest first, with the media each one had (two queries in all)."""
    author = await session.get(Account, status.account_id)
    media_ids = {i for edit in edits for i in edit.media_attachment_ids or []}
    media = {}
    if media_ids:
        media = {m.id: m for m in (await session.exec(
            select(MediaAttachment).where(MediaAttachment.id.in_(media_ids)))).all()}
    author_json = account_json(author)
    items = []
    for edit in edits:
        item: dict[str, Any] = {
            "content": edit.content,
            "spoiler_text": edit.spoiler_text,
            "sensitive": edit.sensitive,
            "created_at": iso_datetime(edit.created_at),
            "account": author_json,
            "poll": {"options": [{"title": title} for title in edit.poll_options]} if edit.poll_options else None,
            "media_attachments": [media_attachment_json(media[i]) for i in edit.media_attachment_ids or [] if i in media],
            "emojis": [],
        }
        items.append(item)
    return items


def status_source_json(status: Status) -> dict[str, Any]:
    return {"id": str(status.id), "text": status.text, "spoiler_text": status.spoiler_text}
