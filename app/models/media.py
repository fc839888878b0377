"""Media attachments: uploaded (and later fetched) files, processed in a worker."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from app.models.base import fk, id_field, timestamp

MEDIA_STATES = ("processing", "ready", "failed")


class MediaAttachment(SQLModel, table=True):
    __tablename__ = "media_attachments"

    id: int | None = id_field()
    account_id: int = fk("accounts.id")
    # Set when attached to a post; NULL while an upload waits to be used.
    status_id: int | None = fk("statuses.id", nullable=True, ondelete="SET NULL")
    type: str = Field(default="image", max_length=16)  # image | gifv | video | audio | unknown
    state: str = Field(default="processing", max_length=16)
    error: str | None = Field(default=None, sa_type=Text)  # why processing failed
    content_type: str = Field(default="", max_length=128)
    file_size: int = 0
    original_key: str | None = Field(default=None, sa_type=Text)  # storage key of the upload as received
    file_key: str | None = Field(default=None, sa_type=Text)  # processed file
    preview_key: str | None = Field(default=None, sa_type=Text)
    remote_url: str | None = Field(default=None, sa_type=Text)
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}"))
    description: str | None = Field(default=None, sa_type=Text)
    focus_x: float = 0.0
    focus_y: float = 0.0
    blurhash: str | None = Field(default=None, max_length=128)
    position: int = 0  # order within the post
    created_at: datetime = timestamp(now=True)
    updated_at: datetime = timestamp(now=True)
