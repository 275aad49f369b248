"""Allocation upkeep: what each payment settled of each bill and bill penalty.

A new payment is allocated incrementally against the customer's open items (`allocate_payment`); what
changes the past (a reversal, an older bill arriving late, penalties accrued, a change of policy, bulk
imports) recomputes the customers it touches from their bills, penalties and live payments (`reallocate`).
The pure engine is recovery.ledger.fifo; tests hold both paths to its sequential reference.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import (
    BigInteger,
    Date,
    String,
    Table,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from recovery import bulk, policy
from recovery.billing.models import Bill
from recovery.customers.models import Customer
from recovery.ledger import entries
from recovery.ledger.fifo import BILL, PENALTY, allocate, allocate_rows, fifo_allocate_rows, order_key
from recovery.ledger.models import Allocation, EntryKind, LedgerEntry, PenaltyAllocation
from recovery.payments.models import Payment, PaymentState
from recovery.timeutil import business_tz, start_of_day

_INSERTS = {Allocation: insert(Allocation.__table__), PenaltyAllocation: insert(PenaltyAllocation.__table__)}
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
        session.execute(_INSERTS[table], [
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


def lock_customers(session: Session, customers: Table | list[int]) -> None:
    """Take the row locks of the customers listed in `customers` (a table with column `id`, or ids), in id order.

    Serialises with any other transaction re-allocating or posting to the same customers: each must see
    the other's payments, or both would allocate the same bill. A bulk import takes them before writing,
    so that the foreign-key checks of its rows find the customers already locked by the transaction.
    A no-op on SQLite, where a writer holds the whole database.
    """
    if session.get_bind().dialect.name == "postgresql":
        ids = select(customers.c.id) if isinstance(customers, Table) else list(customers)
        session.execute(select(Customer.id).where(Customer.id.in_(ids)).order_by(Customer.id).with_for_update())


def reallocate(session: Session, customers: Table | list[int]) -> int:
    """Rebuild the allocations of the customers listed in `customers` (a table with column `id`, or ids).

    Allocation is a function of the customer's bills and live payments, so it is recomputed from
    them rather than patched: a late-arriving older bill or a reversed payment moves later
    allocations exactly as allocating from scratch would. Returns the number of allocations.
    """
    ids = select(customers.c.id) if isinstance(customers, Table) else list(customers)
    lock_customers(session, customers)
    if isinstance(ids, list) and len(ids) <= FEW:
        return _reallocate_few(session, ids)
    # Dates and instants come back raw (text on SQLite) and are parsed column-wise, not row by row.
    payments = bulk.read_text_frame(session, select(
        Payment.id, Payment.customer_id, Payment.amount_fen, type_coerce(Payment.paid_at, String),
    ).where(Payment.customer_id.in_(ids), Payment.state != PaymentState.reversed.value),
        {"payment_id": "int64", "customer_id": "int64", "amount_fen": "int64", "paid_at": "str"})
    # Not synchronised with the session: the ORM would read every deleted id back (RETURNING) to forget
    # objects that bulk paths never load.
    for table in (Allocation, PenaltyAllocation):
        session.execute(delete(table).where(table.customer_id.in_(ids)).execution_options(synchronize_session=False))
    if payments.empty:  # e.g. a first bills import: nothing to allocate, no bills to read
        return 0
    bills = bulk.read_text_frame(session, select(
        Bill.id, Bill.customer_id, Bill.amount_fen, type_coerce(Bill.due_on, String),
        type_coerce(Bill.issued_on, String),
    ).where(Bill.customer_id.in_(ids)),
        {"bill_id": "int64", "customer_id": "int64", "amount_fen": "int64", "due_on": "str", "issued_on": "str"})
    if bills.empty:
        return 0

    bills["due_on"] = pd.to_datetime(bills["due_on"])
    bills["issued_on"] = pd.to_datetime(bills["issued_on"])
    # A bill exists from the start of its issue day in the business time zone (few distinct days).
    days = pd.Series(bills["issued_on"].unique())
    starts = days.dt.tz_localize(business_tz(), ambiguous=False, nonexistent="shift_forward").dt.tz_convert("UTC")
    bills["issued_at"] = bills["issued_on"].map(pd.Series(starts.to_numpy(), index=days))
    payments["paid_at"] = pd.to_datetime(payments["paid_at"], utc=True, format="ISO8601")
    penalties = bulk.read_text_frame(session, _penalty_totals(ids, raw_dates=True), {
        "bill_id": "int64", "customer_id": "int64", "amount_fen": "int64", "due_on": "str", "issued_on": "str"})
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


# ---------------------------------------------------------------- one new payment, incrementally


@dataclass(frozen=True)
class Settled:
    """What a new payment settled: bill allocations (bill code, fen) in the order the bills fall due, and the
    customer's ledger balance after it."""

    bills: tuple[tuple[str, int], ...]
    balance_fen: int


