"""credit ratings, qualification reviews and settlement terms

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 20:40:00

"""
from alembic import op
import sqlalchemy as sa

import recovery.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('credit_ratings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('rated_on', sa.Date(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('points_grade', sa.String(length=8), nullable=False),
    sa.Column('grade', sa.String(length=8), nullable=False),
    sa.Column('cash_only', sa.Boolean(), nullable=False),
    sa.Column('upgrade_blocked', sa.Boolean(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_credit_ratings_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_ratings')),
    sa.UniqueConstraint('customer_id', 'rated_on', name=op.f('uq_credit_ratings_customer_id_rated_on'))
    )
    with op.batch_alter_table('credit_ratings', schema=None) as batch_op:
        batch_op.create_index('ix_credit_ratings_rated_on', ['rated_on'], unique=False)

    op.create_table('credit_overrides',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('grade', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('set_by', sa.String(length=100), nullable=False),
    sa.Column('set_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_by', sa.String(length=100), nullable=True),
    sa.Column('revoked_at', recovery.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoke_reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_credit_overrides_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_overrides'))
    )
    with op.batch_alter_table('credit_overrides', schema=None) as batch_op:
        batch_op.create_index('ix_credit_overrides_customer', ['customer_id', 'expires_on'], unique=False)

    op.create_table('settlement_terms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('terms', sa.String(length=12), nullable=False),
    sa.Column('basis', sa.String(length=16), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('approval_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('approved_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approval_id'], ['approval_requests.id'], name=op.f('fk_settlement_terms_approval_id_approval_requests')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_settlement_terms_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlement_terms')),
    sa.UniqueConstraint('customer_id', name=op.f('uq_settlement_terms_customer_id'))
    )

    op.create_table('interim_bills',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('bill_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('settle_on', sa.Date(), nullable=False),
    sa.Column('basis', sa.String(length=12), nullable=False),
    sa.Column('kwh', sa.Float(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('trued_up_on', sa.Date(), nullable=True),
    sa.Column('month_end_bill_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_interim_bills_bill_id_bills')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_interim_bills_customer_id_customers')),
    sa.ForeignKeyConstraint(['month_end_bill_id'], ['bills.id'], name=op.f('fk_interim_bills_month_end_bill_id_bills')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interim_bills')),
    sa.UniqueConstraint('bill_id', name=op.f('uq_interim_bills_bill_id')),
    sa.UniqueConstraint('customer_id', 'period', 'seq', name=op.f('uq_interim_bills_customer_id_period_seq'))
    )


def downgrade():
    op.drop_table('interim_bills')
    op.drop_table('settlement_terms')
    with op.batch_alter_table('credit_overrides', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_overrides_customer')
    op.drop_table('credit_overrides')
    with op.batch_alter_table('credit_ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_ratings_rated_on')
    op.drop_table('credit_ratings')
