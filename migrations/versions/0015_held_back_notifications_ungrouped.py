"""notifications: those held back by the notification policy join no group

A held-back notification is now made without a group key (Mastodon's set_group_key! skips
filtered ones), and groups opened by key no longer leave held-back rows out: rows made before
lose their key here, so no group of accepted notifications counts a sender the policy hid.

Revision ID: 0015
Revises: 0014
"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE notifications SET group_key = NULL WHERE filtered AND group_key IS NOT NULL")


def downgrade() -> None:
    pass  # the keys are not needed by the code before: it left held-back rows out of groups
