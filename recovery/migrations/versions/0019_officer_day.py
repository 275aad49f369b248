"""the officer's day: an early warning called back records its cause; closed assessment months

Revision ID: 0019_officer_day
Revises: 0018
Create Date: 2026-12-07 12:00:00

"""
import sqlalchemy as sa
from alembic import op

import recovery.types


revision = '0019_officer_day'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch): SQLite adds a nullable column in place.
    op.add_column('work_items', sa.Column('cause', sa.String(length=30), nullable=True))
    op.create_table(
        'closed_assessments',
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('table_json', sa.Text(), nullable=False),
        sa.Column('closed_by', sa.String(length=100), nullable=False),
        sa.Column('closed_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('month', 'kind'),
    )


def downgrade():
    op.drop_table('closed_assessments')
    with op.batch_alter_table('work_items') as batch:
        batch.drop_column('cause')
