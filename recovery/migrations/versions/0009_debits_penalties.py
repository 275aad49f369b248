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
    op.create_table('debit_mandates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('bank_code', sa.String(length=40), nullable=False),
    sa.Column('account', sa.String(length=40), nullable=False),
    sa.Column('reference', sa.String(length=35), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_debit_mandates_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debit_mandates')),
    sa.UniqueConstraint('reference', name=op.f('uq_debit_mandates_reference'))
    )
    with op.batch_alter_table('debit_mandates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_debit_mandates_customer_id'), ['customer_id'], unique=False)

    op.create_table('debit_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=35), nullable=False),
    sa.Column('created_for', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('succeeded_count', sa.Integer(), nullable=False),
    sa.Column('returned_count', sa.Integer(), nullable=False),
    sa.Column('returned_fen', sa.BigInteger(), nullable=False),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', recovery.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debit_batches')),
    sa.UniqueConstraint('code', name=op.f('uq_debit_batches_code')),
    sa.UniqueConstraint('created_for', name=op.f('uq_debit_batches_created_for'))
    )
    op.create_table('debit_items',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('mandate_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('end_to_end_id', sa.String(length=35), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('return_reason', sa.String(length=35), nullable=True),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('result_on', sa.Date(), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['debit_batches.id'], name=op.f('fk_debit_items_batch_id_debit_batches')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_debit_items_customer_id_customers')),
    sa.ForeignKeyConstraint(['mandate_id'], ['debit_mandates.id'], name=op.f('fk_debit_items_mandate_id_debit_mandates')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_debit_items_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debit_items')),
    sa.UniqueConstraint('end_to_end_id', name=op.f('uq_debit_items_end_to_end_id'))
    )
    with op.batch_alter_table('debit_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_debit_items_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_debit_items_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_debit_items_payment_id'), ['payment_id'], unique=False)

    op.create_table('debit_item_bills',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bill_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('live', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_debit_item_bills_bill_id_bills')),
    sa.ForeignKeyConstraint(['item_id'], ['debit_items.id'], name=op.f('fk_debit_item_bills_item_id_debit_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_debit_item_bills'))
    )
    with op.batch_alter_table('debit_item_bills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_debit_item_bills_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_debit_item_bills_item_id'), ['item_id'], unique=False)
        # A bill is in at most one live (pending or succeeded) debit.
        batch_op.create_index('ix_debit_item_bills_live_bill', ['bill_id'], unique=True,
                              sqlite_where=sa.text('live'), postgresql_where=sa.text('live'))

    op.create_table('penalty_allocations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bill_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('allocated_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_penalty_allocations_bill_id_bills')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_penalty_allocations_customer_id_customers')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_penalty_allocations_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_penalty_allocations'))
    )
    with op.batch_alter_table('penalty_allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_penalty_allocations_bill_id'), ['bill_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_penalty_allocations_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_penalty_allocations_payment_id'), ['payment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('penalty_allocations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_penalty_allocations_payment_id'))
        batch_op.drop_index(batch_op.f('ix_penalty_allocations_customer_id'))
        batch_op.drop_index(batch_op.f('ix_penalty_allocations_bill_id'))

    op.drop_table('penalty_allocations')
    with op.batch_alter_table('debit_item_bills', schema=None) as batch_op:
        batch_op.drop_index('ix_debit_item_bills_live_bill')
        batch_op.drop_index(batch_op.f('ix_debit_item_bills_item_id'))
        batch_op.drop_index(batch_op.f('ix_debit_item_bills_bill_id'))

    op.drop_table('debit_item_bills')
    with op.batch_alter_table('debit_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_debit_items_payment_id'))
        batch_op.drop_index(batch_op.f('ix_debit_items_customer_id'))
        batch_op.drop_index(batch_op.f('ix_debit_items_batch_id'))

    op.drop_table('debit_items')
    op.drop_table('debit_batches')
    with op.batch_alter_table('debit_mandates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_debit_mandates_customer_id'))

    op.drop_table('debit_mandates')
