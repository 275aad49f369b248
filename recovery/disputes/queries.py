"""Reads for the dispute pages: the bills a customer may dispute."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from recovery.billing.models import Bill
from recovery.customers.models import Customer

DISPUTABLE_BILLS = 24


def disputable_bills(session: Session, customer: Customer) -> list[str]:
    """Codes of the customer's latest bills with an amount (at most DISPUTABLE_BILLS), latest due first."""
    return list(session.scalars(select(Bill.code).where(Bill.customer_id == customer.id, Bill.amount_fen > 0)
                                .order_by(Bill.due_on.desc()).limit(DISPUTABLE_BILLS)))
