"""job runs, job locks, approval requests

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:40:00

"""
from alembic import op
import sqlalchemy as sa

import recovery.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('job_id', sa.String(length=60), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('trigger', sa.String(length=12), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('started_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', recovery.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index('ix_job_runs_job_day', ['job_id', 'day'], unique=False)
    op.create_table('job_locks',
    sa.Column('job_id', sa.String(length=60), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('holder', sa.String(length=120), nullable=False),
    sa.Column('acquired_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('job_id', 'day', name=op.f('pk_job_locks'))
    )
    op.create_table('approval_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('subject_type', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('requested_by', sa.String(length=100), nullable=False),
    sa.Column('requested_at', recovery.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=100), nullable=True),
    sa.Column('decided_at', recovery.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.String(length=500), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_requests'))
    )
    with op.batch_alter_table('approval_requests', schema=None) as batch_op:
        batch_op.create_index('ix_approval_requests_status_kind', ['status', 'kind'], unique=False)
        batch_op.create_index('ix_approval_requests_subject', ['subject_type', 'subject_id'], unique=False)


def downgrade():
    with op.batch_alter_table('approval_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_approval_requests_subject')
        batch_op.drop_index('ix_approval_requests_status_kind')
    op.drop_table('approval_requests')
    op.drop_table('job_locks')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_job_runs_job_day')
    op.drop_table('job_runs')