def _typed_null(type_):
    return cast(null(), type_)


@functools.cache
def _open_items():
    """One read (built once, run with customer_id and payment_id): a first row with the customer's balance,
    unallocated credit and latest other live payment; then every bill (kind 1) and bill penalty (kind 2)
    with what is left of it."""
    customer_id, payment_id = bindparam("customer_id", type_=BigInteger()), bindparam("payment_id", type_=BigInteger())
    paid = (select(Allocation.bill_id, func.sum(Allocation.amount_fen).label("paid"))
            .where(Allocation.customer_id == customer_id).group_by(Allocation.bill_id).subquery())
    penalty = (select(LedgerEntry.bill_id, func.sum(LedgerEntry.amount_fen).label("total"))
               .where(LedgerEntry.customer_id == customer_id, LedgerEntry.kind == EntryKind.penalty,
                      LedgerEntry.bill_id.is_not(None))
               .group_by(LedgerEntry.bill_id).subquery())
    penalty_paid = (select(PenaltyAllocation.bill_id, func.sum(PenaltyAllocation.amount_fen).label("paid"))
                    .where(PenaltyAllocation.customer_id == customer_id).group_by(PenaltyAllocation.bill_id)
                    .subquery())
    others = and_(Payment.customer_id == customer_id, Payment.state != PaymentState.reversed, Payment.id != payment_id)

    def total(column, *where):
        return select(func.coalesce(func.sum(column), 0)).where(*where).scalar_subquery()

    head = select(
        literal(0).label("kind"), _typed_null(BigInteger()).label("bill_id"), _typed_null(String()).label("code"),
        _typed_null(Date()).label("due_on"), _typed_null(Date()).label("issued_on"),
        (total(Payment.amount_fen, others) - total(Allocation.amount_fen, Allocation.customer_id == customer_id)
         - total(PenaltyAllocation.amount_fen, PenaltyAllocation.customer_id == customer_id)).label("left_fen"),
        # The balance before this payment's own entry (which the caller adds): the same figure whether or not
        # the read sees the entry (PostgreSQL posts it in the same statement, whose snapshot precedes it).
        total(LedgerEntry.amount_fen, LedgerEntry.customer_id == customer_id,
              or_(LedgerEntry.payment_id.is_(None), LedgerEntry.payment_id != payment_id)).label("balance_fen"),
        select(func.max(Payment.paid_at)).where(others).scalar_subquery().label("latest"),
    )
    no_balance, no_instant = _typed_null(BigInteger()), _typed_null(Payment.paid_at.type)
    bills = (select(literal(1), Bill.id, Bill.code, Bill.due_on, Bill.issued_on,
                    Bill.amount_fen - func.coalesce(paid.c.paid, 0), no_balance, no_instant)
             .join(paid, paid.c.bill_id == Bill.id, isouter=True)
             .where(Bill.customer_id == customer_id, Bill.amount_fen > func.coalesce(paid.c.paid, 0)))
    penalties = (select(literal(2), Bill.id, Bill.code, Bill.due_on, Bill.issued_on,
                        penalty.c.total - func.coalesce(penalty_paid.c.paid, 0), no_balance, no_instant)
                 .join(penalty, penalty.c.bill_id == Bill.id)
                 .join(penalty_paid, penalty_paid.c.bill_id == Bill.id, isouter=True)
                 .where(penalty.c.total > func.coalesce(penalty_paid.c.paid, 0)))
    return union_all(head, bills, penalties)


@functools.cache
def _post_and_read():
    """The payment's ledger entry and the read of the open items in one statement (PostgreSQL)."""
    values = {c: bindparam(f"e_{c}", type_=LedgerEntry.__table__.c[c].type) for c in entries.COLUMNS}
    entry = insert(LedgerEntry.__table__).values(values).cte("posted_entry")
    return _open_items().add_cte(entry)


