"""an early warning called back records its cause

Revision ID: 0019_worklist_day
Revises: 0018
Create Date: 2026-12-07 12:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0019_worklist_day'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch): SQLite adds a nullable column in place.
    op.add_column('work_items', sa.Column('cause', sa.String(length=30), nullable=True))


def downgrade():
    with op.batch_alter_table('work_items') as batch:
        batch.drop_column('cause')
