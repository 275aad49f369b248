"""Where each account stands on a business date: balance, the overdue part, the oldest unpaid bill.

All of it is derived from the ledger and the bills as they stood on the date, in one set-based
query, so that a report for a past date gives what it would have given that day.

Payments settle the oldest bill first, so on any date the unpaid part of a customer's bills is
their youngest bills, up to what the customer owes on bills: the balance less the penalties
not yet settled (penalty_allocations, per the [allocation] order). Hence:
- overdue = the balance less the bills not yet due (never below zero);
- the oldest unpaid bill is the oldest one that the owed amount, filled from the youngest bill
  backwards, still reaches.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import Date, Select, and_, case, cast, func, literal, select, union_all

from recovery.billing.models import Bill
from recovery.customers.models import Customer
from recovery.ledger.models import EntryKind, LedgerEntry, PenaltyAllocation
from recovery.timeutil import start_of_day

BUCKETS = ["current", "1-30", "31-60", "61-90", "91-180", "180+"]


def positions(as_of: dt.date, customers: Select | None = None, *, oldest: bool = True,
              due_after: tuple[dt.date, ...] = ()) -> Select:
    """One row per customer selected by `customers` (a select of Customer.id; default all):
    customer_id, balance_fen, not_due_fen, oldest_due_on.

    `oldest=False` leaves oldest_due_on NULL and skips the search for the oldest unpaid bill (a running total
    over bills, most of the cost): for a list sorted on amounts, which needs the date only for the rows it
    shows.
    `due_after` adds unpaid_fen (owed on bills) and, per date D, billed_after_<i>: the bills due after D. The
    oldest unpaid bill is due on or before D exactly when unpaid_fen > billed_after_<i> (the unpaid part is
    the youngest bills), so an age filter needs no window either."""
    ids = customers if customers is not None else select(Customer.id)

    ledger = (
        select(
            LedgerEntry.customer_id,
            func.sum(LedgerEntry.amount_fen).label("balance_fen"),
            func.sum(case((LedgerEntry.kind == EntryKind.penalty, LedgerEntry.amount_fen), else_=0))
            .label("penalty_fen"),
        )
        .where(LedgerEntry.effective_on <= as_of, LedgerEntry.customer_id.in_(ids))
        .group_by(LedgerEntry.customer_id)
        .subquery("ledger")
    )
    live = and_(Bill.issued_on <= as_of, Bill.amount_fen > 0)
    live_bills = and_(live, Bill.customer_id.in_(ids))
    billed = (
        select(
            Bill.customer_id,
            func.sum(Bill.amount_fen).label("billed_fen"),
            func.sum(case((Bill.due_on >= as_of, Bill.amount_fen), else_=0)).label("not_due_fen"),
            *[func.sum(case((Bill.due_on > day, Bill.amount_fen), else_=0)).label(f"billed_after_{i}")
              for i, day in enumerate(due_after)],
        )
        .where(live_bills)
        .group_by(Bill.customer_id)
        .subquery("billed")
    )
    # What payments had settled of penalties by the end of the day (the [allocation] order decides).
    penalty_paid = (
        select(PenaltyAllocation.customer_id, func.sum(PenaltyAllocation.amount_fen).label("paid_fen"))
        .where(PenaltyAllocation.allocated_at < start_of_day(as_of + dt.timedelta(days=1)),
               PenaltyAllocation.customer_id.in_(ids))
        .group_by(PenaltyAllocation.customer_id)
        .subquery("penalty_paid")
    )
    balance = func.coalesce(ledger.c.balance_fen, 0)
    unpaid_penalty = func.coalesce(ledger.c.penalty_fen, 0) - func.coalesce(penalty_paid.c.paid_fen, 0)
    # What is owed on bills: the balance without unpaid penalties, within what was billed at all.
    owed_on_bills = (
        select(
            Customer.id.label("customer_id"),
            balance.label("balance_fen"),
            func.coalesce(billed.c.not_due_fen, 0).label("not_due_fen"),
            case(
                (balance - unpaid_penalty <= 0, literal(0)),
                (balance - unpaid_penalty >= func.coalesce(billed.c.billed_fen, 0),
                 func.coalesce(billed.c.billed_fen, 0)),
                else_=balance - unpaid_penalty,
            ).label("unpaid_fen"),
            *[func.coalesce(billed.c[f"billed_after_{i}"], 0).label(f"billed_after_{i}")
              for i in range(len(due_after))],
        )
        .join(ledger, ledger.c.customer_id == Customer.id, isouter=True)
        .join(billed, billed.c.customer_id == Customer.id, isouter=True)
        .join(penalty_paid, penalty_paid.c.customer_id == Customer.id, isouter=True)
        .where(Customer.id.in_(ids))
    )
    # Read by the final select and by the oldest-bill search: computed once (SQLite evaluates a subquery
    # at every mention).
    owed_on_bills = owed_on_bills.cte("owed").prefix_with("MATERIALIZED") if oldest else owed_on_bills.subquery("owed")
    extra = [owed_on_bills.c.unpaid_fen, *[owed_on_bills.c[f"billed_after_{i}"] for i in range(len(due_after))]] \
        if due_after else []
    if not oldest:
        return select(owed_on_bills.c.customer_id, owed_on_bills.c.balance_fen, owed_on_bills.c.not_due_fen,
                      cast(literal(None), Date).label("oldest_due_on"), *extra)
    oldest = _oldest_unpaid(as_of, live, owed_on_bills)
    return (
        select(
            owed_on_bills.c.customer_id,
            owed_on_bills.c.balance_fen,
            owed_on_bills.c.not_due_fen,
            oldest.c.oldest_due_on,
            *extra,
        )
        .join(oldest, oldest.c.customer_id == owed_on_bills.c.customer_id, isouter=True)
    )


def _oldest_unpaid(as_of: dt.date, live, owed):
    """customer_id, oldest_due_on: the oldest bill that the owed amount (unpaid_fen), filled from the youngest
    bill backwards, still reaches.

    Bills not yet due are the youngest, so where more is owed than they come to, the oldest unpaid bill is
    a bill already due, reached by what is left of the owed amount after them; otherwise it is one of the
    bills not yet due. Each running total is taken only over the bills that can hold the answer, of the
    customers for whom they can: the debtors' bills already due, and everybody else's bills not yet due
    (a few a customer), instead of every bill of every customer."""
    youngest_first = (Bill.due_on.desc(), Bill.issued_on.desc(), Bill.id.desc())

    def reached(where, of_customers, left):
        # Each bill with the total of itself and every younger bill of the same part; the bill is unpaid
        # while the younger ones leave something of `left` (what is owed on this part) for it. Driven from
        # the owed rows, each customer's bills by the (customer_id, due_on) index.
        part = (
            select(Bill.customer_id, Bill.due_on, Bill.amount_fen, left.label("left_fen"),
                   func.sum(Bill.amount_fen).over(partition_by=Bill.customer_id, order_by=youngest_first,
                                                  rows=(None, 0)).label("through_fen"))
            .select_from(owed)
            .join(Bill, Bill.customer_id == owed.c.customer_id)
            .where(of_customers, live, where)
            .subquery()
        )
        return (
            select(part.c.customer_id, func.min(part.c.due_on).label("oldest_due_on"))
            .where(part.c.through_fen - part.c.amount_fen < part.c.left_fen)
            .group_by(part.c.customer_id)
        )

    unpaid, not_due = owed.c.unpaid_fen, owed.c.not_due_fen
    return union_all(
        reached(Bill.due_on < as_of, unpaid > not_due, unpaid - not_due),
        reached(Bill.due_on >= as_of, and_(unpaid > 0, unpaid <= not_due), unpaid),
    ).subquery("oldest")


def classify(frame: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Add overdue_fen, days_overdue and bucket to rows of `positions` (vectorised)."""
    overdue = (frame["balance_fen"].astype("int64") - frame["not_due_fen"].astype("int64")).clip(lower=0)
    oldest = pd.to_datetime(frame["oldest_due_on"])
    days = (pd.Timestamp(as_of) - oldest).dt.days
    days = days.where((days > 0) & (overdue > 0)).astype("Int64")
    edges = [0, 30, 60, 90, 180, np.inf]
    bucket = pd.cut(days.astype("float64"), bins=edges, labels=BUCKETS[1:], right=True).astype(object)
    return frame.assign(
        overdue_fen=overdue,
        days_overdue=days,
        bucket=bucket.where(bucket.notna(), "current"),
    )
