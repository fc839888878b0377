"""account conversations: direct-message conversations per local participant

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('account_conversations',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('conversation_id', sa.BigInteger(), nullable=False),
    sa.Column('participant_account_ids', postgresql.ARRAY(sa.BigInteger()), nullable=False),
    sa.Column('status_ids', postgresql.ARRAY(sa.BigInteger()), nullable=False),
    sa.Column('last_status_id', sa.BigInteger(), nullable=False),
    sa.Column('unread', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'conversation_id', 'participant_account_ids')
    )
    op.create_index('ix_account_conversations_account_last_status', 'account_conversations',
                    ['account_id', sa.text('last_status_id DESC')], unique=False)
    # Which conversations hold a status (a deletion takes it out of them).
    op.create_index('ix_account_conversations_status_ids', 'account_conversations', ['status_ids'],
                    unique=False, postgresql_using='gin')


def downgrade() -> None:
    op.drop_index('ix_account_conversations_status_ids', table_name='account_conversations')
    op.drop_index('ix_account_conversations_account_last_status', table_name='account_conversations')
    op.drop_table('account_conversations')
