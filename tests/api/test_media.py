"""Media uploads through the Mastodon API: v2 (worker), v1 (inline), GET and PUT /api/v1/media/:id."""
from __future__ import annotations

import asyncio
import io
import os
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func
from sqlmodel import select

from app import db
from app.models import MediaAttachment, OutboxJob, Status
from app.services.instance import LIMITS
from tests.support.openapi import assert_matches_spec
from tests.support.world import bearer, make_user, token_for

ORIGINAL_PIXELS = 3840 * 2160
SMALL_PIXELS = 640 * 360


# --- images made for the tests ------------------------------------------------

def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def png(size=(300, 200), color=(20, 120, 220, 128)) -> bytes:
    return encode(Image.new("RGBA", size, color), "PNG")


def noise(size: tuple[int, int]) -> Image.Image:
    return Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))


def photo_with_exif(size=(4000, 2500)) -> bytes:
    """A JPEG whose camera says "rotate 90° clockwise to display", with a red top-left corner."""
    image = Image.new("RGB", size, (240, 240, 240))
    image.paste((255, 0, 0), (0, 0, 400, 400))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0131] = "secret-firmware 1.0"  # Software
    return encode(image, "JPEG", exif=exif.tobytes(), quality=80)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge bitmap: a decompression bomb."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


# --- helpers --------------------------------------------------------------------

async def signed_in(username="alice", scopes="read write follow push"):
    account, _ = await make_user(username)
    return account, bearer(await token_for(account, scopes))


def stored_files(settings) -> set[Path]:
    root = Path(settings.media_root) / "media_attachments"
    return {p.relative_to(root) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


async def row_counts() -> tuple[int, int]:
    async with db.session() as session:
        media = (await session.exec(select(func.count()).select_from(MediaAttachment))).one()
        jobs = (await session.exec(select(func.count()).select_from(OutboxJob))).one()
    return media, jobs


async def wait_until_processed(client, headers, media_id: str, timeout: float = 20.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        response = await client.get(f"/api/v1/media/{media_id}", headers=headers)
        if response.status_code != 206:
            return response
        assert_matches_spec(response, "GET", "/api/v1/media/{id}")
        assert response.json()["url"] is None
        if loop.time() > deadline:
            raise AssertionError("media still processing after the timeout")
        await asyncio.sleep(0.1)


def upload(data: bytes, name="picture.png", mime="image/png"):
    return {"file": (name, data, mime)}


# --- the happy paths -------------------------------------------------------------

async def test_v2_upload_is_processed_by_the_worker(client, settings):
    _, headers = await signed_in()
    before = stored_files(settings)
    response = await client.post("/api/v2/media", headers=headers,
                                 files=upload(photo_with_exif(), "IMG_0001.jpg", "image/jpeg"),
                                 data={"description": "A red square on a wall", "focus": "0.5,-0.25"})
    assert response.status_code == 202, response.text
    assert_matches_spec(response, "POST", "/api/v2/media")
    pending = response.json()
    assert pending["url"] is None
    assert pending["type"] == "image"
    assert pending["description"] == "A red square on a wall"
    assert pending["meta"]["focus"] == {"x": 0.5, "y": -0.25}

    response = await wait_until_processed(client, headers, pending["id"])
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "GET", "/api/v1/media/{id}")
    ready = response.json()
    assert ready["id"] == pending["id"]
    assert ready["url"].startswith(f"{settings.base_url}/system/media_attachments/")
    assert ready["preview_url"].startswith(f"{settings.base_url}/system/media_attachments/")
    assert ready["remote_url"] is None
    assert isinstance(ready["blurhash"], str) and len(ready["blurhash"]) > 6
    assert ready["description"] == "A red square on a wall"
    assert ready["meta"]["focus"] == {"x": 0.5, "y": -0.25}

    original = ready["meta"]["original"]
    # Upright (the camera's orientation applied) and within Mastodon's 3840x2160 pixel budget.
    assert original["height"] > original["width"]
    assert original["width"] * original["height"] <= ORIGINAL_PIXELS
    assert original["size"] == f"{original['width']}x{original['height']}"
    assert original["aspect"] == pytest.approx(original["width"] / original["height"])
    small = ready["meta"]["small"]
    assert small["width"] * small["height"] <= SMALL_PIXELS

    served = await client.get(ready["url"])
    assert served.status_code == 200
    image = Image.open(io.BytesIO(served.content))
    assert image.format == "JPEG"
    assert image.size == (original["width"], original["height"])
    assert len(image.getexif()) == 0 and "exif" not in image.info
    assert b"SpyCam" not in served.content and b"secret-firmware" not in served.content
    # The red corner was top-left in the sensor's frame; rotated 90° clockwise it is top-right.
    assert image.convert("RGB").getpixel((image.width - 20, 20))[0] > 200
    assert image.convert("RGB").getpixel((20, 20)) != image.convert("RGB").getpixel((image.width - 20, 20))

    preview = await client.get(ready["preview_url"])
    assert preview.status_code == 200
    assert Image.open(io.BytesIO(preview.content)).size == (small["width"], small["height"])

    # The upload as received (with its EXIF) is gone, and so is the outbox row.
    assert {p.parts[0] for p in stored_files(settings) - before} == {"original", "small"}
    assert await row_counts() == (1, 0)


async def test_v1_upload_answers_with_the_processed_attachment(client, settings):
    _, headers = await signed_in()
    response = await client.post("/api/v1/media", headers=headers, files=upload(png((300, 200))),
                                 data={"description": "semi-transparent blue"})
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "POST", "/api/v1/media")
    body = response.json()
    assert body["type"] == "image"
    assert body["meta"]["original"] == {"width": 300, "height": 200, "size": "300x200", "aspect": 1.5}
    assert body["meta"]["small"]["width"] == 300  # already within the preview budget
    assert body["meta"]["focus"] == {"x": 0.0, "y": 0.0}
    assert body["blurhash"]
    served = await client.get(body["url"])
    image = Image.open(io.BytesIO(served.content))
    assert image.format == "PNG" and image.mode == "RGBA"  # transparency kept
    assert image.getpixel((5, 5)) == (20, 120, 220, 128)
    # Nothing waits for a worker.
    assert await row_counts() == (1, 0)
    shown = await client.get(f"/api/v1/media/{body['id']}", headers=headers)
    assert shown.status_code == 200
    assert shown.json() == body


