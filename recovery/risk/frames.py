"""The engine's input frames, one set-based query per table (customers, bills, payments, allocations, events,
security held, credit ratings)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import String, select, type_coerce
from sqlalchemy.orm import Session

from recovery import bulk
from recovery.billing.models import Bill
from recovery.credit.models import CreditRating
from recovery.credit.security.models import MONEY_KINDS, DepositEntry, Guarantee, GuaranteeStatus
from recovery.customers.models import Customer, Grid
from recovery.events.models import Event
from recovery.ledger.models import Allocation, EntryKind, LedgerEntry
from recovery.payments.models import Payment, PaymentState
from recovery.timeutil import business_tz
from scoring import Frames

OTHER_MOVEMENTS = (EntryKind.penalty, EntryKind.write_off, EntryKind.adjustment)


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

    # The ledger's other movements, so that balances are the ledger's (the customer page's): penalties, write-offs
    # and adjustments. Reversals are left out: a reversed payment is not in `payments`, and a trued-up interim
    # bill is already zero in `bills`.
    ledger = bulk.read_frame(session, select(
        Customer.code.label("customer_id"), LedgerEntry.kind, LedgerEntry.amount_fen,
        _raw(LedgerEntry.effective_on, "effective_on"),
    ).join(Customer, Customer.id == LedgerEntry.customer_id).where(LedgerEntry.kind.in_(OTHER_MOVEMENTS)))
    ledger["effective_on"] = pd.to_datetime(ledger["effective_on"])
    ledger["amount_fen"] = ledger["amount_fen"].astype("int64")

    security = _security(session)
    # The credit domain's ratings as they stood on each date (history rows are stored on change only).
    rating = bulk.read_frame(session, select(
        Customer.code.label("customer_id"), CreditRating.grade, CreditRating.points,
        _raw(CreditRating.rated_on, "rated_on"),
    ).join(Customer, Customer.id == CreditRating.customer_id))
    rating["rated_on"] = pd.to_datetime(rating["rated_on"])
    rating["points"] = rating["points"].astype("int64")

    for frame, columns in ((customers, ["opened_on"]), (bills, ["issued_on", "due_on"]), (events, ["occurred_on"])):
        for c in columns:
            frame[c] = pd.to_datetime(frame[c])
    for frame, column in ((payments, "paid_at"), (allocations, "allocated_at")):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    for frame in (bills, payments, allocations):
        frame["amount_fen"] = frame["amount_fen"].astype("int64")
    events["amount_fen"] = events["amount_fen"].astype("Int64")
    return Frames(customers=customers, bills=bills, payments=payments, allocations=allocations, events=events,
                  security=security if not security.empty else None, rating=rating if not rating.empty else None,
                  ledger=ledger if not ledger.empty else None)


def _security(session: Session) -> pd.DataFrame:
    """Security as of any date: each deposit money entry from its effective date (signed, so a sum up to a
    date is what was held then), and each guarantee from its first day of validity until the day after its
    last, or until it was called. A guarantee handed back early has no recorded date and is left out."""
    deposits = bulk.read_frame(session, select(
        Customer.code.label("customer_id"), DepositEntry.amount_fen.label("deposit_fen"),
        _raw(DepositEntry.effective_on, "held_on"),
    ).join(Customer, Customer.id == DepositEntry.customer_id).where(DepositEntry.kind.in_(MONEY_KINDS)))
    guarantees = bulk.read_frame(session, select(
        Customer.code.label("customer_id"), Guarantee.amount_fen.label("guarantee_fen"),
        _raw(Guarantee.valid_from, "held_on"), _raw(Guarantee.valid_until, "valid_until"),
        _raw(Payment.paid_at, "called_at"),
    ).join(Customer, Customer.id == Guarantee.customer_id).join(Payment, Payment.id == Guarantee.payment_id,
                                                                isouter=True)
        .where(Guarantee.status != GuaranteeStatus.released))
    until = pd.to_datetime(guarantees["valid_until"]) + pd.Timedelta(days=1)
    called = (pd.to_datetime(guarantees["called_at"], utc=True, format="ISO8601").dt.tz_convert(business_tz())
              .dt.tz_localize(None).dt.normalize())
    guarantees["released_on"] = called.where(called.notna(), until)
    frame = pd.concat([deposits.assign(guarantee_fen=0), guarantees.assign(deposit_fen=0)], ignore_index=True)
    frame["held_on"] = pd.to_datetime(frame["held_on"])
    frame["released_on"] = pd.to_datetime(frame.get("released_on"))
    return frame.astype({"deposit_fen": "int64", "guarantee_fen": "int64"})[
        ["customer_id", "deposit_fen", "guarantee_fen", "held_on", "released_on"]]
