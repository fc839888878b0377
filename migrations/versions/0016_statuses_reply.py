"""statuses: `reply`, set for every post written as a reply, whether or not its parent is known

A remote post answering something this server never saw has no parent here (in_reply_to_id
and in_reply_to_account_id stay NULL), yet it is a reply: Mastodon keeps its `reply` flag and
leaves such posts out of the public timelines, home and lists. Rows made before this are
replies when they have a parent; the parentless ones among them cannot be told apart now.
Adding the column is instant (a constant default); the backfill rewrites every reply row
while the migration's transaction holds `statuses` locked, reads included: on a big instance,
a quiet hour's work.

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("statuses", sa.Column("reply", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE statuses SET reply = true WHERE in_reply_to_id IS NOT NULL")


def downgrade() -> None:
    op.drop_column("statuses", "reply")