async def test_large_image_is_scaled_down_with_a_small_preview(client):
    _, headers = await signed_in()
    data = encode(Image.new("RGB", (5000, 2500), (10, 200, 10)), "JPEG")
    response = await client.post("/api/v1/media", headers=headers, files=upload(data, "wide.jpg", "image/jpeg"))
    assert response.status_code == 200, response.text
    meta = response.json()["meta"]
    assert meta["original"]["width"] * meta["original"]["height"] <= ORIGINAL_PIXELS
    assert meta["original"]["aspect"] == pytest.approx(2.0, rel=0.01)
    assert meta["small"]["width"] * meta["small"]["height"] <= SMALL_PIXELS
    assert meta["small"]["width"] > 600  # close to the 640x360-sized budget


async def test_gif_and_webp_are_accepted(client):
    _, headers = await signed_in()
    frames = [Image.new("P", (40, 30), i) for i in (1, 2)]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    webp = encode(Image.new("RGB", (50, 20), (1, 2, 3)), "WEBP")
    for data, name, mime in ((gif.getvalue(), "a.gif", "image/gif"), (webp, "b.webp", "image/webp")):
        response = await client.post("/api/v1/media", headers=headers, files=upload(data, name, mime))
        assert response.status_code == 200, response.text
        assert response.json()["type"] == "image"  # an animated GIF keeps its first frame (no gifv)


