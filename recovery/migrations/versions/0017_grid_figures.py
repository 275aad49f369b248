"""the dashboard's figures per grid, kept nightly

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 06:20:00

"""
from alembic import op
import sqlalchemy as sa

import recovery.types


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('grid_figures',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('grid', sa.String(length=32), nullable=False),
    sa.Column('figure', sa.String(length=12), nullable=False),
    sa.Column('key', sa.String(length=12), nullable=False),
    sa.Column('first_fen', sa.BigInteger(), nullable=False),
    sa.Column('second', sa.BigInteger(), nullable=False),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_figures')),
    sa.UniqueConstraint('as_of', 'grid', 'figure', 'key', name=op.f('uq_grid_figures_as_of_grid_figure_key'))
    )
    with op.batch_alter_table('grid_figures', schema=None) as batch_op:
        batch_op.create_index('ix_grid_figures_as_of', ['as_of'], unique=False)


def downgrade():
    with op.batch_alter_table('grid_figures', schema=None) as batch_op:
        batch_op.drop_index('ix_grid_figures_as_of')
    op.drop_table('grid_figures')
