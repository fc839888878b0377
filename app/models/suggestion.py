"""An account taken out of someone's follow suggestions (DELETE /api/v1/suggestions/:id)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import SQLModel

from app.models.base import fk, id_field, timestamp


class SuggestionDismissal(SQLModel, table=True):
    __tablename__ = "suggestion_dismissals"
    __table_args__ = (UniqueConstraint("account_id", "target_account_id"),)

    id: int | None = id_field()
    account_id: int = fk("accounts.id", index=False)  # who dismissed (the unique pair indexes it)
    target_account_id: int = fk("accounts.id")  # whom they do not want suggested again
    created_at: datetime = timestamp(now=True)
