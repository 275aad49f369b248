"""visits and calls, promises to pay, pay plans and their installments, work items

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 04:37:05.840688

"""
from alembic import op
import sqlalchemy as sa

import recovery.types


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('pay_plans',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_pay_plans_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pay_plans'))
    )
    with op.batch_alter_table('pay_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pay_plans_customer_id'), ['customer_id'], unique=False)

    op.create_table('visits',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('officer', sa.String(length=100), nullable=False),
    sa.Column('visited_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('next_step', sa.String(length=200), nullable=True),
    sa.Column('next_on', sa.Date(), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_visits_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_customer_at', ['customer_id', 'visited_at'], unique=False)

    op.create_table('work_items',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('priority_fen', sa.BigInteger(), nullable=False),
    sa.Column('assigned_to', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('done_by', sa.String(length=100), nullable=True),
    sa.Column('done_at', recovery.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('source_type', sa.String(length=20), nullable=True),
    sa.Column('source_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_work_items_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_items')),
    sa.UniqueConstraint('customer_id', 'kind', 'reason', 'due_on', name=op.f('uq_work_items_customer_id_kind_reason_due_on'))
    )
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_items_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_work_items_status_due', ['status', 'due_on'], unique=False)

    op.create_table('pay_plan_installments',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('plan_id', sa.BigInteger(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['pay_plans.id'], name=op.f('fk_pay_plan_installments_plan_id_pay_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pay_plan_installments')),
    sa.UniqueConstraint('plan_id', 'seq', name=op.f('uq_pay_plan_installments_plan_id_seq'))
    )
    with op.batch_alter_table('pay_plan_installments', schema=None) as batch_op:
        batch_op.create_index('ix_installments_due', ['due_on'], unique=False)

    op.create_table('promises',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('promised_on', sa.Date(), nullable=False),
    sa.Column('made_on', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('visit_id', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_promises_customer_id_customers')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_promises_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promises'))
    )
    with op.batch_alter_table('promises', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promises_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_promises_status_due', ['status', 'promised_on'], unique=False)



def downgrade():
    with op.batch_alter_table('promises', schema=None) as batch_op:
        batch_op.drop_index('ix_promises_status_due')
        batch_op.drop_index(batch_op.f('ix_promises_customer_id'))

    op.drop_table('promises')
    with op.batch_alter_table('pay_plan_installments', schema=None) as batch_op:
        batch_op.drop_index('ix_installments_due')

    op.drop_table('pay_plan_installments')
    with op.batch_alter_table('work_items', schema=None) as batch_op:
        batch_op.drop_index('ix_work_items_status_due')
        batch_op.drop_index(batch_op.f('ix_work_items_customer_id'))

    op.drop_table('work_items')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_customer_at')

    op.drop_table('visits')
    with op.batch_alter_table('pay_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pay_plans_customer_id'))

    op.drop_table('pay_plans')
