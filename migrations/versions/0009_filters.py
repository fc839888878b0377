"""filters: custom filters with their keywords and statuses

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('custom_filters',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('context', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('filter_action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_custom_filters_account_id'), 'custom_filters', ['account_id'], unique=False)
    op.create_table('custom_filter_keywords',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('custom_filter_id', sa.BigInteger(), nullable=False),
    sa.Column('keyword', sa.Text(), nullable=False),
    sa.Column('whole_word', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['custom_filter_id'], ['custom_filters.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_custom_filter_keywords_custom_filter_id'), 'custom_filter_keywords',
                    ['custom_filter_id'], unique=False)
    op.create_table('custom_filter_statuses',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('custom_filter_id', sa.BigInteger(), nullable=False),
    sa.Column('status_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['custom_filter_id'], ['custom_filters.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['status_id'], ['statuses.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('custom_filter_id', 'status_id')
    )
    op.create_index(op.f('ix_custom_filter_statuses_status_id'), 'custom_filter_statuses', ['status_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_custom_filter_statuses_status_id'), table_name='custom_filter_statuses')
    op.drop_table('custom_filter_statuses')
    op.drop_index(op.f('ix_custom_filter_keywords_custom_filter_id'), table_name='custom_filter_keywords')
    op.drop_table('custom_filter_keywords')
    op.drop_index(op.f('ix_custom_filters_account_id'), table_name='custom_filters')
    op.drop_table('custom_filters')
