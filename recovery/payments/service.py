"""Payment rules: allocation upkeep. (Posting from each channel builds on these.)"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from recovery import bulk
from recovery.billing.models import Bill
from recovery.payments.allocation import fifo_allocate
from recovery.payments.models import Allocation, Payment, PaymentState
from recovery.timeutil import business_tz


def reallocate(session: Session, customers: Table) -> int:
    """Rebuild the allocations of every customer listed in `customers` (a table with column `id`).

    Allocation is a function of the customer's bills and live payments, so it is recomputed from
    them rather than patched: a late-arriving older bill or a reversed payment moves later
    allocations exactly as allocating from scratch would. Returns the number of allocations.
    """
    ids = select(customers.c.id)
    bills = bulk.read_frame(session, select(
        Bill.id.label("bill_id"), Bill.customer_id, Bill.amount_fen, Bill.due_on, Bill.issued_on,
    ).where(Bill.customer_id.in_(ids)))
    payments = bulk.read_frame(session, select(
        Payment.id.label("payment_id"), Payment.customer_id, Payment.amount_fen, Payment.paid_at,
    ).where(Payment.customer_id.in_(ids), Payment.state != PaymentState.reversed))

    if not bills.empty:
        issued = pd.to_datetime(bills["issued_on"]).dt.tz_localize(
            business_tz(), ambiguous=False, nonexistent="shift_forward")
        bills["issued_at"] = issued.dt.tz_convert("UTC")
    if not payments.empty:
        payments["paid_at"] = pd.to_datetime(payments["paid_at"], utc=True)
    allocations = fifo_allocate(bills, payments) if not (bills.empty or payments.empty) else None

    session.execute(delete(Allocation).where(Allocation.customer_id.in_(ids)))
    if allocations is None:
        return 0
    return bulk.insert_frame(session, Allocation.__table__, allocations)
