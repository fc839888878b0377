"""An account following a hashtag (POST /api/v1/tags/:name/follow)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import SQLModel

from app.models.base import fk, id_field, timestamp


class TagFollow(SQLModel, table=True):
    __tablename__ = "tag_follows"
    __table_args__ = (UniqueConstraint("account_id", "tag_id"),)

    id: int | None = id_field()
    account_id: int = fk("accounts.id", index=False)
    tag_id: int = fk("tags.id")
    created_at: datetime = timestamp(now=True)
