"""write offs referrals and assessment

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 05:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import recovery.types  # noqa: F401


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    pass


def downgrade():
    pass
