"""search: full-text indexes, followed tags, trends

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# The words of a post: its content warning and its source text (local posts), or its HTML with
# the tags stripped (remote posts have no source). The built-in 'simple' configuration: no
# stemming and no stop words, so it works the same for every language, and needs no extension
# (the embedded PostgreSQL has none). A generated column is indexed in the posting transaction
# itself, so a post is searchable the moment it is committed. See docs/search.md.
STATUS_VECTOR = (
    "to_tsvector('simple'::regconfig, spoiler_text || ' ' || "
    "CASE WHEN text <> '' THEN text ELSE regexp_replace(content, '<[^>]*>', ' ', 'g') END)"
)


def upgrade() -> None:
    op.execute(f"ALTER TABLE statuses ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({STATUS_VECTOR}) STORED")
    op.execute("CREATE INDEX ix_statuses_search_vector ON statuses USING gin (search_vector)")
    # Account prefix search: lower() with text_pattern_ops so LIKE 'abc%' uses the btree
    # whatever the database collation; display names also by the prefix of any word.
    op.execute("CREATE INDEX ix_accounts_username_prefix ON accounts (lower(username) text_pattern_ops)")
    op.execute("CREATE INDEX ix_accounts_display_name_prefix ON accounts (lower(display_name) text_pattern_ops)")
    op.execute("CREATE INDEX ix_accounts_display_name_words ON accounts "
               "USING gin (to_tsvector('simple'::regconfig, display_name))")
    op.execute("CREATE INDEX ix_tags_name_prefix ON tags (lower(name) text_pattern_ops)")
    op.create_table('tag_follows',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('tag_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'tag_id')
    )
    op.create_index(op.f('ix_tag_follows_tag_id'), 'tag_follows', ['tag_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_tag_follows_tag_id'), table_name='tag_follows')
    op.drop_table('tag_follows')
    op.execute("DROP INDEX IF EXISTS ix_tags_name_prefix")
    op.execute("DROP INDEX IF EXISTS ix_accounts_display_name_words")
    op.execute("DROP INDEX IF EXISTS ix_accounts_display_name_prefix")
    op.execute("DROP INDEX IF EXISTS ix_accounts_username_prefix")
    op.execute("DROP INDEX IF EXISTS ix_statuses_search_vector")
    op.execute("ALTER TABLE statuses DROP COLUMN IF EXISTS search_vector")
