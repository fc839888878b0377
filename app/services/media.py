"""Media attachments: taking uploads in, turning them into safe images, and editing them.

    attachment = await upload(account_id, NewMedia(file=data, description=..., focus="0.5,-0.2"), inline=False)
        # POST /api/v2/media: the upload is stored as received, the row says `processing`,
        # and the `process_media` job is deferred in the same transaction.
    attachment = await upload(account_id, NewMedia(...), inline=True)
        # POST /api/v1/media: processed before answering; a bad image is a 422 and nothing is kept.
    await process_pending(media_id)           # the worker's half (idempotent)
    attachment = await find_own(account_id, media_id)
    attachment = await update(account_id, media_id, MediaChanges(description=..., focus=...))
    attachments = await attachable(session, account_id, ids)   # for posting

Only images are supported (see `app.services.instance.LIMITS.supported_mime_types`).
Every upload is decoded with Pillow and re-encoded from its pixels, so EXIF (GPS,
camera) never reaches the disk; the camera's orientation is applied first. The
original is scaled down to Mastodon's 3840x2160 pixel budget and a 640x360-budget
preview is made, with a blurhash. An animated GIF keeps only its first frame (no
video pipeline, so no `gifv`).
"""
from __future__ import annotations

import asyncio
import io
import math
import secrets
from dataclasses import dataclass
from typing import Any, Iterable

import blurhash
from PIL import Image, ImageOps
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app import db, jobs
from app.errors import ApiError, NotFound, Validation
from app.models import MediaAttachment
from app.models.base import utcnow
from app.services import media_files
from app.services.instance import LIMITS
from app.services.media_files import ImageProblem
from app.services.ids import MAX_ID

# Mastodon's image styles: "original" at most 3840x2160 worth of pixels, "small" 640x360.
ORIGINAL_PIXELS = 8_294_400
SMALL_PIXELS = 230_400
BLURHASH_COMPONENTS = (4, 4)  # Mastodon's x and y components
FOLDER = "media_attachments"
PROCESS_ACTOR = "process_media"
MISSING_UPLOAD = "File is missing: the upload was not found in storage"  # larger path ids cannot exist (and would overflow the column type)


@dataclass(frozen=True)
class Rendition:
    """One re-encoded image file and its geometry."""

    data: bytes
    extension: str
    content_type: str
    width: int
    height: int

    def meta(self) -> dict[str, Any]:
        return {"width": self.width, "height": self.height, "size": f"{self.width}x{self.height}",
                "aspect": self.width / self.height}


@dataclass(frozen=True)
class ProcessedImage:
    original: Rendition
    small: Rendition
    blurhash: str


@dataclass(frozen=True)
class NewMedia:
    """An upload as the API received it (file bytes already read, at most one byte past the limit)."""

    file: bytes | None
    thumbnail: bytes | None = None
    description: str | None = None
    focus: Any = None


@dataclass(frozen=True)
class MediaChanges:
    """PUT /api/v1/media/:id: None means "leave as it is"."""

    description: str | None = None
    focus: Any = None
    thumbnail: bytes | None = None


# ---------------------------------------------------------------------------
# Pixels (pure CPU work: callers run these in a thread)

