"""Profile images (avatars and headers): checking, re-encoding and storing them.

    image = process(AVATAR, data, max_bytes)        # raises ImageProblem, pure CPU work
    path = new_path(AVATAR, image.extension)         # random name under accounts/avatars/
    storage().save(path, image.data)
    storage().url(path)                               # {base_url}/system/accounts/avatars/....png

Uploads are decoded with Pillow and written back out from the pixels alone, so
EXIF (camera, GPS), ICC profiles and any other metadata never reach the disk,
and anything Pillow cannot fully decode is refused. Storage sits behind a small
interface so an object store can replace the local disk later.
"""
from __future__ import annotations

import functools
import io
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from app.config import get_settings

FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "GIF": "GIF", "WEBP": "WebP"}
# Mastodon's limit on decoded pixels (7680x4320): a small file can still be a huge bitmap.
MAX_PIXELS = 33_177_600
JPEG_QUALITY = 90


class ImageProblem(Exception):
    """An upload we refuse; `description` completes a sentence starting with the image's name."""

    def __init__(self, code: str, description: str):
        super().__init__(description)
        self.code, self.description = code, description


@dataclass(frozen=True)
class ImageKind:
    name: str  # the API parameter: avatar | header
    folder: str  # under the storage root
    size: tuple[int, int]  # Mastodon crops to this aspect ratio and scales down to fit
    default_path: str  # the image served when none is uploaded


AVATAR = ImageKind("avatar", "accounts/avatars", (400, 400), "/avatars/original/missing.png")
HEADER = ImageKind("header", "accounts/headers", (1500, 500), "/headers/original/missing.png")


@dataclass(frozen=True)
class ProcessedImage:
    data: bytes
    extension: str
    width: int
    height: int


def megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):g} MB"


def _crop_to_fit(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Centre-crop to the target aspect ratio, then scale down (never up) to `size`."""
    target_w, target_h = size
    width, height = image.size
    if width * target_h > height * target_w:  # too wide
        new_w = max(1, round(height * target_w / target_h))
        left = (width - new_w) // 2
        image = image.crop((left, 0, left + new_w, height))
    elif width * target_h < height * target_w:  # too tall
        new_h = max(1, round(width * target_h / target_w))
        top = (height - new_h) // 2
        image = image.crop((0, top, width, top + new_h))
    if image.width > target_w:
        image = image.resize(size, Image.Resampling.LANCZOS)
    return image


def open_image(data: bytes, max_bytes: int, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open an upload and check what its header tells: byte size, format, pixel count
    (raises ImageProblem). The pixels are not decoded yet: `load()` them next."""
    if len(data) > max_bytes:
        raise ImageProblem("ERR_TOO_LARGE", f"file size must be at most {megabytes(max_bytes)}")
    supported = ", ".join(FORMATS.values())
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise ImageProblem("ERR_TOO_LARGE", f"has too many pixels (the limit is {max_pixels} pixels)") from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise ImageProblem("ERR_INVALID", f"is not a supported image (use {supported})") from None
    if image.format not in FORMATS:
        raise ImageProblem("ERR_INVALID", f"is not a supported image (use {supported})")
    if image.width * image.height > max_pixels:
        raise ImageProblem("ERR_TOO_LARGE", f"has too many pixels ({image.width}x{image.height}; "
                                            f"the limit is {max_pixels} pixels)")
    return image


def process(kind: ImageKind, data: bytes, max_bytes: int) -> ProcessedImage:
    """Check an upload and re-encode it without metadata (raises ImageProblem)."""
    image = open_image(data, max_bytes)
    # PNG and GIF stay lossless (drawings, transparency); photos become JPEG.
    lossless = image.format in ("PNG", "GIF") or image.mode in ("RGBA", "LA", "PA")
    try:
        image.load()  # decodes every byte: truncated or corrupt files fail here
        has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
        image = ImageOps.exif_transpose(image)  # keep the orientation the camera recorded
        image = image.convert("RGBA" if lossless and has_alpha else "RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ImageProblem("ERR_INVALID", "could not be read: the image data is truncated or corrupt") from None
    image = _crop_to_fit(image, kind.size)
    image.info = {}  # belt and braces: nothing from the upload is carried into the new file
    out = io.BytesIO()
    if lossless:
        image.save(out, "PNG", optimize=True)
        extension = "png"
    else:
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        extension = "jpg"
    return ProcessedImage(out.getvalue(), extension, image.width, image.height)


def new_path(kind: ImageKind, extension: str) -> str:
    """A fresh, unguessable name: files are never overwritten, so caches stay correct."""
    return f"{kind.folder}/{secrets.token_hex(16)}.{extension}"


class Storage(Protocol):
    def save(self, path: str, data: bytes) -> None: ...
    def read(self, path: str) -> bytes: ...  # FileNotFoundError when missing
    def delete(self, path: str) -> None: ...
    def url(self, path: str) -> str: ...


class LocalStorage:
    """Files under `root`, served by the app at {base_url}/system/<path>."""

    def __init__(self, root: Path, base_url: str):
        self.root, self.base_url = Path(root), base_url.rstrip("/")

    def _file(self, path: str) -> Path:
        target = (self.root / path).resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise ValueError(f"path escapes the media root: {path}")
        return target

    def save(self, path: str, data: bytes) -> None:
        target = self._file(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(data)
        os.replace(partial, target)  # readers never see half a file

    def read(self, path: str) -> bytes:
        return self._file(path).read_bytes()

    def delete(self, path: str) -> None:
        self._file(path).unlink(missing_ok=True)

    def url(self, path: str) -> str:
        return f"{self.base_url}/system/{path}"


def storage() -> Storage:
    settings = get_settings()
    return LocalStorage(settings.media_root, settings.base_url)


@functools.cache
def default_image(kind_name: str) -> bytes:
    """The picture shown when nobody uploaded one: a grey silhouette, a plain banner,
    and the instance's preview card (`thumbnail`)."""
    if kind_name == "avatar":
        image = Image.new("RGB", AVATAR.size, (201, 204, 214))
        draw = ImageDraw.Draw(image)
        draw.ellipse((130, 70, 270, 210), fill=(154, 159, 176))  # head
        draw.ellipse((60, 230, 340, 520), fill=(154, 159, 176))  # shoulders
    elif kind_name == "thumbnail":
        image = Image.new("RGB", (1200, 630), (99, 100, 255))
    else:
        image = Image.new("RGB", HEADER.size, (201, 204, 214))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
