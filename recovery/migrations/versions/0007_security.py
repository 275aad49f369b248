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

# A deposit is money held for the customer: its entries, like the ledger's, are never rewritten.
APPEND_ONLY_PG = """
CREATE FUNCTION deposit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'deposit_entries is append-only: % refused; post a correcting entry instead', TG_OP;
END $$;
CREATE TRIGGER deposit_entries_append_only BEFORE UPDATE OR DELETE ON deposit_entries
    FOR EACH ROW EXECUTE FUNCTION deposit_entries_append_only();
"""
APPEND_ONLY_SQLITE = [
    f"CREATE TRIGGER deposit_entries_no_{verb.lower()} BEFORE {verb} ON deposit_entries "
    "BEGIN SELECT RAISE(ABORT, 'deposit_entries is append-only; post a correcting entry instead'); END"
    for verb in ("UPDATE", "DELETE")
]


def upgrade():
    op.create_table('deposits',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('requested_fen', sa.BigInteger(), nullable=False),
    sa.Column('requested_on', sa.Date(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=True),
    sa.Column('held_fen', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_deposits_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deposits'))
    )
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deposits_customer_id'), ['customer_id'], unique=False)

    op.create_table('qualification_reviews',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_on', sa.Date(), nullable=False),
    sa.Column('identity_valid', sa.Boolean(), nullable=False),
    sa.Column('registered_capital_fen', sa.BigInteger(), nullable=True),
    sa.Column('threshold_fen', sa.BigInteger(), nullable=True),
    sa.Column('outcome', sa.String(length=12), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('reviewed_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_qualification_reviews_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qualification_reviews'))
    )
    with op.batch_alter_table('qualification_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_qualification_reviews_customer_reviewed', ['customer_id', 'reviewed_on'], unique=False)

    op.create_table('security_reviews',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('grade', sa.String(length=8), nullable=True),
    sa.Column('cash_only', sa.Boolean(), nullable=False),
    sa.Column('recommended_fen', sa.BigInteger(), nullable=False),
    sa.Column('required_fen', sa.BigInteger(), nullable=False),
    sa.Column('held_cash_fen', sa.BigInteger(), nullable=False),
    sa.Column('held_guarantees_fen', sa.BigInteger(), nullable=False),
    sa.Column('shortfall_fen', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_security_reviews_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_reviews')),
    sa.UniqueConstraint('day', 'customer_id', name=op.f('uq_security_reviews_day_customer_id'))
    )
    with op.batch_alter_table('security_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_security_reviews_customer_id'), ['customer_id'], unique=False)

    op.create_table('deposit_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('deposit_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=True),
    sa.Column('approval_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('corrects_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('posted_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approval_id'], ['approval_requests.id'], name=op.f('fk_deposit_entries_approval_id_approval_requests')),
    sa.ForeignKeyConstraint(['corrects_id'], ['deposit_entries.id'], name=op.f('fk_deposit_entries_corrects_id_deposit_entries')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_deposit_entries_customer_id_customers')),
    sa.ForeignKeyConstraint(['deposit_id'], ['deposits.id'], name=op.f('fk_deposit_entries_deposit_id_deposits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deposit_entries')),
    sa.UniqueConstraint('customer_id', 'kind', 'reference', name=op.f('uq_deposit_entries_customer_id_kind_reference'))
    )
    with op.batch_alter_table('deposit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_deposit_entries_customer_effective', ['customer_id', 'effective_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_deposit_entries_deposit_id'), ['deposit_id'], unique=False)

    op.create_table('guarantees',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('guarantor', sa.String(length=200), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('called_fen', sa.BigInteger(), nullable=True),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_guarantees_customer_id_customers')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_guarantees_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_guarantees')),
    sa.UniqueConstraint('guarantor', 'reference', name=op.f('uq_guarantees_guarantor_reference'))
    )
    with op.batch_alter_table('guarantees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_guarantees_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_guarantees_status_valid_until', ['status', 'valid_until'], unique=False)

    op.create_table('security_tasks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('guarantee_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_security_tasks_customer_id_customers')),
    sa.ForeignKeyConstraint(['guarantee_id'], ['guarantees.id'], name=op.f('fk_security_tasks_guarantee_id_guarantees')),
    sa.ForeignKeyConstraint(['officer_id'], ['users.id'], name=op.f('fk_security_tasks_officer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_tasks')),
    sa.UniqueConstraint('kind', 'guarantee_id', 'due_on', name=op.f('uq_security_tasks_kind_guarantee_id_due_on'))
    )
    with op.batch_alter_table('security_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_security_tasks_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_security_tasks_officer_status', ['officer_id', 'status'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_PG)
    else:
        for statement in APPEND_ONLY_SQLITE:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER deposit_entries_append_only ON deposit_entries")
        op.execute("DROP FUNCTION deposit_entries_append_only()")
    else:
        op.execute("DROP TRIGGER deposit_entries_no_update")
        op.execute("DROP TRIGGER deposit_entries_no_delete")
    with op.batch_alter_table('security_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_security_tasks_officer_status')
        batch_op.drop_index(batch_op.f('ix_security_tasks_customer_id'))

    op.drop_table('security_tasks')
    with op.batch_alter_table('guarantees', schema=None) as batch_op:
        batch_op.drop_index('ix_guarantees_status_valid_until')
        batch_op.drop_index(batch_op.f('ix_guarantees_customer_id'))

    op.drop_table('guarantees')
    with op.batch_alter_table('deposit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deposit_entries_deposit_id'))
        batch_op.drop_index('ix_deposit_entries_customer_effective')

    op.drop_table('deposit_entries')
    with op.batch_alter_table('security_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_security_reviews_customer_id'))

    op.drop_table('security_reviews')
    with op.batch_alter_table('qualification_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_qualification_reviews_customer_reviewed')

    op.drop_table('qualification_reviews')
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deposits_customer_id'))

    op.drop_table('deposits')
