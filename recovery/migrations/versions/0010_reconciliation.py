"""statement files, reconciliation runs, matches and breaks

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 20:40:00

"""
from alembic import op
import sqlalchemy as sa

import recovery.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('statement_files',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('format', sa.String(length=12), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('imported_by', sa.String(length=100), nullable=False),
    sa.Column('imported_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_files')),
    sa.UniqueConstraint('sha256', name=op.f('uq_statement_files_sha256'))
    )
    op.create_table('statements',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('file_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('channel_account', sa.String(length=40), nullable=False),
    sa.Column('account', sa.String(length=64), nullable=True),
    sa.Column('statement_ref', sa.String(length=64), nullable=True),
    sa.Column('number', sa.String(length=32), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('opening_balance_fen', sa.BigInteger(), nullable=True),
    sa.Column('closing_balance_fen', sa.BigInteger(), nullable=True),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('superseded_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['file_id'], ['statement_files.id'], name=op.f('fk_statements_file_id_statement_files')),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['statements.id'], name=op.f('fk_statements_superseded_by_id_statements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statements'))
    )
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.create_index('ix_statements_channel_account', ['channel', 'channel_account', 'period_start'], unique=False)
        batch_op.create_index(batch_op.f('ix_statements_file_id'), ['file_id'], unique=False)
    op.create_table('statement_lines',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('statement_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('channel_account', sa.String(length=40), nullable=False),
    sa.Column('line_index', sa.Integer(), nullable=False),
    sa.Column('business_day', sa.Date(), nullable=False),
    sa.Column('at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reference', sa.String(length=140), nullable=True),
    sa.Column('customer_code', sa.String(length=64), nullable=True),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('fee_fen', sa.BigInteger(), nullable=True),
    sa.Column('text', sa.String(length=1000), nullable=True),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_statement_lines_statement_id_statements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_lines'))
    )
    with op.batch_alter_table('statement_lines', schema=None) as batch_op:
        batch_op.create_index('ix_statement_lines_account_at', ['channel', 'channel_account', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_lines_statement_id'), ['statement_id'], unique=False)
    op.create_table('recon_runs',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('channel_account', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('matched', sa.Integer(), nullable=False),
    sa.Column('statement_lines', sa.Integer(), nullable=False),
    sa.Column('ledger_payments', sa.Integer(), nullable=False),
    sa.Column('statement_total_fen', sa.BigInteger(), nullable=False),
    sa.Column('ledger_total_fen', sa.BigInteger(), nullable=False),
    sa.Column('run_by', sa.String(length=100), nullable=False),
    sa.Column('run_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reopened_at', recovery.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_runs')),
    sa.UniqueConstraint('day', 'channel', 'channel_account', name=op.f('uq_recon_runs_day_channel_channel_account'))
    )
    op.create_table('recon_matches',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('match_no', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rule', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['line_id'], ['statement_lines.id'], name=op.f('fk_recon_matches_line_id_statement_lines')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_recon_matches_payment_id_payments')),
    sa.ForeignKeyConstraint(['run_id'], ['recon_runs.id'], name=op.f('fk_recon_matches_run_id_recon_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_matches'))
    )
    with op.batch_alter_table('recon_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recon_matches_line_id'), ['line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recon_matches_payment_id'), ['payment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recon_matches_run_id'), ['run_id'], unique=False)
    op.create_table('recon_breaks',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('run_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('channel_account', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('fingerprint', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('channel_ref', sa.String(length=140), nullable=True),
    sa.Column('customer_code', sa.String(length=64), nullable=True),
    sa.Column('statement_amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('ledger_amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('assigned_to', sa.String(length=100), nullable=True),
    sa.Column('assigned_at', recovery.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution', sa.String(length=12), nullable=True),
    sa.Column('resolution_note', sa.String(length=500), nullable=True),
    sa.Column('resolved_by', sa.String(length=100), nullable=True),
    sa.Column('resolved_at', recovery.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('linked_payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('adjustment_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['adjustment_entry_id'], ['ledger_entries.id'], name=op.f('fk_recon_breaks_adjustment_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['line_id'], ['statement_lines.id'], name=op.f('fk_recon_breaks_line_id_statement_lines')),
    sa.ForeignKeyConstraint(['linked_payment_id'], ['payments.id'], name=op.f('fk_recon_breaks_linked_payment_id_payments')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_recon_breaks_payment_id_payments')),
    sa.ForeignKeyConstraint(['run_id'], ['recon_runs.id'], name=op.f('fk_recon_breaks_run_id_recon_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recon_breaks')),
    sa.UniqueConstraint('day', 'channel', 'channel_account', 'fingerprint', name=op.f('uq_recon_breaks_day_channel_channel_account_fingerprint'))
    )
    with op.batch_alter_table('recon_breaks', schema=None) as batch_op:
        batch_op.create_index('ix_recon_breaks_status_day', ['status', 'day'], unique=False)
        batch_op.create_index(batch_op.f('ix_recon_breaks_line_id'), ['line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recon_breaks_payment_id'), ['payment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recon_breaks_run_id'), ['run_id'], unique=False)
    op.create_table('suspense_items',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('channel_account', sa.String(length=40), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=140), nullable=True),
    sa.Column('text', sa.String(length=1000), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('assigned_by', sa.String(length=100), nullable=True),
    sa.Column('assigned_at', recovery.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_suspense_items_customer_id_customers')),
    sa.ForeignKeyConstraint(['line_id'], ['statement_lines.id'], name=op.f('fk_suspense_items_line_id_statement_lines')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_suspense_items_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suspense_items')),
    sa.UniqueConstraint('line_id', name=op.f('uq_suspense_items_line_id'))
    )


def downgrade():
    op.drop_table('suspense_items')
    with op.batch_alter_table('recon_breaks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recon_breaks_run_id'))
        batch_op.drop_index(batch_op.f('ix_recon_breaks_payment_id'))
        batch_op.drop_index(batch_op.f('ix_recon_breaks_line_id'))
        batch_op.drop_index('ix_recon_breaks_status_day')
    op.drop_table('recon_breaks')
    with op.batch_alter_table('recon_matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recon_matches_run_id'))
        batch_op.drop_index(batch_op.f('ix_recon_matches_payment_id'))
        batch_op.drop_index(batch_op.f('ix_recon_matches_line_id'))
    op.drop_table('recon_matches')
    op.drop_table('recon_runs')
    with op.batch_alter_table('statement_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_lines_statement_id'))
        batch_op.drop_index('ix_statement_lines_account_at')
    op.drop_table('statement_lines')
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statements_file_id'))
        batch_op.drop_index('ix_statements_channel_account')
    op.drop_table('statements')
    op.drop_table('statement_files')
