"""complaints and bill disputes with deadlines, bill corrections, disputed bills on hold

Revision ID: 0020_disputes
Revises: 0019_session_version
Create Date: 2026-12-08 09:00:00

"""
from alembic import op
import sqlalchemy as sa

import recovery.types


revision = '0020_disputes'
down_revision = '0019_session_version'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('bill_corrections',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('bill_id', sa.BigInteger(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('before_fen', sa.BigInteger(), nullable=False),
    sa.Column('after_fen', sa.BigInteger(), nullable=False),
    sa.Column('before_kwh', sa.Float(), nullable=True),
    sa.Column('after_kwh', sa.Float(), nullable=True),
    sa.Column('entry_id', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('corrected_on', sa.Date(), nullable=False),
    sa.Column('corrected_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_bill_corrections_bill_id_bills')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_bill_corrections_customer_id_customers')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_bill_corrections_entry_id_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bill_corrections'))
    )
    with op.batch_alter_table('bill_corrections', schema=None) as batch_op:
        batch_op.create_index('ix_bill_corrections_bill', ['bill_id', 'id'], unique=False)

    op.create_table('disputes',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=False),
    sa.Column('against_officer', sa.String(length=64), nullable=True),
    sa.Column('against_channel', sa.String(length=10), nullable=True),
    sa.Column('against_account', sa.String(length=40), nullable=True),
    sa.Column('registered_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('registered_by', sa.String(length=100), nullable=False),
    sa.Column('due_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('resolved_at', recovery.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=100), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('remedy', sa.String(length=20), nullable=True),
    sa.Column('correction_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['correction_id'], ['bill_corrections.id'], name=op.f('fk_disputes_correction_id_bill_corrections')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_disputes_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disputes'))
    )
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disputes_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_disputes_owner_status', ['owner', 'status'], unique=False)
        batch_op.create_index('ix_disputes_resolved', ['resolved_at'], unique=False)
        batch_op.create_index('ix_disputes_status_due', ['status', 'due_at'], unique=False)

    # A complaint holds its disputed bills from dunning; the hold names it and is released when it is resolved.
    with op.batch_alter_table('bill_holds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dispute_id', sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f('ix_bill_holds_dispute_id'), ['dispute_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_bill_holds_dispute_id_disputes'), 'disputes', ['dispute_id'], ['id'])


def downgrade():
    with op.batch_alter_table('bill_holds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_bill_holds_dispute_id_disputes'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_bill_holds_dispute_id'))
        batch_op.drop_column('dispute_id')

    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.drop_index('ix_disputes_status_due')
        batch_op.drop_index('ix_disputes_resolved')
        batch_op.drop_index('ix_disputes_owner_status')
        batch_op.drop_index(batch_op.f('ix_disputes_customer_id'))

    op.drop_table('disputes')
    with op.batch_alter_table('bill_corrections', schema=None) as batch_op:
        batch_op.drop_index('ix_bill_corrections_bill')

    op.drop_table('bill_corrections')
