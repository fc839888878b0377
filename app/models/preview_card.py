"""Link preview cards: what a linked page says about itself (OpenGraph, Twitter cards, <title>),
shared by every status that links to the same URL (docs/preview_cards.md)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Text, text
from sqlmodel import Field, SQLModel

from app.models.base import fk, id_field, timestamp

CARD_TYPES = ("link", "photo", "video", "rich")


class PreviewCard(SQLModel, table=True):
    __tablename__ = "preview_cards"

    id: int | None = id_field()
    url: str = Field(sa_column=Column(Text, nullable=False, unique=True))  # the link as posted
    title: str = Field(default="", sa_type=Text)
    description: str = Field(default="", sa_type=Text)
    type: str = Field(default="link", max_length=16)
    author_name: str = Field(default="", sa_type=Text)
    author_url: str = Field(default="", sa_type=Text)
    provider_name: str = Field(default="", sa_type=Text)
    provider_url: str = Field(default="", sa_type=Text)
    html: str = Field(default="", sa_type=Text)  # built by us (a video player iframe), never the page's
    width: int = 0
    height: int = 0
    image_url: str | None = Field(default=None, sa_type=Text)  # remote; not downloaded
    embed_url: str = Field(default="", sa_type=Text)
    blurhash: str | None = Field(default=None, sa_type=Text)
    language: str | None = Field(default=None, max_length=16)
    published_at: datetime | None = timestamp()
    # Moderators may keep a card out of trends (nothing sets it yet: trends are not reviewed).
    trendable: bool = True
    fetched_at: datetime = timestamp(now=True)
    created_at: datetime = timestamp(now=True)


class StatusPreviewCard(SQLModel, table=True):
    """The card of a status: one at most, for its first link (as Mastodon)."""

    __tablename__ = "status_preview_cards"
    # A card's recent shares (trend history) are an index range.
    __table_args__ = (Index("ix_status_preview_cards_card_id_status_id", "preview_card_id", text("status_id DESC")),)

    status_id: int = Field(sa_column=Column(BigInteger, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True))
    preview_card_id: int = fk("preview_cards.id", index=False)
