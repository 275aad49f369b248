"""direct debit mandates and batches, reversals, late-payment penalties

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 20:40:00

"""
from alembic import op
import sqlalchemy as sa

import recovery.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
