"""kiosks, recharge cards, counter drawers, prepaid accounts, agent actions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 20:40:00

"""
from alembic import op
import sqlalchemy as sa

import recovery.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('card_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('face_value_fen', sa.BigInteger(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_batches')),
    sa.UniqueConstraint('code', name=op.f('uq_card_batches_code'))
    )
    op.create_table('distributors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('manager_contact', sa.String(length=200), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distributors')),
    sa.UniqueConstraint('code', name=op.f('uq_distributors_code'))
    )
    op.create_table('kiosks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('last_payment_at', recovery.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosks')),
    sa.UniqueConstraint('code', name=op.f('uq_kiosks_code'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('subject_type', sa.String(length=40), nullable=True),
    sa.Column('subject_id', sa.String(length=100), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', recovery.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_subject', ['subject_type', 'subject_id', 'kind'], unique=False)
        batch_op.create_index('ix_notifications_unsent', ['sent_at', 'created_at'], unique=False)

    op.create_table('agent_forfeitures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('deposit_after_fen', sa.BigInteger(), nullable=False),
    sa.Column('limit_after_fen', sa.BigInteger(), nullable=False),
    sa.Column('forfeited_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('approved_by', sa.String(length=100), nullable=False),
    sa.Column('approval_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_agent_forfeitures_agent_id_agents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_forfeitures'))
    )
    with op.batch_alter_table('agent_forfeitures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_forfeitures_agent_id'), ['agent_id'], unique=False)

    op.create_table('card_sales',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('distributor_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('sold_on', sa.Date(), nullable=False),
    sa.Column('sold_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sold_by', sa.String(length=100), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['card_batches.id'], name=op.f('fk_card_sales_batch_id_card_batches')),
    sa.ForeignKeyConstraint(['distributor_id'], ['distributors.id'], name=op.f('fk_card_sales_distributor_id_distributors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_sales')),
    sa.UniqueConstraint('distributor_id', 'reference', name=op.f('uq_card_sales_distributor_id_reference'))
    )
    with op.batch_alter_table('card_sales', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_sales_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_sales_distributor_id'), ['distributor_id'], unique=False)

    op.create_table('cashier_drawers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('cashier', sa.String(length=64), nullable=False),
    sa.Column('business_day', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('opening_float_fen', sa.BigInteger(), nullable=False),
    sa.Column('opened_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('opened_by', sa.String(length=100), nullable=False),
    sa.Column('payments_count', sa.Integer(), nullable=False),
    sa.Column('counted_fen', sa.BigInteger(), nullable=True),
    sa.Column('closed_at', recovery.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_cashier_drawers_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cashier_drawers')),
    sa.UniqueConstraint('user_id', 'business_day', name=op.f('uq_cashier_drawers_user_id_business_day'))
    )
    op.create_table('kiosk_collections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kiosk_id', sa.Integer(), nullable=False),
    sa.Column('collected_on', sa.Date(), nullable=False),
    sa.Column('collected_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('counted_fen', sa.BigInteger(), nullable=False),
    sa.Column('collected_by', sa.String(length=100), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['kiosk_id'], ['kiosks.id'], name=op.f('fk_kiosk_collections_kiosk_id_kiosks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_collections')),
    sa.UniqueConstraint('kiosk_id', 'reference', name=op.f('uq_kiosk_collections_kiosk_id_reference'))
    )
    with op.batch_alter_table('kiosk_collections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kiosk_collections_kiosk_id'), ['kiosk_id'], unique=False)

    op.create_table('kiosk_idempotency_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kiosk_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['kiosk_id'], ['kiosks.id'], name=op.f('fk_kiosk_idempotency_keys_kiosk_id_kiosks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_idempotency_keys')),
    sa.UniqueConstraint('kiosk_id', 'key', name=op.f('uq_kiosk_idempotency_keys_kiosk_id_key'))
    )
    op.create_table('kiosk_secrets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kiosk_id', sa.Integer(), nullable=False),
    sa.Column('secret_encrypted', sa.String(length=400), nullable=False),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', recovery.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['kiosk_id'], ['kiosks.id'], name=op.f('fk_kiosk_secrets_kiosk_id_kiosks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_secrets'))
    )
    with op.batch_alter_table('kiosk_secrets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kiosk_secrets_kiosk_id'), ['kiosk_id'], unique=False)

    op.create_table('disconnection_orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=60), nullable=False),
    sa.Column('ordered_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_disconnection_orders_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disconnection_orders'))
    )
    with op.batch_alter_table('disconnection_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disconnection_orders_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('uq_disconnection_orders_open_customer', ['customer_id'], unique=True, postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))

    op.create_table('prepaid_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('warned_on', sa.Date(), nullable=True),
    sa.Column('stopped_since', sa.Date(), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_prepaid_accounts_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prepaid_accounts')),
    sa.UniqueConstraint('customer_id', name=op.f('uq_prepaid_accounts_customer_id'))
    )
    op.create_table('cards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.String(length=40), nullable=False),
    sa.Column('pin_hash', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=True),
    sa.Column('distributor_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('redeemed_at', recovery.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('redeemed_on', sa.Date(), nullable=True),
    sa.Column('voided_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['card_batches.id'], name=op.f('fk_cards_batch_id_card_batches')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_cards_customer_id_customers')),
    sa.ForeignKeyConstraint(['distributor_id'], ['distributors.id'], name=op.f('fk_cards_distributor_id_distributors')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_cards_payment_id_payments')),
    sa.ForeignKeyConstraint(['sale_id'], ['card_sales.id'], name=op.f('fk_cards_sale_id_card_sales')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cards')),
    sa.UniqueConstraint('serial', name=op.f('uq_cards_serial'))
    )
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cards_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cards_distributor_id'), ['distributor_id'], unique=False)
        batch_op.create_index('ix_cards_redeemed_on', ['redeemed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_cards_sale_id'), ['sale_id'], unique=False)

    op.create_table('receipts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('channel_account', sa.String(length=40), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('receipt_no', sa.String(length=80), nullable=False),
    sa.Column('tender', sa.String(length=8), nullable=True),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_receipts_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipts')),
    sa.UniqueConstraint('channel', 'channel_account', 'issued_on', 'seq', name=op.f('uq_receipts_channel_channel_account_issued_on_seq')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_receipts_payment_id')),
    sa.UniqueConstraint('receipt_no', name=op.f('uq_receipts_receipt_no'))
    )


def downgrade():
    op.drop_table('receipts')
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cards_sale_id'))
        batch_op.drop_index('ix_cards_redeemed_on')
        batch_op.drop_index(batch_op.f('ix_cards_distributor_id'))
        batch_op.drop_index(batch_op.f('ix_cards_batch_id'))

    op.drop_table('cards')
    op.drop_table('prepaid_accounts')
    with op.batch_alter_table('disconnection_orders', schema=None) as batch_op:
        batch_op.drop_index('uq_disconnection_orders_open_customer', postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_disconnection_orders_customer_id'))

    op.drop_table('disconnection_orders')
    with op.batch_alter_table('kiosk_secrets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kiosk_secrets_kiosk_id'))

    op.drop_table('kiosk_secrets')
    op.drop_table('kiosk_idempotency_keys')
    with op.batch_alter_table('kiosk_collections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kiosk_collections_kiosk_id'))

    op.drop_table('kiosk_collections')
    op.drop_table('cashier_drawers')
    with op.batch_alter_table('card_sales', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_sales_distributor_id'))
        batch_op.drop_index(batch_op.f('ix_card_sales_batch_id'))

    op.drop_table('card_sales')
    with op.batch_alter_table('agent_forfeitures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_forfeitures_agent_id'))

    op.drop_table('agent_forfeitures')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_unsent')
        batch_op.drop_index('ix_notifications_subject')

    op.drop_table('notifications')
    op.drop_table('kiosks')
    op.drop_table('distributors')
    op.drop_table('card_batches')
