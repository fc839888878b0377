"""MediaAttachment, as Mastodon renders it.

    media_attachment_json(attachment)            # one attachment, no queries
    [media_attachment_json(a, store) for a in attachments]   # a post's list: pass one storage

`url` is null while an upload is still processing (Mastodon's ProcessingMediaAttachment);
`text_url` was removed from Mastodon in 3.5 and is left out.
"""
from __future__ import annotations

from typing import Any

from app.models import MediaAttachment
from app.services import media_files


def media_attachment_json(attachment: MediaAttachment, storage: media_files.Storage | None = None) -> dict[str, Any]:
    store = storage or media_files.storage()
    meta = dict(attachment.meta or {})
    meta["focus"] = {"x": attachment.focus_x, "y": attachment.focus_y}
    return {
        "id": str(attachment.id),
        "type": attachment.type,
        # Remote attachments not (yet) copied here point at the original server.
        "url": store.url(attachment.file_key) if attachment.file_key else attachment.remote_url,
        "preview_url": store.url(attachment.preview_key) if attachment.preview_key else None,
        "remote_url": attachment.remote_url,
        "meta": meta,
        "description": attachment.description,
        "blurhash": attachment.blurhash,
    }
