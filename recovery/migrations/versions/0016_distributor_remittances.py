"""distributor remittances for recharge cards

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 05:20:00

"""
from alembic import op
import sqlalchemy as sa

import recovery.types


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('distributor_remittances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('distributor_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('remitted_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['distributor_id'], ['distributors.id'],
                            name=op.f('fk_distributor_remittances_distributor_id_distributors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distributor_remittances')),
    sa.UniqueConstraint('distributor_id', 'reference', name=op.f('uq_distributor_remittances_distributor_id_reference'))
    )
    with op.batch_alter_table('distributor_remittances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distributor_remittances_distributor_id'), ['distributor_id'], unique=False)


def downgrade():
    with op.batch_alter_table('distributor_remittances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distributor_remittances_distributor_id'))
    op.drop_table('distributor_remittances')
