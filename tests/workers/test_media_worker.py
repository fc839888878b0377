"""The process_media actor: idempotent, and a bad upload ends as `failed`, never in a retry loop."""
from __future__ import annotations

import asyncio
import io
from pathlib import Path

from PIL import Image

from app import db
from app.models import MediaAttachment, OutboxJob
from app.models.base import utcnow
from app.services import media_files
from tests.support.world import make_user


def jpeg(size=(1200, 900)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (90, 30, 160)).save(out, "JPEG")
    return out.getvalue()


async def stored_upload(account_id: int, data: bytes, key: str = "media_attachments/uploads/worker-test") -> tuple[int, int]:
    """An upload as POST /api/v2/media leaves it, but with its job not enqueued: we run the actor by hand."""
    media_files.storage().save(key, data)
    async with db.session() as session:
        attachment = MediaAttachment(account_id=account_id, state="processing", original_key=key, file_size=len(data))
        session.add(attachment)
        await session.flush()
        job = OutboxJob(actor_name="process_media", kwargs={"media_id": attachment.id}, enqueued_at=utcnow())
        session.add(job)
        await session.flush()
        return attachment.id, job.id


async def run_actor(**kwargs) -> None:
    # The real actor, run on the worker's event loop. Imported here, not at collection time:
    # the module must first be loaded by the worker pool, after the app set up its broker.
    from workers.media import process_media

    await asyncio.to_thread(process_media, **kwargs)


async def snapshot(media_id: int, settings) -> tuple[dict, dict[str, bytes]]:
    async with db.session() as session:
        row = (await session.get(MediaAttachment, media_id)).model_dump()
    root = Path(settings.media_root) / "media_attachments"
    files = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    return row, files


async def outbox_rows() -> int:
    async with db.session() as session:
        return len((await session.exec(OutboxJob.__table__.select())).all())


async def test_running_the_actor_twice_changes_nothing_the_second_time(settings):
    account, _ = await make_user("alice")
    media_id, outbox_id = await stored_upload(account.id, jpeg())

    await run_actor(media_id=media_id, outbox_id=outbox_id)
    first, first_files = await snapshot(media_id, settings)
    assert first["state"] == "ready"
    assert first["file_key"] and first["preview_key"] and first["blurhash"]
    assert first["original_key"] is None  # the upload as received is deleted
    assert first["meta"]["original"]["size"] == "1200x900"
    assert not (Path(settings.media_root) / "media_attachments/uploads/worker-test").exists()
    assert await outbox_rows() == 0

    # The same message delivered again, and even a forced re-run without the outbox row.
    await run_actor(media_id=media_id, outbox_id=outbox_id)
    await run_actor(media_id=media_id)
    assert await snapshot(media_id, settings) == (first, first_files)


async def test_a_corrupt_upload_fails_once_with_its_reason(settings):
    account, _ = await make_user("alice")
    media_id, outbox_id = await stored_upload(account.id, jpeg()[:2000])
    await run_actor(media_id=media_id, outbox_id=outbox_id)  # returns normally: nothing to retry
    row, _ = await snapshot(media_id, settings)
    assert row["state"] == "failed"
    assert row["error"] == "File could not be read: the image data is truncated or corrupt"
    assert row["file_key"] is None and row["original_key"] is None
    assert await outbox_rows() == 0


async def test_a_missing_upload_fails_instead_of_retrying(settings):
    account, _ = await make_user("alice")
    media_id, outbox_id = await stored_upload(account.id, jpeg(), key="media_attachments/uploads/vanishing")
    media_files.storage().delete("media_attachments/uploads/vanishing")
    await run_actor(media_id=media_id, outbox_id=outbox_id)
    row, _ = await snapshot(media_id, settings)
    assert (row["state"], row["error"]) == ("failed", "File is missing: the upload was not found in storage")
    assert await outbox_rows() == 0