async def test_v2_custom_thumbnail_is_the_preview_at_once(client):
    _, headers = await signed_in()
    thumbnail = encode(Image.new("RGB", (100, 50), (0, 0, 0)), "PNG")
    response = await client.post("/api/v2/media", headers=headers,
                                 files={**upload(png((800, 600))), "thumbnail": ("t.png", thumbnail, "image/png")})
    assert response.status_code == 202, response.text
    pending = response.json()
    assert pending["url"] is None
    assert pending["preview_url"] and pending["meta"]["small"]["size"] == "100x50"
    ready = (await wait_until_processed(client, headers, pending["id"])).json()
    assert ready["preview_url"] == pending["preview_url"]
    assert ready["meta"]["small"]["size"] == "100x50"
    assert ready["meta"]["original"]["size"] == "800x600"


async def test_processing_attachment_answers_206(client):
    account, headers = await signed_in()
    async with db.session() as session:
        attachment = MediaAttachment(account_id=account.id, state="processing", original_key="media_attachments/uploads/x")
        session.add(attachment)
    response = await client.get(f"/api/v1/media/{attachment.id}", headers=headers)
    assert response.status_code == 206
    assert_matches_spec(response, "GET", "/api/v1/media/{id}")
    assert response.json()["url"] is None
    response = await client.put(f"/api/v1/media/{attachment.id}", headers=headers, data={"description": "soon"})
    assert response.status_code == 206
    assert response.json()["description"] == "soon"


async def test_put_changes_description_and_focus(client):
    _, headers = await signed_in()
    created = (await client.post("/api/v1/media", headers=headers, files=upload(png()),
                                 data={"description": "before"})).json()
    response = await client.put(f"/api/v1/media/{created['id']}", headers=headers,
                                data={"description": "after", "focus": "-1,1"})
    assert response.status_code == 200, response.text
    assert_matches_spec(response, "PUT", "/api/v1/media/{id}")
    assert response.json()["description"] == "after"
    assert response.json()["meta"]["focus"] == {"x": -1.0, "y": 1.0}
    assert response.json()["url"] == created["url"]

    # JSON bodies work too; what is not sent stays as it was.
    response = await client.put(f"/api/v1/media/{created['id']}", headers=headers, json={"focus": "0.1,0.2"})
    assert response.json()["description"] == "after"
    assert response.json()["meta"]["focus"] == {"x": 0.1, "y": 0.2}
    shown = (await client.get(f"/api/v1/media/{created['id']}", headers=headers)).json()
    assert shown["description"] == "after" and shown["meta"]["focus"] == {"x": 0.1, "y": 0.2}

    # An empty description removes it.
    response = await client.put(f"/api/v1/media/{created['id']}", headers=headers, data={"description": ""})
    assert response.json()["description"] is None


