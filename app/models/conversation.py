"""Direct-message conversations as each local participant sees them (GET /api/v1/conversations).

One row per local account, conversation (the thread's `conversation_id`) and set of other
participants, as Mastodon's AccountConversation: the same thread with someone else added is
another conversation. `status_ids` are its direct posts; `last_status_id` the newest of them
(the conversations page by it); `unread` until the owner reads it or writes in it."""
from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from app.models.base import fk, id_field


class AccountConversation(SQLModel, table=True):
    __tablename__ = "account_conversations"
    __table_args__ = (
        UniqueConstraint("account_id", "conversation_id", "participant_account_ids"),
        Index("ix_account_conversations_account_last_status", "account_id", text("last_status_id DESC")),
        Index("ix_account_conversations_status_ids", "status_ids", postgresql_using="gin"),  # deletions
    )

    id: int | None = id_field()
    account_id: int = fk("accounts.id", index=False)
    conversation_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    participant_account_ids: list[int] = Field(sa_column=Column(ARRAY(BigInteger), nullable=False))  # sorted
    status_ids: list[int] = Field(sa_column=Column(ARRAY(BigInteger), nullable=False))
    last_status_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    unread: bool = False
