"""The engine's input frames, one set-based query per table (customers, bills, payments, allocations, events)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from recovery import bulk
from recovery.billing.models import Bill
from recovery.customers.models import Customer, Grid
from recovery.events.models import Event
from recovery.payments.models import Allocation, Payment, PaymentState
from scoring import Frames


def _raw(column, name: str):
    # Dates and instants come back as text on SQLite and are parsed column-wise below.
    return type_coerce(column, String).label(name)


def load_frames(session: Session) -> Frames:
    """Everything the engine reads; identifiers are the source system's codes."""
    customers = bulk.read_frame(session, select(
        Customer.code.label("customer_id"), Customer.customer_class, Grid.code.label("grid"),
        _raw(Customer.opened_on, "opened_on"),
    ).join(Grid, Grid.id == Customer.grid_id))
    bills = bulk.read_frame(session, select(
        Bill.code.label("bill_id"), Customer.code.label("customer_id"), Bill.period, Bill.kwh, Bill.amount_fen,
        _raw(Bill.issued_on, "issued_on"), _raw(Bill.due_on, "due_on"),
    ).join(Customer, Customer.id == Bill.customer_id))
    payments = bulk.read_frame(session, select(
        Payment.code.label("payment_id"), Customer.code.label("customer_id"), Payment.amount_fen,
        _raw(Payment.paid_at, "paid_at"), Payment.channel,
    ).join(Customer, Customer.id == Payment.customer_id).where(Payment.state != PaymentState.reversed))
    allocations = bulk.read_frame(session, select(
        Payment.code.label("payment_id"), Bill.code.label("bill_id"), Customer.code.label("customer_id"),
        Allocation.amount_fen, _raw(Allocation.allocated_at, "allocated_at"),
    ).join(Payment, Payment.id == Allocation.payment_id).join(Bill, Bill.id == Allocation.bill_id)
     .join(Customer, Customer.id == Allocation.customer_id))
    events = bulk.read_frame(session, select(
        Customer.code.label("customer_id"), Event.kind, _raw(Event.occurred_on, "occurred_on"), Event.amount_fen,
    ).join(Customer, Customer.id == Event.customer_id))

    for frame, columns in ((customers, ["opened_on"]), (bills, ["issued_on", "due_on"]), (events, ["occurred_on"])):
        for c in columns:
            frame[c] = pd.to_datetime(frame[c])
    for frame, column in ((payments, "paid_at"), (allocations, "allocated_at")):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    for frame in (bills, payments, allocations):
        frame["amount_fen"] = frame["amount_fen"].astype("int64")
    events["amount_fen"] = events["amount_fen"].astype("Int64")
    return Frames(customers=customers, bills=bills, payments=payments, allocations=allocations, events=events)