async def test_put_thumbnail_replaces_the_preview(client, settings):
    _, headers = await signed_in()
    created = (await client.post("/api/v1/media", headers=headers, files=upload(png()))).json()
    thumbnail = encode(Image.new("RGB", (1280, 720), (200, 0, 0)), "JPEG")
    response = await client.put(f"/api/v1/media/{created['id']}", headers=headers,
                                files={"thumbnail": ("t.jpg", thumbnail, "image/jpeg")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["preview_url"] != created["preview_url"]
    assert body["meta"]["small"] == {"width": 640, "height": 360, "size": "640x360", "aspect": pytest.approx(16 / 9)}
    assert body["meta"]["original"] == created["meta"]["original"]
    assert (await client.get(body["preview_url"])).status_code == 200
    assert (await client.get(created["preview_url"])).status_code == 404  # the old preview was removed


# --- bad input: a clear error, nothing stored, nothing changed ----------------------

def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def over_byte_limit() -> bytes:
    side = int((LIMITS.image_size_limit / 3) ** 0.5) + 60  # incompressible noise just over the limit
    data = encode(noise((side, side)), "PNG", compress_level=0)
    assert LIMITS.image_size_limit < len(data) < 10 * 1024 * 1024
    return data


def over_pixel_limit() -> bytes:
    image = Image.new("1", (8000, 4200))  # 33.6 million pixels, 1 bit each: a small file
    assert 8000 * 4200 > LIMITS.image_matrix_limit
    return encode(image, "PNG")


BAD_UPLOADS = {
    "text named .png": (upload(b"hello, I am plain text, not a picture\n" * 20), {}, "file", "is not a supported image"),
    "truncated png": (upload(truncated(encode(noise((200, 200)), "PNG"))), {}, "file", "truncated or corrupt"),
    "truncated jpeg": (upload(truncated(encode(noise((200, 200)), "JPEG")), "a.jpg", "image/jpeg"), {}, "file",
                       "truncated or corrupt"),
    "over the byte limit": (upload(over_byte_limit()), {}, "file", "file size must be at most 8 MB"),
    "over the pixel limit": (upload(over_pixel_limit()), {}, "file", "has too many pixels (8000x4200"),
    "decompression bomb": (upload(png_claiming(60000, 60000)), {}, "file", "has too many pixels"),
    "description too long": (upload(png()), {"description": "x" * 1501}, "description", "is too long (maximum is 1500"),
    "focus out of range": (upload(png()), {"focus": "0.5,1.5"}, "focus", "from -1.0 to 1.0"),
    "focus malformed": (upload(png()), {"focus": "middle"}, "focus", "from -1.0 to 1.0"),
    "focus with three numbers": (upload(png()), {"focus": "0,0,0"}, "focus", "from -1.0 to 1.0"),
    "missing file": ({}, {"description": "no file"}, "file", "can't be blank"),
    "bad thumbnail": ({**upload(png()), "thumbnail": ("t.png", b"GIF89a-not-really", "image/png")}, {}, "thumbnail",
                      "is not a supported image"),
}
# Truncated files only show when every byte is decoded: v2 finds out in the worker (tested below).
V2_BAD = {k: v for k, v in BAD_UPLOADS.items() if not k.startswith("truncated")}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
async def test_v1_refuses_bad_uploads_without_storing_anything(client, settings, case):
    files, data, field, message = BAD_UPLOADS[case]
    _, headers = await signed_in()
    before = stored_files(settings)
    response = await client.post("/api/v1/media", headers=headers, files=files or None,
                                 data=data or {"x": "1"})
    assert response.status_code == 422, response.text
    assert_matches_spec(response, "POST", "/api/v1/media")
    body = response.json()
    assert body["error"].startswith("Validation failed: ")
    assert message in body["details"][field][0]["description"]
    assert stored_files(settings) == before
    assert await row_counts() == (0, 0)


@pytest.mark.parametrize("case", list(V2_BAD))
async def test_v2_refuses_bad_uploads_without_storing_anything(client, settings, case):
    files, data, field, message = V2_BAD[case]
    _, headers = await signed_in()
    before = stored_files(settings)
    response = await client.post("/api/v2/media", headers=headers, files=files or None, data=data or {"x": "1"})
    assert response.status_code == 422, response.text
    assert_matches_spec(response, "POST", "/api/v2/media")
    assert message in response.json()["details"][field][0]["description"]
    assert stored_files(settings) == before
    assert await row_counts() == (0, 0)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
async def test_v2_truncated_image_fails_in_the_worker_with_the_reason(client, settings, fmt):
    _, headers = await signed_in()
    data = truncated(encode(noise((300, 300)), fmt))
    before = stored_files(settings)
    response = await client.post("/api/v2/media", headers=headers, files=upload(data, f"a.{fmt.lower()}"))
    assert response.status_code == 202, response.text
    media_id = response.json()["id"]
    response = await wait_until_processed(client, headers, media_id)
    assert response.status_code == 422
    assert_matches_spec(response, "GET", "/api/v1/media/{id}")
    assert "truncated or corrupt" in response.json()["error"]
    # The bad upload is not kept, and the job is done (no retry loop).
    assert stored_files(settings) == before
    assert await row_counts() == (1, 0)
    async with db.session() as session:
        attachment = await session.get(MediaAttachment, int(media_id))
    assert attachment.state == "failed" and "truncated" in attachment.error
    put = await client.put(f"/api/v1/media/{media_id}", headers=headers, data={"description": "x"})
    assert put.status_code == 422


async def test_bad_put_changes_nothing(client):
    _, headers = await signed_in()
    created = (await client.post("/api/v1/media", headers=headers, files=upload(png()),
                                 data={"description": "kept", "focus": "0.3,0.3"})).json()
    for data in ({"description": "y" * 1501}, {"focus": "2,0"}, {"focus": "a,b"},
                 {"description": "new", "focus": "nope"}):
        response = await client.put(f"/api/v1/media/{created['id']}", headers=headers, data=data)
        assert response.status_code == 422, data
        assert_matches_spec(response, "PUT", "/api/v1/media/{id}")
    shown = (await client.get(f"/api/v1/media/{created['id']}", headers=headers)).json()
    assert shown["description"] == "kept"
    assert shown["meta"]["focus"] == {"x": 0.3, "y": 0.3}


async def test_someone_elses_media_is_not_found(client):
    _, bob_headers = await signed_in("bob")
    _, alice_headers = await signed_in("alice")
    bobs = (await client.post("/api/v1/media", headers=bob_headers, files=upload(png()),
                              data={"description": "bob's"})).json()
    response = await client.get(f"/api/v1/media/{bobs['id']}", headers=alice_headers)
    assert response.status_code == 404
    assert_matches_spec(response, "GET", "/api/v1/media/{id}")
    assert response.json() == {"error": "Record not found"}
    response = await client.put(f"/api/v1/media/{bobs['id']}", headers=alice_headers, data={"description": "mine now"})
    assert response.status_code == 404
    assert_matches_spec(response, "PUT", "/api/v1/media/{id}")
    for missing in ("12345", "99999999999999999999999"):
        assert (await client.get(f"/api/v1/media/{missing}", headers=alice_headers)).status_code == 404
    assert (await client.get(f"/api/v1/media/{bobs['id']}", headers=bob_headers)).json()["description"] == "bob's"


async def test_attached_media_can_no_longer_be_fetched_or_edited(client):
    # Mastodon's rule: GET and PUT /api/v1/media/:id only see uploads not yet part of a post.
    account, headers = await signed_in()
    created = (await client.post("/api/v1/media", headers=headers, files=upload(png()))).json()
    async with db.session() as session:
        # Attach it by hand, without depending on the statuses service.
        status = Status(uri="urn:test:status", account_id=account.id)
        session.add(status)
        await session.flush()
        attachment = await session.get(MediaAttachment, int(created["id"]))
        attachment.status_id = status.id
    assert (await client.get(f"/api/v1/media/{created['id']}", headers=headers)).status_code == 404
    assert (await client.put(f"/api/v1/media/{created['id']}", headers=headers,
                             data={"description": "late"})).status_code == 404


async def test_authentication_and_scope(client, settings):
    account, _ = await make_user("alice")
    before = stored_files(settings)
    read_only = bearer(await token_for(account, "read"))
    media_only = bearer(await token_for(account, "write:media"))
    for method, path, spec_path in (("POST", "/api/v1/media", "/api/v1/media"),
                                    ("POST", "/api/v2/media", "/api/v2/media"),
                                    ("GET", "/api/v1/media/1", "/api/v1/media/{id}"),
                                    ("PUT", "/api/v1/media/1", "/api/v1/media/{id}")):
        files = upload(png()) if method == "POST" else None
        response = await client.request(method, path, files=files)
        assert response.status_code == 401, path
        assert_matches_spec(response, method, spec_path)
        response = await client.request(method, path, files=files, headers=read_only)
        assert response.status_code == 403, path  # (the OpenAPI description lists no 403 here)
        assert response.json() == {"error": "This action is outside the authorized scopes"}
    assert stored_files(settings) == before
    assert await row_counts() == (0, 0)
    response = await client.post("/api/v2/media", headers=media_only, files=upload(png()))
    assert response.status_code == 202