def settle_payment(session: Session, *, customer_id: int, payment_id: int, amount_fen: int, paid_at: dt.datetime,
                   effective_on: dt.date, posted_at: dt.datetime, note: str | None = None) -> Settled:
    """Post a new payment's ledger entry and allocate it (`allocate_payment`); on PostgreSQL the entry and the
    read of the open items are one statement."""
    if session.get_bind().dialect.name != "postgresql":
        entries.post(session, customer_id=customer_id, kind=EntryKind.payment, amount_fen=-amount_fen,
                     effective_on=effective_on, payment_id=payment_id, note=note, posted_at=posted_at)
        return allocate_payment(session, customer_id=customer_id, payment_id=payment_id, amount_fen=amount_fen,
                                paid_at=paid_at)
    entry = {f"e_{c}": None for c in entries.COLUMNS} | {
        "e_customer_id": customer_id, "e_kind": EntryKind.payment.value, "e_amount_fen": -amount_fen,
        "e_effective_on": effective_on, "e_posted_at": posted_at, "e_payment_id": payment_id,
        "e_note": note[:entries.NOTE_LENGTH] if note else None}
    rows = session.execute(_post_and_read(), {"customer_id": customer_id, "payment_id": payment_id} | entry).all()
    return allocate_payment(session, customer_id=customer_id, payment_id=payment_id, amount_fen=amount_fen,
                            paid_at=paid_at, open_items=rows)


def allocate_payment(session: Session, *, customer_id: int, payment_id: int, amount_fen: int,
                     paid_at: dt.datetime, open_items: list | None = None) -> Settled:
    """Allocate a payment just posted (its ledger entry written, its customer's row locked) against what
    the customer still owes, in the [allocation] order: one read of the open items (`open_items` when the
    caller read them already), one write.

    Allocating from the remaining amounts gives what a full recompute gives as long as the payment is the
    customer's latest; a payment dated before another live payment changes the past, so it is allocated
    by recomputing the customer (`reallocate`). Either way the result equals the sequential reference.
    """
    rows = open_items if open_items is not None else session.execute(
        _open_items(), {"customer_id": customer_id, "payment_id": payment_id}).all()
    head, items = rows[0], rows[1:]
    balance = int(head.balance_fen) - amount_fen
    latest = head.latest
    if latest is not None and latest.tzinfo is None:
        latest = latest.replace(tzinfo=dt.UTC)
    if latest is not None and latest > paid_at:
        reallocate(session, [customer_id])
        done = session.execute(
            select(Bill.code, Allocation.amount_fen).join(Bill, Bill.id == Allocation.bill_id)
            .where(Allocation.payment_id == payment_id).order_by(Bill.due_on, Bill.id)).all()
        return Settled(tuple((c, int(a)) for c, a in done), balance)
    order = policy.section("allocation")["order"]
    grace = policy.section("penalty")["grace_days"]
    queue = []
    for kind, bill_id, code, due_on, issued_on, left, _b, _l in items:
        item_kind = BILL if kind == 1 else PENALTY
        opens = start_of_day(issued_on) if kind == 1 else start_of_day(_accrual_start(due_on, grace))
        queue.append((order_key(order, item_kind, due_on, issued_on, bill_id), item_kind, bill_id, code, due_on,
                      int(left), opens))
    queue.sort(key=lambda q: q[0])
    timed = order != "bills_first"
    # Time-based orders: a penalty takes only a payment made once it accrues; what is left of the payment
    # is a credit that settles the penalties accruing later, as they start (recovery.ledger.fifo.allocate_rows).
    now_open = [q for q in queue if not (timed and q[1] == PENALTY and q[6] > paid_at)]
    later = sorted((q for q in queue if timed and q[1] == PENALTY and q[6] > paid_at), key=lambda q: (q[6], q[0]))
    left = amount_fen
    to_bills, to_penalties = [], []
    for _key, item_kind, bill_id, code, due_on, open_fen, opens in [*now_open, *later]:
        if left == 0:
            break
        take = min(left, open_fen)
        left -= take
        row = (payment_id, bill_id, customer_id, take, max(paid_at, opens))
        (to_bills if item_kind == BILL else to_penalties).append((row, due_on, code))
    _insert_rows(session, Allocation, [r for r, _d, _c in to_bills])
    _insert_rows(session, PenaltyAllocation, [r for r, _d, _c in to_penalties])
    answer = sorted(((due_on, r[1], code, r[3]) for r, due_on, code in to_bills))
    return Settled(tuple((code, take) for _d, _i, code, take in answer), balance)
