"""notification filtering: each user's policy, the requests of filtered senders, accepted senders

`notifications.filtered` is added with a constant default, which PostgreSQL 11 and later
record in the catalogue without rewriting the table.

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

POLICY_COLUMNS = (("for_not_following", "accept"), ("for_not_followers", "accept"), ("for_new_accounts", "accept"),
                  ("for_private_mentions", "filter"), ("for_limited_accounts", "filter"))


def upgrade() -> None:
    op.add_column('notifications', sa.Column('filtered', sa.Boolean(), server_default=sa.text('false'),
                                             nullable=False))
    op.create_table('notification_policies',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    *(sa.Column(name, sa.Text(), server_default=sa.text(f"'{default}'"), nullable=False)
      for name, default in POLICY_COLUMNS),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    *(sa.CheckConstraint(f"{name} IN ('accept', 'filter', 'drop')", name=f'ck_notification_policies_{name}')
      for name, _ in POLICY_COLUMNS),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id')
    )
    op.create_table('notification_requests',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('from_account_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'from_account_id', name='ux_notification_requests_sender')
    )
    op.create_index(op.f('ix_notification_requests_from_account_id'), 'notification_requests', ['from_account_id'])
    op.create_table('notification_permissions',
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('from_account_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'from_account_id')
    )
    op.create_index(op.f('ix_notification_permissions_from_account_id'), 'notification_permissions',
                    ['from_account_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_notification_permissions_from_account_id'), table_name='notification_permissions')
    op.drop_table('notification_permissions')
    op.drop_index(op.f('ix_notification_requests_from_account_id'), table_name='notification_requests')
    op.drop_table('notification_requests')
    op.drop_table('notification_policies')
    op.drop_column('notifications', 'filtered')
