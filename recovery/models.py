"""Imports every model so that the metadata (and Alembic) sees the whole schema."""

from recovery.audit.models import AuditEntry
from recovery.auth.models import User, officer_grids
from recovery.billing.models import Bill, LedgerEntry
from recovery.customers.models import Customer, Grid
from recovery.events.models import Event
from recovery.payments.models import Agent, AgentSecret, Allocation, IdempotencyKey, Payment, Remittance
from recovery.risk.models import RiskScore

__all__ = [
    "Agent",
    "AgentSecret",
    "Allocation",
    "AuditEntry",
    "Bill",
    "Customer",
    "Event",
    "Grid",
    "IdempotencyKey",
    "LedgerEntry",
    "Payment",
    "Remittance",
    "RiskScore",
    "User",
    "officer_grids",
]
