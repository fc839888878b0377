"""suggestion dismissals: accounts taken out of someone's follow suggestions

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('suggestion_dismissals',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('target_account_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'target_account_id')
    )
    op.create_index(op.f('ix_suggestion_dismissals_target_account_id'), 'suggestion_dismissals',
                    ['target_account_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_suggestion_dismissals_target_account_id'), table_name='suggestion_dismissals')
    op.drop_table('suggestion_dismissals')
