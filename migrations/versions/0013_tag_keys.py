"""hashtag keys: a tag is known by its normalised name (app.text.hashtag_key), as in Mastodon

#Café, #cafe and #ＣＡＦＥ were three tags (matched by lower(name) only); they are one now.
Tags whose keys meet are merged into the oldest: its posts and followers are the union.

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

from app.text import hashtag_key

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('tags', sa.Column('key', sa.String(length=255), nullable=True))  # app.text.TAG_KEY_MAX
    connection = op.get_bind()
    keeper: dict[str, int] = {}
    keys, merges = [], []
    for tag_id, name in connection.execute(sa.text("SELECT id, name FROM tags ORDER BY id")).all():
        # A name holding nothing a hashtag can is no hashtag now (nothing finds or makes it):
        # its key is one no name has ('#' is never in a key), so it stays, unreachable, alone.
        key = hashtag_key(name) or f"#{tag_id}"
        oldest = keeper.setdefault(key, tag_id)
        if oldest == tag_id:
            keys.append({"id": tag_id, "key": key})
        else:
            merges.append({"keep": oldest, "merged": tag_id})
    if keys:
        connection.execute(sa.text("UPDATE tags SET key = :key WHERE id = :id"), keys)
    for merge in merges:
        for statement in (
                "INSERT INTO status_tags (status_id, tag_id) SELECT status_id, :keep FROM status_tags "
                "WHERE tag_id = :merged ON CONFLICT DO NOTHING",
                "INSERT INTO tag_follows (account_id, tag_id, created_at) SELECT account_id, :keep, created_at "
                "FROM tag_follows WHERE tag_id = :merged ON CONFLICT DO NOTHING",
                "UPDATE tags SET last_status_at = greatest(last_status_at, "
                "(SELECT last_status_at FROM tags WHERE id = :merged)) WHERE id = :keep",
                "DELETE FROM tags WHERE id = :merged"):
            connection.execute(sa.text(statement), merge)
    op.alter_column('tags', 'key', nullable=False)
    op.create_index('ux_tags_key', 'tags', ['key'], unique=True)
    op.drop_index('ux_tags_name', table_name='tags')
    # Hashtag search by prefix (app.services.search.tags), now on the key.
    op.execute("DROP INDEX IF EXISTS ix_tags_name_prefix")
    op.execute("CREATE INDEX ix_tags_key_prefix ON tags (key text_pattern_ops)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_tags_key_prefix")
    op.execute("CREATE INDEX ix_tags_name_prefix ON tags (lower(name) text_pattern_ops)")
    op.create_index('ux_tags_name', 'tags', [sa.literal_column('lower(name)')], unique=True)
    op.drop_index('ux_tags_key', table_name='tags')
    op.drop_column('tags', 'key')
