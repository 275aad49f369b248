"""server-side session validity, and the sign-in lockout keyed by user name and source address

Revision ID: 0019_session_version
Revises: 0018
Create Date: 2026-12-07 11:40:00

"""
from alembic import op
import sqlalchemy as sa

import recovery.types


revision = '0019_session_version'
down_revision = '0019_officer_day'
branch_labels = None
depends_on = None


def upgrade():
    # Every sign-in stores the user's session version in the (signed) session cookie, and every request
    # compares it with this column: signing out, changing the password or deactivating the user raises it,
    # which ends every session opened before, wherever its cookie was saved.
    op.add_column('users', sa.Column('session_version', sa.Integer(), nullable=False, server_default='0'))
    # Failed sign-ins are counted per user name *and* source address, so that a stranger's wrong passwords
    # lock the stranger out, not the officer. The table holds only short-lived counters: it is recreated
    # with its new key rather than converted (a lock in force at the upgrade is lifted).
    op.drop_table('login_throttles')
    _throttles(('username', 'source'), with_source=True)


def downgrade():
    op.drop_table('login_throttles')
    _throttles(('username',), with_source=False)
    with op.batch_alter_table('users') as batch:
        batch.drop_column('session_version')


def _throttles(key, *, with_source):
    columns = [sa.Column('username', sa.String(length=64), nullable=False)]
    if with_source:
        columns.append(sa.Column('source', sa.String(length=64), nullable=False, server_default=''))
    op.create_table('login_throttles', *columns,
                    sa.Column('failures', sa.Integer(), nullable=False),
                    sa.Column('window_started_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
                    sa.Column('locked_until', recovery.types.UTCDateTime(timezone=True), nullable=True),
                    sa.PrimaryKeyConstraint(*key, name=op.f('pk_login_throttles')))
