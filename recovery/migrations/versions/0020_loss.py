"""theft and line-loss screening: transformer areas and their readings, the suspect list, inspections, tip-offs

Revision ID: 0020_loss
Revises: 0020_disputes
Create Date: 2026-12-08 09:00:00

"""
from alembic import op
import sqlalchemy as sa

import recovery.types


revision = '0020_loss'
down_revision = '0020_disputes'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('line', sa.String(length=32), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_areas')),
    sa.UniqueConstraint('code', name=op.f('uq_areas_code'))
    )
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.create_index('ix_areas_line', ['line'], unique=False)

    # A plain ADD COLUMN, not batch mode (which would rebuild the customers table and everything that refers to
    # it): SQLite adds a nullable column with its named REFERENCES clause in place, which Alembic cannot say.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE customers ADD COLUMN area_id INTEGER '
                   'CONSTRAINT fk_customers_area_id_areas REFERENCES areas (id)')
    else:
        op.add_column('customers', sa.Column('area_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_customers_area_id_areas'), 'customers', 'areas', ['area_id'], ['id'])
    op.add_column('customers', sa.Column('line', sa.String(length=32), nullable=True))
    op.create_index('ix_customers_area_id', 'customers', ['area_id'], unique=False)

    op.create_table('area_readings',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('kwh_delivered', sa.Float(), nullable=False),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_area_readings_area_id_areas')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_area_readings')),
    sa.UniqueConstraint('area_id', 'period', name=op.f('uq_area_readings_area_id_period'))
    )

    op.create_table('loss_area_months',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('kwh_delivered', sa.Float(), nullable=True),
    sa.Column('kwh_billed', sa.Float(), nullable=False),
    sa.Column('computed_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['areas.id'], name=op.f('fk_loss_area_months_area_id_areas')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loss_area_months')),
    sa.UniqueConstraint('area_id', 'period', name=op.f('uq_loss_area_months_area_id_period'))
    )

    op.create_table('loss_suspects',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('score_tenths', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.String(length=200), nullable=False),
    sa.Column('computed_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_loss_suspects_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loss_suspects'))
    )
    with op.batch_alter_table('loss_suspects', schema=None) as batch_op:
        batch_op.create_index('ix_loss_suspects_period_rank', ['period', 'rank'], unique=False)
        batch_op.create_index('ix_loss_suspects_customer_id', ['customer_id'], unique=False)

    op.create_table('tip_offs',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=12), nullable=False),
    sa.Column('tipster', sa.String(length=200), nullable=True),
    sa.Column('note', sa.String(length=2000), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reward_fen', sa.BigInteger(), nullable=True),
    sa.Column('reward_paid_on', sa.Date(), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_tip_offs_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tip_offs'))
    )
    with op.batch_alter_table('tip_offs', schema=None) as batch_op:
        batch_op.create_index('ix_tip_offs_customer_id', ['customer_id'], unique=False)

    op.create_table('inspections',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=True),
    sa.Column('tip_id', sa.BigInteger(), nullable=True),
    sa.Column('assigned_to', sa.Integer(), nullable=False),
    sa.Column('assigned_by', sa.String(length=100), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('inspected_on', sa.Date(), nullable=True),
    sa.Column('finding', sa.String(length=2000), nullable=True),
    sa.Column('recorded_by', sa.String(length=100), nullable=True),
    sa.Column('recorded_at', recovery.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('stolen_kwh', sa.BigInteger(), nullable=True),
    sa.Column('tariff_e4', sa.BigInteger(), nullable=True),
    sa.Column('backbill_fen', sa.BigInteger(), nullable=True),
    sa.Column('penalty_fen', sa.BigInteger(), nullable=True),
    sa.Column('approval_id', sa.BigInteger(), nullable=True),
    sa.Column('backbill_bill_id', sa.BigInteger(), nullable=True),
    sa.Column('penalty_bill_id', sa.BigInteger(), nullable=True),
    sa.Column('event_id', sa.BigInteger(), nullable=True),
    sa.Column('charged_at', recovery.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['approval_id'], ['approval_requests.id'], name=op.f('fk_inspections_approval_id_approval_requests')),
    sa.ForeignKeyConstraint(['assigned_to'], ['users.id'], name=op.f('fk_inspections_assigned_to_users')),
    sa.ForeignKeyConstraint(['backbill_bill_id'], ['bills.id'], name=op.f('fk_inspections_backbill_bill_id_bills')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_inspections_customer_id_customers')),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_inspections_event_id_events')),
    sa.ForeignKeyConstraint(['penalty_bill_id'], ['bills.id'], name=op.f('fk_inspections_penalty_bill_id_bills')),
    sa.ForeignKeyConstraint(['tip_id'], ['tip_offs.id'], name=op.f('fk_inspections_tip_id_tip_offs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspections'))
    )
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.create_index('ix_inspections_customer_id', ['customer_id'], unique=False)
        batch_op.create_index('ix_inspections_assigned_to', ['assigned_to'], unique=False)
        batch_op.create_index('ix_inspections_tip_id', ['tip_id'], unique=False)
        batch_op.create_index('uq_inspections_open_customer', ['customer_id'], unique=True,
                              postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))


def downgrade():
    op.drop_table('inspections')
    op.drop_table('tip_offs')
    op.drop_table('loss_suspects')
    op.drop_table('loss_area_months')
    op.drop_table('area_readings')
    op.drop_index('ix_customers_area_id', table_name='customers')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('fk_customers_area_id_areas'), 'customers', type_='foreignkey')
    # SQLite (3.35+) drops a column in place unless an index or a constraint names it: the index went above,
    # and its REFERENCES clause goes with it.
    op.drop_column('customers', 'line')
    op.drop_column('customers', 'area_id')
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.drop_index('ix_areas_line')
    op.drop_table('areas')