def _fit(image: Image.Image, budget: int) -> Image.Image:
    """Scale down (never up) so that width x height stays within `budget` pixels."""
    width, height = image.size
    if width * height <= budget:
        return image
    scale = math.sqrt(budget / (width * height))
    size = (max(1, math.floor(width * scale)), max(1, math.floor(height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _encode(image: Image.Image, lossless: bool) -> Rendition:
    image.info = {}  # nothing from the upload (EXIF, ICC, comments) is carried into the new file
    out = io.BytesIO()
    if lossless:
        image.save(out, "PNG")
        return Rendition(out.getvalue(), "png", "image/png", image.width, image.height)
    image.save(out, "JPEG", quality=media_files.JPEG_QUALITY, optimize=True)
    return Rendition(out.getvalue(), "jpg", "image/jpeg", image.width, image.height)


def _decode(data: bytes) -> tuple[Image.Image, bool]:
    """Fully decode an upload, upright, as RGB or RGBA; and whether to keep it lossless."""
    image = media_files.open_image(data, LIMITS.image_size_limit, LIMITS.image_matrix_limit)
    # Drawings, screenshots and transparency stay PNG; photos become JPEG.
    lossless = image.format in ("PNG", "GIF") or image.mode in ("RGBA", "LA", "PA")
    try:
        image.load()  # decodes every byte: truncated or corrupt files fail here
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        image = ImageOps.exif_transpose(image)
        image = image.convert("RGBA" if lossless and has_alpha else "RGB")
    except Exception:  # Pillow raises many kinds of errors on hostile files; all mean "unreadable"
        raise ImageProblem("ERR_INVALID", "could not be read: the image data is truncated or corrupt") from None
    return image, lossless


def _blurhash(image: Image.Image) -> str:
    sample = image.convert("RGB")
    sample.thumbnail((64, 64))  # blurhash keeps only low frequencies; a tiny sample is enough and fast
    return blurhash.encode(sample, *BLURHASH_COMPONENTS)


def process_image(data: bytes) -> ProcessedImage:
    """An upload made safe: stripped, upright, within the pixel limits, with preview and blurhash.

    Raises ImageProblem for anything we refuse (size, type, pixel count, corrupt data).
    """
    image, lossless = _decode(data)
    try:
        original = _fit(image, ORIGINAL_PIXELS)
        small = _fit(original, SMALL_PIXELS)
        return ProcessedImage(_encode(original, lossless), _encode(small, lossless), _blurhash(small))
    except ImageProblem:
        raise
    except Exception:
        raise ImageProblem("ERR_INVALID", "could not be processed: the image data is corrupt") from None


def process_thumbnail(data: bytes) -> Rendition:
    """A custom preview (the `thumbnail` parameter): checked like any upload, at the preview size."""
    image, lossless = _decode(data)
    try:
        return _encode(_fit(image, SMALL_PIXELS), lossless)
    except Exception:
        raise ImageProblem("ERR_INVALID", "could not be processed: the image data is corrupt") from None


def check_upload(data: bytes) -> None:
    """The cheap checks (byte size, type, pixel count from the header) done before storing anything."""
    media_files.open_image(data, LIMITS.image_size_limit, LIMITS.image_matrix_limit).close()


# ---------------------------------------------------------------------------
# Parameters

def _description(raw: str | None, problems: Validation) -> str | None:
    """None: not given. '': clear it."""
    if raw is None:
        return None
    text = str(raw).strip()
    if len(text) > LIMITS.description_limit:
        problems.add("description", "ERR_TOO_LONG",
                     f"is too long (maximum is {LIMITS.description_limit} characters)")
    return text


def _focus(raw: Any, problems: Validation) -> tuple[float, float] | None:
    """Mastodon's focal point "x,y", each from -1.0 to 1.0; blank means "not given"."""
    if raw is None or raw == "":
        return None
    parts = raw if isinstance(raw, list) else str(raw).split(",")
    try:
        x, y = (float(str(p).strip()) for p in parts)
    except (TypeError, ValueError):
        x = y = math.nan
    if not all(math.isfinite(v) and -1.0 <= v <= 1.0 for v in (x, y)):
        problems.add("focus", "ERR_INVALID", "must be two numbers from -1.0 to 1.0 separated by a comma, like 0.5,-0.25")
        return None
    return x, y


async def _image_check(problems: Validation, field: str, work, data: bytes):
    try:
        return await asyncio.to_thread(work, data)
    except ImageProblem as problem:
        problems.add(field, problem.code, problem.description)
        return None


# ---------------------------------------------------------------------------
# Storage

def _key(style: str, token: str, extension: str = "") -> str:
    return f"{FOLDER}/{style}/{token}{'.' + extension if extension else ''}"


async def _save(files: dict[str, bytes]) -> None:
    store = media_files.storage()
    for key, data in files.items():
        await asyncio.to_thread(store.save, key, data)


async def _delete(keys: Iterable[str | None]) -> None:
    store = media_files.storage()
    for key in keys:
        if key:
            await asyncio.to_thread(store.delete, key)


def _ready(attachment: MediaAttachment, image: ProcessedImage, keys: tuple[str, str]) -> list[str]:
    """Fill in a processed image; returns the storage keys that are no longer used."""
    file_key, small_key = keys
    unused = [attachment.original_key]
    attachment.file_key = file_key
    attachment.content_type = image.original.content_type
    attachment.file_size = len(image.original.data)
    meta = {"original": image.original.meta()}
    if attachment.preview_key:  # a custom thumbnail came with the upload (or a PUT): keep it
        unused.append(small_key)
        meta["small"] = (attachment.meta or {}).get("small")
    else:
        attachment.preview_key = small_key
        meta["small"] = image.small.meta()
    attachment.meta = meta
    attachment.blurhash = image.blurhash
    attachment.type = "image"
    attachment.state = "ready"
    attachment.error = None
    attachment.original_key = None
    attachment.updated_at = utcnow()
    return [k for k in unused if k]


def _processed_files(image: ProcessedImage) -> tuple[dict[str, bytes], tuple[str, str]]:
    token = secrets.token_hex(16)
    file_key = _key("original", token, image.original.extension)
    small_key = _key("small", token, image.small.extension)
    return {file_key: image.original.data, small_key: image.small.data}, (file_key, small_key)


# ---------------------------------------------------------------------------
# Services

async def upload(account_id: int, new: NewMedia, *, inline: bool) -> MediaAttachment:
    """Create an attachment (raises ValidationFailed, storing nothing)."""
    problems = Validation()
    description = _description(new.description, problems)
    focus = _focus(new.focus, problems)
    image: ProcessedImage | None = None
    if new.file is None or len(new.file) == 0:
        problems.add("file", "ERR_BLANK", "can't be blank")
    elif inline:
        image = await _image_check(problems, "file", process_image, new.file)
    else:
        await _image_check(problems, "file", check_upload, new.file)
    thumbnail = None
    if new.thumbnail is not None:
        thumbnail = await _image_check(problems, "thumbnail", process_thumbnail, new.thumbnail)
    problems.raise_if_any()

    attachment = MediaAttachment(account_id=account_id, description=description or None, state="processing",
                                 content_type="", file_size=len(new.file), meta={})
    if focus is not None:
        attachment.focus_x, attachment.focus_y = focus
    files: dict[str, bytes] = {}
    if thumbnail is not None:
        attachment.preview_key = _key("small", secrets.token_hex(16), thumbnail.extension)
        attachment.meta = {"small": thumbnail.meta()}
        files[attachment.preview_key] = thumbnail.data
    unused: list[str] = []
    if image is not None:
        processed, keys = _processed_files(image)
        files.update(processed)
        unused = _ready(attachment, image, keys)
    else:
        attachment.original_key = _key("uploads", secrets.token_hex(16))
        files[attachment.original_key] = new.file

    try:
        await _save(files)
        async with db.session() as session:
            session.add(attachment)
            await session.flush()
            if attachment.state == "processing":
                jobs.defer(session, PROCESS_ACTOR, media_id=attachment.id)
    except BaseException:
        await _delete(files)  # nothing half written: the files go with the failed transaction
        raise
    await _delete(unused)
    return attachment


async def _fail(media_id: int, reason: str) -> None:
    async with db.session() as session:
        attachment = await session.get(MediaAttachment, media_id, with_for_update=True)
        if attachment is None or attachment.state != "processing":
            return
        raw = attachment.original_key
        attachment.state, attachment.error, attachment.type = "failed", reason, "unknown"
        attachment.original_key = None
        attachment.updated_at = utcnow()
    await _delete([raw])


async def process_pending(media_id: int) -> str | None:
    """Process a stored upload. Does nothing unless the attachment is still `processing`,
    so running it twice changes nothing. Returns the resulting state (None: no such row).

    A bad image ends as `failed` with the reason; storage or database errors propagate
    so the job is retried.
    """
    async with db.session() as session:
        attachment = await session.get(MediaAttachment, media_id)
    if attachment is None or attachment.state != "processing":
        return attachment.state if attachment else None
    if not attachment.original_key:
        await _fail(media_id, MISSING_UPLOAD)
        return "failed"
    try:
        data = await asyncio.to_thread(media_files.storage().read, attachment.original_key)
    except FileNotFoundError:
        await _fail(media_id, MISSING_UPLOAD)
        return "failed"
    try:
        image = await asyncio.to_thread(process_image, data)
    except ImageProblem as problem:
        await _fail(media_id, f"File {problem.description}")
        return "failed"

    files, keys = _processed_files(image)
    unused: list[str] = list(files)  # until we know this run is the one that counts
    try:
        await _save(files)
        async with db.session() as session:
            attachment = await session.get(MediaAttachment, media_id, with_for_update=True)
            if attachment is not None and attachment.state == "processing":
                unused = _ready(attachment, image, keys)
    except BaseException:
        await _delete(files)
        raise
    await _delete(unused)
    return "ready"


def _own(account_id: int, media_id: int):
    """An attachment of this account that is not yet part of a post (Mastodon's rule for GET and PUT)."""
    if not 0 < media_id <= MAX_ID:
        return None
    return select(MediaAttachment).where(MediaAttachment.id == media_id, MediaAttachment.account_id == account_id,
                                         MediaAttachment.status_id.is_(None))


def _refuse_failed(attachment: MediaAttachment) -> None:
    if attachment.state == "failed":
        raise ApiError(f"Error processing uploaded media: {attachment.error or 'unknown error'}", 422)


async def find_own(account_id: int, media_id: int) -> MediaAttachment:
    query = _own(account_id, media_id)
    if query is None:
        raise NotFound()
    async with db.session() as session:
        attachment = (await session.exec(query)).first()
    if attachment is None:
        raise NotFound()
    _refuse_failed(attachment)
    return attachment


async def update(account_id: int, media_id: int, changes: MediaChanges) -> MediaAttachment:
    """Change description, focus or preview of an unattached upload (raises NotFound, ValidationFailed)."""
    query = _own(account_id, media_id)
    if query is None:
        raise NotFound()
    problems = Validation()
    description = _description(changes.description, problems)
    focus = _focus(changes.focus, problems)
    thumbnail = None
    if changes.thumbnail is not None:
        thumbnail = await _image_check(problems, "thumbnail", process_thumbnail, changes.thumbnail)
    # Someone else's id is a 404 even when the parameters are also wrong.
    async with db.session() as session:
        if (await session.exec(query)).first() is None:
            raise NotFound()
    problems.raise_if_any()

    files: dict[str, bytes] = {}
    new_preview = None
    if thumbnail is not None:
        new_preview = _key("small", secrets.token_hex(16), thumbnail.extension)
        files[new_preview] = thumbnail.data
    old_preview = None
    try:
        await _save(files)
        async with db.session() as session:
            attachment = (await session.exec(query.with_for_update())).first()
            if attachment is None:  # attached or deleted meanwhile
                raise NotFound()
            _refuse_failed(attachment)
            if description is not None:
                attachment.description = description or None
            if focus is not None:
                attachment.focus_x, attachment.focus_y = focus
            if thumbnail is not None:
                old_preview, attachment.preview_key = attachment.preview_key, new_preview
                attachment.meta = {**(attachment.meta or {}), "small": thumbnail.meta()}
            attachment.updated_at = utcnow()
    except BaseException:
        await _delete(files)
        raise
    await _delete([old_preview])
    return attachment


async def attachable(session: AsyncSession, account_id: int, media_ids: list[int]) -> list[MediaAttachment]:
    """The attachments for a new post, in the order given, locked for the caller's transaction.

    Raises ApiError 422 (Mastodon's wording) unless every id is this account's, unattached
    and processed. The caller sets `status_id` and `position`.
    """
    ids = [int(i) for i in media_ids]
    if len(ids) > LIMITS.max_media_attachments:
        raise ApiError(f"Validation failed: Media attachments can't be more than "
                       f"{LIMITS.max_media_attachments}", 422)
    if not ids:
        return []
    if not all(0 < i <= MAX_ID for i in ids):
        raise ApiError("Validation failed: Media attachments are invalid", 422)
    found = {a.id: a for a in (await session.exec(
        select(MediaAttachment).where(MediaAttachment.id.in_(ids), MediaAttachment.account_id == account_id,
                                      MediaAttachment.status_id.is_(None)).with_for_update()
    )).all()}
    if len(found) != len(set(ids)):
        raise ApiError("Validation failed: Media attachments are invalid", 422)
    if any(a.state != "ready" for a in found.values()):
        raise ApiError("Cannot attach files that have not finished processing. Try again in a moment!", 422)
    return [found[i] for i in dict.fromkeys(ids)]
