"""Payment rules: allocation upkeep. (Posting from each channel builds on these.)"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import String, Table, delete, func, insert, select, type_coerce
from sqlalchemy.orm import Session

from recovery import bulk, policy
from recovery.billing.models import Bill, EntryKind, LedgerEntry
from recovery.billing.penalty_models import PenaltyAllocation
from recovery.customers.models import Customer
from recovery.payments.allocation import PENALTY, allocate, allocate_rows, fifo_allocate_rows
from recovery.payments.models import Allocation, Payment, PaymentState
from recovery.timeutil import business_tz, start_of_day

FEW = 20  # up to this many customers (an API posting), rows beat frames: no pandas overhead per call


def _penalty_totals(ids, *, raw_dates: bool = False):
    """Each bill's late-payment penalty total (its penalty ledger entries), with the bill's dates
    (raw_dates: as the driver's text on SQLite, for column-wise parsing)."""
    due_on, issued_on = ((type_coerce(Bill.due_on, String), type_coerce(Bill.issued_on, String)) if raw_dates
                         else (Bill.due_on, Bill.issued_on))
    return (
        select(Bill.id.label("bill_id"), Bill.customer_id, func.sum(LedgerEntry.amount_fen).label("amount_fen"),
               due_on.label("due_on"), issued_on.label("issued_on"))
        .join(Bill, Bill.id == LedgerEntry.bill_id)
        .where(LedgerEntry.kind == EntryKind.penalty, LedgerEntry.customer_id.in_(ids))
        .group_by(Bill.id, Bill.customer_id, Bill.due_on, Bill.issued_on)
        .having(func.sum(LedgerEntry.amount_fen) > 0)
    )


def _accrual_start(due_on: dt.date, grace_days: int) -> dt.date:
    return due_on + dt.timedelta(days=grace_days + 1)


def _insert_rows(session: Session, table, rows) -> None:
    if rows:
        session.execute(insert(table), [
            {"payment_id": p, "bill_id": b, "customer_id": c, "amount_fen": a, "allocated_at": at}
            for p, b, c, a, at in rows])


def _reallocate_few(session: Session, ids: list[int]) -> int:
    """reallocate() for a few customers, on plain rows."""
    payments = session.execute(
        select(Payment.id, Payment.customer_id, Payment.amount_fen, Payment.paid_at)
        .where(Payment.customer_id.in_(ids), Payment.state != PaymentState.reversed)
    ).all()
    session.execute(delete(Allocation).where(Allocation.customer_id.in_(ids)))
    session.execute(delete(PenaltyAllocation).where(PenaltyAllocation.customer_id.in_(ids)))
    if not payments:
        return 0
    bills = [(b.id, b.customer_id, b.amount_fen, b.due_on, b.issued_on, start_of_day(b.issued_on))
             for b in session.execute(select(Bill.id, Bill.customer_id, Bill.amount_fen, Bill.due_on, Bill.issued_on)
                                      .where(Bill.customer_id.in_(ids)))]
    grace = policy.section("penalty")["grace_days"]
    penalties = [(p.bill_id, p.customer_id, int(p.amount_fen), p.due_on, p.issued_on,
                  start_of_day(_accrual_start(p.due_on, grace)))
                 for p in session.execute(_penalty_totals(ids))]
    if not penalties:
        rows = fifo_allocate_rows(bills, [tuple(p) for p in payments])
        _insert_rows(session, Allocation, rows)
        return len(rows)
    both = allocate_rows(bills, penalties, [tuple(p) for p in payments], policy.section("allocation")["order"])
    _insert_rows(session, Allocation, [r[1:] for r in both if r[0] != PENALTY])
    _insert_rows(session, PenaltyAllocation, [r[1:] for r in both if r[0] == PENALTY])
    return len(both)


def reallocate(session: Session, customers: Table | list[int]) -> int:
    """Rebuild the allocations of the customers listed in `customers` (a table with column `id`, or ids).

    Allocation is a function of the customer's bills and live payments, so it is recomputed from
    them rather than patched: a late-arriving older bill or a reversed payment moves later
    allocations exactly as allocating from scratch would. Returns the number of allocations.
    """
    ids = select(customers.c.id) if isinstance(customers, Table) else list(customers)
    if session.get_bind().dialect.name == "postgresql":
        # Serialise with any other transaction re-allocating the same customers: each must see the
        # other's payments, or both would allocate the same bill.
        session.execute(select(Customer.id).where(Customer.id.in_(ids)).order_by(Customer.id).with_for_update())
    if isinstance(ids, list) and len(ids) <= FEW:
        return _reallocate_few(session, ids)
    # Dates and instants come back raw (text on SQLite) and are parsed column-wise, not row by row.
    payments = bulk.read_frame(session, select(
        Payment.id.label("payment_id"), Payment.customer_id, Payment.amount_fen,
        type_coerce(Payment.paid_at, String).label("paid_at"),
    ).where(Payment.customer_id.in_(ids), Payment.state != PaymentState.reversed))
    session.execute(delete(Allocation).where(Allocation.customer_id.in_(ids)))
    session.execute(delete(PenaltyAllocation).where(PenaltyAllocation.customer_id.in_(ids)))
    if payments.empty:  # e.g. a first bills import: nothing to allocate, no bills to read
        return 0
    bills = bulk.read_frame(session, select(
        Bill.id.label("bill_id"), Bill.customer_id, Bill.amount_fen,
        type_coerce(Bill.due_on, String).label("due_on"), type_coerce(Bill.issued_on, String).label("issued_on"),
    ).where(Bill.customer_id.in_(ids)))
    if bills.empty:
        return 0

    bills["due_on"] = pd.to_datetime(bills["due_on"])
    bills["issued_on"] = pd.to_datetime(bills["issued_on"])
    # A bill exists from the start of its issue day in the business time zone (few distinct days).
    days = pd.Series(bills["issued_on"].unique())
    starts = days.dt.tz_localize(business_tz(), ambiguous=False, nonexistent="shift_forward").dt.tz_convert("UTC")
    bills["issued_at"] = bills["issued_on"].map(pd.Series(starts.to_numpy(), index=days))
    payments["paid_at"] = pd.to_datetime(payments["paid_at"], utc=True, format="ISO8601")
    penalties = bulk.read_frame(session, _penalty_totals(ids, raw_dates=True))
    if penalties.empty:
        penalties = pd.DataFrame(columns=["bill_id", "customer_id", "amount_fen", "due_on", "issued_on",
                                          "available_at"])
    else:
        penalties["amount_fen"] = penalties["amount_fen"].astype("int64")
        penalties["due_on"] = pd.to_datetime(penalties["due_on"])
        penalties["issued_on"] = pd.to_datetime(penalties["issued_on"])
        grace = pd.Timedelta(days=policy.section("penalty")["grace_days"] + 1)
        starts = (penalties["due_on"] + grace).dt.tz_localize(business_tz(), ambiguous=False,
                                                               nonexistent="shift_forward").dt.tz_convert("UTC")
        penalties["available_at"] = starts
    to_bills, to_penalties = allocate(bills, penalties, payments, policy.section("allocation")["order"])
    return (bulk.insert_frame(session, Allocation.__table__, to_bills)
            + bulk.insert_frame(session, PenaltyAllocation.__table__, to_penalties))
