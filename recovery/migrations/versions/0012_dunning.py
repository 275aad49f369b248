"""dunning ladder state and exemptions

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 05:00:00

"""
from alembic import op
import sqlalchemy as sa

import recovery.types


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('dunning_states',
    sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('step', sa.String(length=40), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('overdue_fen', sa.BigInteger(), nullable=False),
    sa.Column('exemption', sa.String(length=20), nullable=True),
    sa.Column('updated_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_dunning_states_customer_id_customers')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_dunning_states'))
    )
    with op.batch_alter_table('dunning_states', schema=None) as batch_op:
        batch_op.create_index('ix_dunning_states_step', ['step'], unique=False)

    op.create_table('dunning_changes',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.Column('from_step', sa.String(length=40), nullable=True),
    sa.Column('to_step', sa.String(length=40), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_dunning_changes_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dunning_changes'))
    )
    with op.batch_alter_table('dunning_changes', schema=None) as batch_op:
        batch_op.create_index('ix_dunning_changes_customer_on', ['customer_id', 'changed_on'], unique=False)

    op.create_table('collection_exemptions',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('set_by', sa.String(length=100), nullable=False),
    sa.Column('set_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_by', sa.String(length=100), nullable=True),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                            name=op.f('fk_collection_exemptions_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_exemptions'))
    )
    with op.batch_alter_table('collection_exemptions', schema=None) as batch_op:
        batch_op.create_index('ix_collection_exemptions_customer', ['customer_id', 'valid_from'], unique=False)

    op.create_table('bill_holds',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('bill_id', sa.BigInteger(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('placed_on', sa.Date(), nullable=False),
    sa.Column('placed_by', sa.String(length=100), nullable=False),
    sa.Column('released_on', sa.Date(), nullable=True),
    sa.Column('released_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bill_id'], ['bills.id'], name=op.f('fk_bill_holds_bill_id_bills')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_bill_holds_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bill_holds'))
    )
    with op.batch_alter_table('bill_holds', schema=None) as batch_op:
        batch_op.create_index('ix_bill_holds_bill', ['bill_id', 'placed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_bill_holds_customer_id'), ['customer_id'], unique=False)

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('dedupe_key', sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_notifications_dedupe_key'), ['dedupe_key'])


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_notifications_dedupe_key'), type_='unique')
        batch_op.drop_column('last_error')
        batch_op.drop_column('attempts')
        batch_op.drop_column('dedupe_key')
        batch_op.drop_column('channel')

    with op.batch_alter_table('bill_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bill_holds_customer_id'))
        batch_op.drop_index('ix_bill_holds_bill')

    op.drop_table('bill_holds')
    with op.batch_alter_table('collection_exemptions', schema=None) as batch_op:
        batch_op.drop_index('ix_collection_exemptions_customer')

    op.drop_table('collection_exemptions')
    with op.batch_alter_table('dunning_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_dunning_changes_customer_on')

    op.drop_table('dunning_changes')
    with op.batch_alter_table('dunning_states', schema=None) as batch_op:
        batch_op.drop_index('ix_dunning_states_step')

    op.drop_table('dunning_states')
