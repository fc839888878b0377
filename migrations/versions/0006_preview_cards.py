"""preview cards: link previews and the card of each status

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('preview_cards',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('author_name', sa.Text(), nullable=False),
    sa.Column('author_url', sa.Text(), nullable=False),
    sa.Column('provider_name', sa.Text(), nullable=False),
    sa.Column('provider_url', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('image_url', sa.Text(), nullable=True),
    sa.Column('embed_url', sa.Text(), nullable=False),
    sa.Column('blurhash', sa.Text(), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('trendable', sa.Boolean(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('url')
    )
    op.create_table('status_preview_cards',
    sa.Column('status_id', sa.BigInteger(), nullable=False),
    sa.Column('preview_card_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['preview_card_id'], ['preview_cards.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['status_id'], ['statuses.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('status_id')
    )
    op.create_index('ix_status_preview_cards_card_id_status_id', 'status_preview_cards',
                    ['preview_card_id', sa.text('status_id DESC')], unique=False)


def downgrade() -> None:
    op.drop_index('ix_status_preview_cards_card_id_status_id', table_name='status_preview_cards')
    op.drop_table('status_preview_cards')
    op.drop_table('preview_cards')
