"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 02:01:17.403516
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


SNOWFLAKE = """
CREATE SEQUENCE starling_id_seq;
-- Time-sortable 64-bit IDs: milliseconds since the epoch << 16 | a sequence.
-- Pass a timestamp to give a remote object an ID from its published time.
CREATE FUNCTION starling_id(ts timestamptz DEFAULT clock_timestamp()) RETURNS bigint AS $$
  SELECT ((floor(extract(epoch FROM ts) * 1000)::bigint) << 16) | (nextval('starling_id_seq') & 65535)
$$ LANGUAGE sql VOLATILE;
"""


def upgrade() -> None:
    op.execute(SNOWFLAKE)
    op.create_table('accounts',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('domain', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('note_source', sa.Text(), nullable=False),
    sa.Column('fields', sa.JSON(), server_default='[]', nullable=False),
    sa.Column('uri', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('inbox_url', sa.Text(), nullable=False),
    sa.Column('outbox_url', sa.Text(), nullable=False),
    sa.Column('shared_inbox_url', sa.Text(), nullable=False),
    sa.Column('followers_url', sa.Text(), nullable=False),
    sa.Column('following_url', sa.Text(), nullable=False),
    sa.Column('public_key_pem', sa.Text(), nullable=False),
    sa.Column('private_key_pem', sa.Text(), nullable=True),
    sa.Column('avatar_path', sa.Text(), nullable=True),
    sa.Column('avatar_remote_url', sa.Text(), nullable=True),
    sa.Column('header_path', sa.Text(), nullable=True),
    sa.Column('header_remote_url', sa.Text(), nullable=True),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('bot', sa.Boolean(), nullable=False),
    sa.Column('group', sa.Boolean(), nullable=False),
    sa.Column('discoverable', sa.Boolean(), nullable=False),
    sa.Column('indexable', sa.Boolean(), nullable=False),
    sa.Column('hide_collections', sa.Boolean(), nullable=False),
    sa.Column('followers_count', sa.Integer(), nullable=False),
    sa.Column('following_count', sa.Integer(), nullable=False),
    sa.Column('statuses_count', sa.Integer(), nullable=False),
    sa.Column('last_status_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('suspended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('silenced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('moved_to_account_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['moved_to_account_id'], ['accounts.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uri')
    )
    op.create_index('ix_accounts_username_domain', 'accounts', [sa.literal_column('lower(username)'), sa.literal_column("lower(coalesce(domain, ''))")], unique=True)
    op.create_table('instance_rules',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('hint', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('oauth_applications',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('website', sa.Text(), nullable=True),
    sa.Column('redirect_uris', sa.Text(), nullable=False),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('client_id', sa.Text(), nullable=False),
    sa.Column('client_secret', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id')
    )
    op.create_table('outbox_jobs',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('kwargs', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('oauth_access_tokens',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('application_id', sa.BigInteger(), nullable=True),
    sa.Column('account_id', sa.BigInteger(), nullable=True),
    sa.Column('token_hash', sa.Text(), nullable=False),
    sa.Column('refresh_token_hash', sa.Text(), nullable=True),
    sa.Column('authorization_code_id', sa.BigInteger(), nullable=True),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['application_id'], ['oauth_applications.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('refresh_token_hash'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_oauth_access_tokens_account_id'), 'oauth_access_tokens', ['account_id'], unique=False)
    op.create_index(op.f('ix_oauth_access_tokens_application_id'), 'oauth_access_tokens', ['application_id'], unique=False)
    op.create_index(op.f('ix_oauth_access_tokens_authorization_code_id'), 'oauth_access_tokens', ['authorization_code_id'], unique=False)
    op.create_table('oauth_authorization_codes',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('application_id', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('code_hash', sa.Text(), nullable=False),
    sa.Column('redirect_uri', sa.Text(), nullable=False),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('code_challenge', sa.Text(), nullable=True),
    sa.Column('code_challenge_method', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['application_id'], ['oauth_applications.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code_hash')
    )
    op.create_index(op.f('ix_oauth_authorization_codes_account_id'), 'oauth_authorization_codes', ['account_id'], unique=False)
    op.create_index(op.f('ix_oauth_authorization_codes_application_id'), 'oauth_authorization_codes', ['application_id'], unique=False)
    op.create_table('users',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('account_id', sa.BigInteger(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmation_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved', sa.Boolean(), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_by_application_id', sa.BigInteger(), nullable=True),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('default_privacy', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('default_sensitive', sa.Boolean(), nullable=False),
    sa.Column('default_language', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_sign_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_active_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_application_id'], ['oauth_applications.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_users_account_id'), 'users', ['account_id'], unique=False)
    op.create_index('ix_users_email', 'users', [sa.literal_column('lower(email)')], unique=True)
    op.create_table('web_sessions',
    sa.Column('id', sa.BigInteger(), server_default=sa.text('starling_id()'), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('token_hash', sa.Text(), nullable=False),
    sa.Column('user_agent', sa.Text(), nullable=False),
    sa.Column('ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_web_sessions_user_id'), 'web_sessions', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_web_sessions_user_id'), table_name='web_sessions')
    op.drop_table('web_sessions')
    op.drop_index('ix_users_email', table_name='users')
    op.drop_index(op.f('ix_users_account_id'), table_name='users')
    op.drop_table('users')
    op.drop_index(op.f('ix_oauth_authorization_codes_application_id'), table_name='oauth_authorization_codes')
    op.drop_index(op.f('ix_oauth_authorization_codes_account_id'), table_name='oauth_authorization_codes')
    op.drop_table('oauth_authorization_codes')
    op.drop_index(op.f('ix_oauth_access_tokens_authorization_code_id'), table_name='oauth_access_tokens')
    op.drop_index(op.f('ix_oauth_access_tokens_application_id'), table_name='oauth_access_tokens')
    op.drop_index(op.f('ix_oauth_access_tokens_account_id'), table_name='oauth_access_tokens')
    op.drop_table('oauth_access_tokens')
    op.drop_table('outbox_jobs')
    op.drop_table('oauth_applications')
    op.drop_table('instance_rules')
    op.drop_index('ix_accounts_username_domain', table_name='accounts')
    op.drop_table('accounts')
    op.execute('DROP FUNCTION starling_id(timestamptz); DROP SEQUENCE starling_id_seq;')
