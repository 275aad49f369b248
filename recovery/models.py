"""Imports every model so that the metadata (and Alembic) sees the whole schema."""

from recovery.approvals.models import ApprovalRequest
from recovery.audit.models import AuditEntry
from recovery.auth.models import User, officer_grids
from recovery.billing.models import Bill, LedgerEntry
from recovery.customers.models import Customer, Grid
from recovery.events.models import Event
from recovery.jobs.models import JobLock, JobRun
from recovery.payments.models import Agent, AgentSecret, Allocation, IdempotencyKey, Payment, Remittance
from recovery.risk.models import RiskScore

__all__ = [
    "Agent",
    "AgentSecret",
    "Allocation",
    "ApprovalRequest",
    "AuditEntry",
    "Bill",
    "Customer",
    "Event",
    "Grid",
    "IdempotencyKey",
    "JobLock",
    "JobRun",
    "LedgerEntry",
    "Payment",
    "Remittance",
    "RiskScore",
    "User",
    "officer_grids",
]
