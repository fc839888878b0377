"""follows and follow requests: "all languages" as SQL NULL, not JSON null

Revision ID: 0010
Revises: 0009
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows written before the model said none_as_null: JSON `null` meant "all languages" too.
    for table in ('follows', 'follow_requests'):
        op.execute(f"UPDATE {table} SET languages = NULL WHERE CAST(languages AS text) = 'null'")


def downgrade() -> None:
    pass  # SQL NULL already means what JSON null meant
