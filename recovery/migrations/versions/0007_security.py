"""deposits, guarantees and security tasks

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 20:40:00

"""
from alembic import op
import sqlalchemy as sa

import recovery.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
