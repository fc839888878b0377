"""notifications

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

CASCADING = {
    'status_id': 'statuses.id',
    'mention_id': 'status_mentions.id',
    'follow_id': 'follows.id',
    'follow_request_id': 'follow_requests.id',
    'favourite_id': 'favourites.id',
    'poll_id': 'polls.id',
}


def upgrade() -> None:
    op.create_table('notifications',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('from_account_id', sa.BigInteger(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('activity_id', sa.BigInteger(), nullable=False),
    *[sa.Column(column, sa.BigInteger(), nullable=True) for column in CASCADING],
    sa.Column('group_key', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_account_id'], ['accounts.id'], ondelete='CASCADE'),
    *[sa.ForeignKeyConstraint([column], [target], ondelete='CASCADE') for column, target in CASCADING.items()],
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'type', 'activity_id', name='ux_notifications_activity')
    )
    op.create_index('ix_notifications_account_id_id', 'notifications', ['account_id', sa.literal_column('id DESC')])
    op.create_index('ix_notifications_account_id_from_account_id_id', 'notifications',
                    ['account_id', 'from_account_id', sa.literal_column('id DESC')])
    op.create_index('ix_notifications_account_id_group_key', 'notifications', ['account_id', 'group_key'],
                    postgresql_where=sa.text('group_key IS NOT NULL'))
    op.create_index(op.f('ix_notifications_from_account_id'), 'notifications', ['from_account_id'])
    for column in CASCADING:
        op.create_index(f'ix_notifications_{column}', 'notifications', [column],
                        postgresql_where=sa.text(f'{column} IS NOT NULL'))
    op.create_table('notification_sweeps',
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('swept_until', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('notification_sweeps')
    op.drop_table('notifications')
