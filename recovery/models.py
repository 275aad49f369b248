"""Imports every model so that the metadata (and Alembic) sees the whole schema."""

from recovery.audit.models import AuditEntry
from recovery.auth.models import User, officer_grids
from recovery.billing.models import Bill, LedgerEntry
from recovery.customers.models import Customer, Grid
from recovery.events.models import Event
from recovery.payments.models import Allocation, Payment

__all__ = [
    "Allocation", "AuditEntry", "Bill", "Customer", "Event", "Grid", "LedgerEntry", "Payment", "User", "officer_grids",
]
