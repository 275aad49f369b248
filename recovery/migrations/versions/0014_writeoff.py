"""write offs referrals and assessment

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 05:00:00

"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import recovery.types  # noqa: F401


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('write_offs',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('recovered_fen', sa.BigInteger(), nullable=False),
    sa.Column('written_off_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('approved_by', sa.String(length=100), nullable=False),
    sa.Column('approval_id', sa.BigInteger(), nullable=False),
    sa.Column('entry_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approval_id'], ['approval_requests.id'], name=op.f('fk_write_offs_approval_id_approval_requests')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_write_offs_customer_id_customers')),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_write_offs_entry_id_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_write_offs')),
    sa.UniqueConstraint('approval_id', name=op.f('uq_write_offs_approval_id'))
    )
    with op.batch_alter_table('write_offs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_write_offs_customer_id'), ['customer_id'], unique=False)

    op.create_table('referrals',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('agency', sa.String(length=200), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('referred_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('recovered_fen', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('referred_by', sa.String(length=100), nullable=False),
    sa.Column('closed_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_referrals_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('uq_referrals_open_customer', ['customer_id'], unique=True, postgresql_where=sa.text("status = 'referred'"), sqlite_where=sa.text("status = 'referred'"))


def downgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('uq_referrals_open_customer', postgresql_where=sa.text("status = 'referred'"), sqlite_where=sa.text("status = 'referred'"))
        batch_op.drop_index(batch_op.f('ix_referrals_customer_id'))

    op.drop_table('referrals')
    with op.batch_alter_table('write_offs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_write_offs_customer_id'))

    op.drop_table('write_offs')
