"""lists and markers

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lists',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('replies_policy', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('exclusive', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_lists_account_id'), 'lists', ['account_id'], unique=False)
    op.create_table('list_accounts',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('list_id', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('follow_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['follow_id'], ['follows.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['list_id'], ['lists.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('list_id', 'account_id')
    )
    op.create_index(op.f('ix_list_accounts_account_id'), 'list_accounts', ['account_id'], unique=False)
    op.create_index(op.f('ix_list_accounts_follow_id'), 'list_accounts', ['follow_id'], unique=False)
    op.create_table('markers',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('timeline', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('last_read_id', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'timeline')
    )


def downgrade() -> None:
    op.drop_table('markers')
    op.drop_index(op.f('ix_list_accounts_follow_id'), table_name='list_accounts')
    op.drop_index(op.f('ix_list_accounts_account_id'), table_name='list_accounts')
    op.drop_table('list_accounts')
    op.drop_index(op.f('ix_lists_account_id'), table_name='lists')
    op.drop_table('lists')
