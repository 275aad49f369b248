"""property-managed buildings and clearance sites, big customers and their contacts, agents' commissions,
distributors' areas; the assessment keeps the distributors' table (a longer kind)

Revision ID: 0020_buildings
Revises: 0020_loss
Create Date: 2026-12-07 14:44:22.474735

"""
from alembic import op
import sqlalchemy as sa

import recovery.types


revision = '0020_buildings'
down_revision = '0020_loss'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agent_commissions',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('agent_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('payments', sa.Integer(), nullable=False),
    sa.Column('collected_fen', sa.BigInteger(), nullable=False),
    sa.Column('rate', sa.String(length=12), nullable=False),
    sa.Column('commission_fen', sa.BigInteger(), nullable=False),
    sa.Column('closed_by', sa.String(length=100), nullable=False),
    sa.Column('closed_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_agent_commissions_agent_id_agents')),
    sa.PrimaryKeyConstraint('month', 'agent_id', name=op.f('pk_agent_commissions'))
    )
    op.create_table('distributor_areas',
    sa.Column('distributor_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('grid_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['distributor_id'], ['distributors.id'], name=op.f('fk_distributor_areas_distributor_id_distributors')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_distributor_areas_grid_id_grids')),
    sa.PrimaryKeyConstraint('distributor_id', 'grid_id', name=op.f('pk_distributor_areas'))
    )
    op.create_table('big_customers',
    sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('reason', sa.String(length=12), nullable=False),
    sa.Column('monthly_bill_fen', sa.BigInteger(), nullable=False),
    sa.Column('since_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('contact_by', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('contacted_at', recovery.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('updated_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_big_customers_customer_id_customers')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_big_customers'))
    )
    op.create_table('enterprise_contacts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_enterprise_contacts_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enterprise_contacts')),
    sa.UniqueConstraint('customer_id', 'role', name=op.f('uq_enterprise_contacts_customer_id_role'))
    )
    with op.batch_alter_table('enterprise_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprise_contacts_customer_id'), ['customer_id'], unique=False)

    op.create_table('property_companies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('stopped_on', sa.Date(), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_property_companies_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_property_companies')),
    sa.UniqueConstraint('code', name=op.f('uq_property_companies_code'))
    )
    op.create_table('strategic_customers',
    sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('flagged_by', sa.String(length=100), nullable=False),
    sa.Column('flagged_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_strategic_customers_customer_id_customers')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_strategic_customers'))
    )
    op.create_table('buildings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['property_companies.id'], name=op.f('fk_buildings_company_id_property_companies')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_buildings_grid_id_grids')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buildings')),
    sa.UniqueConstraint('code', name=op.f('uq_buildings_code'))
    )
    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_buildings_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_buildings_grid_id'), ['grid_id'], unique=False)

    op.create_table('payer_links',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('linked_on', sa.Date(), nullable=False),
    sa.Column('linked_by', sa.String(length=100), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('ended_by', sa.String(length=100), nullable=True),
    sa.Column('end_reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['property_companies.id'], name=op.f('fk_payer_links_company_id_property_companies')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_payer_links_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payer_links'))
    )
    with op.batch_alter_table('payer_links', schema=None) as batch_op:
        batch_op.create_index('ix_payer_links_company', ['company_id', 'ended_on'], unique=False)
        batch_op.create_index('uq_payer_links_active_customer', ['customer_id'], unique=True, postgresql_where=sa.text('ended_on IS NULL'), sqlite_where=sa.text('ended_on IS NULL'))

    op.create_table('building_residents',
    sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_building_residents_building_id_buildings')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_building_residents_customer_id_customers')),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_building_residents'))
    )
    with op.batch_alter_table('building_residents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_building_residents_building_id'), ['building_id'], unique=False)

    op.create_table('clearance_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=True),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('flagged_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('flagged_by', sa.String(length=100), nullable=False),
    sa.Column('lifted_on', sa.Date(), nullable=True),
    sa.Column('lifted_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_clearance_flags_building_id_buildings')),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_clearance_flags_grid_id_grids')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clearance_flags'))
    )
    with op.batch_alter_table('clearance_flags', schema=None) as batch_op:
        batch_op.create_index('ix_clearance_flags_building', ['building_id'], unique=False)
        batch_op.create_index('ix_clearance_flags_grid', ['grid_id'], unique=False)

    with op.batch_alter_table('closed_assessments', schema=None) as batch_op:
        batch_op.alter_column('kind',
               existing_type=sa.VARCHAR(length=10),
               type_=sa.String(length=20),
               existing_nullable=False)



def downgrade():
    with op.batch_alter_table('closed_assessments', schema=None) as batch_op:
        batch_op.alter_column('kind',
               existing_type=sa.String(length=20),
               type_=sa.VARCHAR(length=10),
               existing_nullable=False)

    with op.batch_alter_table('clearance_flags', schema=None) as batch_op:
        batch_op.drop_index('ix_clearance_flags_grid')
        batch_op.drop_index('ix_clearance_flags_building')

    op.drop_table('clearance_flags')
    with op.batch_alter_table('building_residents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_building_residents_building_id'))

    op.drop_table('building_residents')
    with op.batch_alter_table('payer_links', schema=None) as batch_op:
        batch_op.drop_index('uq_payer_links_active_customer', postgresql_where=sa.text('ended_on IS NULL'), sqlite_where=sa.text('ended_on IS NULL'))
        batch_op.drop_index('ix_payer_links_company')

    op.drop_table('payer_links')
    with op.batch_alter_table('buildings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_buildings_grid_id'))
        batch_op.drop_index(batch_op.f('ix_buildings_company_id'))

    op.drop_table('buildings')
    op.drop_table('strategic_customers')
    op.drop_table('property_companies')
    with op.batch_alter_table('enterprise_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprise_contacts_customer_id'))

    op.drop_table('enterprise_contacts')
    op.drop_table('big_customers')
    op.drop_table('distributor_areas')
    op.drop_table('agent_commissions')
