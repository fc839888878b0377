"""list_accounts: a member may be an account the owner asked to follow, or the owner

As Mastodon (4.4): adding an account whose follow request is still pending works, and the
membership moves to the follow once the request is accepted; a list may hold its own owner.
`follow_id` becomes nullable and `follow_request_id` (deleted with its request) is added.

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column('list_accounts', 'follow_id', existing_type=sa.BigInteger(), nullable=True)
    op.add_column('list_accounts', sa.Column('follow_request_id', sa.BigInteger(), nullable=True))
    op.create_foreign_key('list_accounts_follow_request_id_fkey', 'list_accounts', 'follow_requests',
                          ['follow_request_id'], ['id'], ondelete='CASCADE')
    op.create_index(op.f('ix_list_accounts_follow_request_id'), 'list_accounts', ['follow_request_id'], unique=False)


def downgrade() -> None:
    # Memberships that hang on a request, or on nothing (the owner), cannot be kept.
    op.execute("DELETE FROM list_accounts WHERE follow_id IS NULL")
    op.drop_index(op.f('ix_list_accounts_follow_request_id'), table_name='list_accounts')
    op.drop_constraint('list_accounts_follow_request_id_fkey', 'list_accounts', type_='foreignkey')
    op.drop_column('list_accounts', 'follow_request_id')
    op.alter_column('list_accounts', 'follow_id', existing_type=sa.BigInteger(), nullable=False)
