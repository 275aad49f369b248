"""dunning ladder state and exemptions

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 05:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import recovery.types  # noqa: F401


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    pass


def downgrade():
    pass
