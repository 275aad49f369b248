"""hardening audit immutability

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 05:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import recovery.types  # noqa: F401


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    # Sign-in lockout. The audit log's append-only triggers (UPDATE and DELETE refused, on both
    # databases) date from 0002; a TRUNCATE trigger is left out on purpose: withholding TRUNCATE
    # from the application's role is a grant (docs/operations.md), not a schema object.
    op.create_table('login_throttles',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', recovery.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_login_throttles'))
    )


def downgrade():
    op.drop_table('login_throttles')
