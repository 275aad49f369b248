"""segments and account managers

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 05:00:00

"""
from alembic import op
import sqlalchemy as sa

import recovery.types


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('account_managers',
    sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('manager_id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=True),
    sa.Column('assigned_on', sa.Date(), nullable=False),
    sa.Column('assigned_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_account_managers_customer_id_customers')),
    sa.ForeignKeyConstraint(['deputy_id'], ['users.id'], name=op.f('fk_account_managers_deputy_id_users')),
    sa.ForeignKeyConstraint(['manager_id'], ['users.id'], name=op.f('fk_account_managers_manager_id_users')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_account_managers'))
    )
    with op.batch_alter_table('account_managers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_managers_deputy_id'), ['deputy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_managers_manager_id'), ['manager_id'], unique=False)

    op.create_table('customer_segments',
    sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('monthly_bill_fen', sa.BigInteger(), nullable=False),
    sa.Column('value_rank', sa.Integer(), nullable=False),
    sa.Column('value_segment', sa.String(length=12), nullable=False),
    sa.Column('pd', sa.Float(), nullable=True),
    sa.Column('risk_segment', sa.String(length=10), nullable=False),
    sa.Column('visit_every_days', sa.Integer(), nullable=True),
    sa.Column('call_every_days', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_segments_customer_id_customers')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_segments'))
    )
    with op.batch_alter_table('customer_segments', schema=None) as batch_op:
        batch_op.create_index('ix_customer_segments_value', ['value_segment'], unique=False)


def downgrade():
    with op.batch_alter_table('customer_segments', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_segments_value')

    op.drop_table('customer_segments')
    with op.batch_alter_table('account_managers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_managers_manager_id'))
        batch_op.drop_index(batch_op.f('ix_account_managers_deputy_id'))

    op.drop_table('account_managers')
