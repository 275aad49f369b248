"""Late-payment penalties (电费违约金), accrued from the day after the due date until paid.

The rule (policy [penalty], see penalty_policy.py): on every day d from `due_on + grace_days + 1`
up to the day a part of the bill is paid, that part accrues `rate` of itself, where the rate is the
customer class's `current_year` rate while d lies in the bill's year (its billing period's year, or
its due date's with `year_of = "due_on"`) and its `earlier_years` rate from 1 January after it.
A part paid on day p is overdue on day p too (paid one day late: one day of penalty), the day's
payment being the bill's allocations (what payments settled of it, oldest bill first), so a reversed
payment makes its part overdue again and a late-arriving payment lowers the penalty.

Rounding, exact with integers: a bill's penalty as of D is
    round_half_up( Σ_parts amount_fen × (days_current × rate_current_ppm + days_earlier × rate_earlier_ppm) / 10^6 )
— rounded once, on the total — and a total above 0 but under the minimum (1 yuan) is the minimum.
Days on which the customer's grid or building is flagged as a demolition or clearance site accrue nothing
(recovery.buildings.clearance); what accrued before the flag stays.

Idempotent for any day: `accrue(session, D)` computes every bill's total as of D from scratch,
compares it with the penalty entries already posted for the bill with effective_on <= D, and posts
only the difference as a `penalty` ledger entry (bill_id set, effective on D; negative when the
total went down). Rerunning D posts nothing; running D+1 adds that day. Running a day older than
one already accrued (a missed night, backfilled) takes its difference back on the bill's next
accrued day, so that what later days show is unchanged. Accruals never run side by side (a
PostgreSQL advisory lock; SQLite has a single writer).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Date, String, and_, func, literal, select, type_coerce
from sqlalchemy.orm import Session

from recovery import bulk, ledger, locks, policy
from recovery.audit import service as audit
from recovery.billing import penalty_rules
from recovery.billing.models import Bill
from recovery.customers.models import Customer
from recovery.errors import Invalid
from recovery.ledger.allocations import reallocate
from recovery.ledger.models import Allocation, EntryKind, LedgerEntry
from recovery.timeutil import business_tz, now, today

ADVISORY_LOCK = 0x70656E616C7479  # "penalty"
MAX_PASSES = 6  # penalties_first / oldest_first: penalty and allocation settle to a fixed point in 2-3

RESULT_COLUMNS = ["bill_id", "customer_id", "penalty_fen", "posted_fen"]
# Customers computed at a time: some 2 GB of frames at 100,000 customers of 24 months (a million at once did not
# fit in 20 GB).
CHUNK_CUSTOMERS = 100_000


def penalties_as_of(session: Session, day: dt.date, *, chunk: int = CHUNK_CUSTOMERS) -> pd.DataFrame:
    """Every bill's penalty total as of `day` from scratch, beside what is posted with effective_on <= day.

    Returns bill_id, customer_id, penalty_fen, posted_fen (one row per bill that has either). The bills are read
    and computed `chunk` customer ids at a time (a customer's bills, payments and write-offs together): memory
    follows the chunk, not the utility (a million customers hold some 22 million bills).
    """
    rules = policy.section("penalty")
    from recovery.buildings.clearance import penalty_stops

    stops = penalty_stops(session, day)
    first, last = session.execute(select(func.min(Customer.id), func.max(Customer.id))).one()
    parts = [_as_of(session, day, rules, stops, lo, lo + chunk)
             for lo in range(first or 0, (last or -1) + 1, chunk)]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        {c: pd.Series(dtype="int64") for c in RESULT_COLUMNS})
    return out[RESULT_COLUMNS].sort_values("bill_id", ignore_index=True)


def _as_of(session: Session, day: dt.date, rules: dict, stops: pd.DataFrame, lo: int, hi: int) -> pd.DataFrame:
    """penalties_as_of for the customers with lo <= id < hi."""
    start_offset = rules["grace_days"] + 1
    last_due = day - dt.timedelta(days=start_offset)
    due = [Bill.amount_fen > 0, Bill.due_on <= last_due, Bill.issued_on <= day, Bill.customer_id >= lo,
           Bill.customer_id < hi]
    bills = bulk.read_frame(session, select(
        Bill.id.label("bill_id"), Bill.customer_id, Customer.customer_class, Bill.period, Bill.amount_fen,
        type_coerce(Bill.due_on, String).label("due_on"),
    ).join(Customer, Customer.id == Bill.customer_id).where(*due))
    allocations = bulk.read_frame(session, select(
        Allocation.bill_id, Allocation.amount_fen, type_coerce(Allocation.allocated_at, String).label("allocated_at"),
    ).join(Bill, Bill.id == Allocation.bill_id).where(*due))
    posted = bulk.read_frame(session, select(
        LedgerEntry.bill_id, LedgerEntry.customer_id, func.sum(LedgerEntry.amount_fen).label("posted_fen"),
    ).where(LedgerEntry.kind == EntryKind.penalty, LedgerEntry.effective_on <= day, LedgerEntry.bill_id.is_not(None),
            LedgerEntry.customer_id >= lo, LedgerEntry.customer_id < hi)
        .group_by(LedgerEntry.bill_id, LedgerEntry.customer_id))

    from recovery.collections.writeoff.models import WriteOff

    write_offs = bulk.read_frame(session, select(
        WriteOff.customer_id, WriteOff.amount_fen, type_coerce(WriteOff.written_off_on, String).label("written_off_on"),
    ).where(WriteOff.written_off_on <= day, WriteOff.customer_id >= lo, WriteOff.customer_id < hi)
        .order_by(WriteOff.customer_id, WriteOff.written_off_on, WriteOff.id))

    mine = stops[(stops["customer_id"] >= lo) & (stops["customer_id"] < hi)]
    computed = _compute(bills, allocations, day, rules, write_offs, mine)
    posted = posted.astype({"bill_id": "int64", "customer_id": "int64", "posted_fen": "int64"})
    out = computed.merge(posted, on=["bill_id", "customer_id"], how="outer")
    return out.fillna({"penalty_fen": 0, "posted_fen": 0}).astype({"penalty_fen": "int64", "posted_fen": "int64"})


def _compute(bills: pd.DataFrame, allocations: pd.DataFrame, day: dt.date, rules: dict,
             write_offs: pd.DataFrame | None = None, stops: pd.DataFrame | None = None) -> pd.DataFrame:
    """penalty_rules.totals in the service's business time zone; a class without a rate is Invalid (a 4xx)."""
    try:
        return penalty_rules.totals(bills, allocations, day, rules, write_offs, stops, tz=business_tz().key)
    except penalty_rules.NoRate as e:
        raise Invalid(str(e)) from e


def accrue(session: Session, day: dt.date, *, actor: str | None = None) -> dict:
    """Bring every bill's posted penalty to its total as of `day`: post the differences, re-allocate.

    Idempotent; the nightly job `billing.penalties` and `recovery penalties accrue --date D` call it.
    """
    if day > today():
        raise Invalid(f"cannot accrue penalties for {day.isoformat()}: it lies in the future")
    # One accrual at a time, whatever its day: each compares with what the others posted.
    locks.exclusive(session, ADVISORY_LOCK)
    order = policy.section("allocation")["order"]
    posted_count = posted_fen = 0
    customers: set[int] = set()
    passes = 0
    for passes in range(1, MAX_PASSES + 1):  # noqa: B007  (reported below)
        frame = penalties_as_of(session, day)
        diff = frame.assign(amount_fen=frame["penalty_fen"] - frame["posted_fen"])
        diff = diff.loc[diff["amount_fen"] != 0]
        if diff.empty:
            break
        _post(session, diff, day)
        posted_count += len(diff)
        posted_fen += int(diff["amount_fen"].sum())
        touched = set(diff["customer_id"].tolist())
        customers |= touched
        ids = bulk.stage(session, "penalty_customers", pd.DataFrame({"id": sorted(touched)}), {"id": bulk.ID})
        reallocate(session, ids)
        if order == "bills_first":
            break  # penalties come after every bill: re-allocation cannot change what the bills were paid
    else:
        raise Invalid(f"penalties for {day.isoformat()} did not settle after {MAX_PASSES} passes")
    # `frame` holds the totals as of the day: what is posted now, whichever way the loop ended.
    summary = {"day": day.isoformat(), "entries": posted_count, "posted_fen": posted_fen,
               "customers": len(customers), "bills_with_penalty": int((frame["penalty_fen"] > 0).sum()),
               "penalty_total_fen": int(frame["penalty_fen"].sum()), "passes": passes}
    if posted_count:
        audit.record(session, "penalty.accrue", "day", day.isoformat(), actor=actor,
                     **{k: v for k, v in summary.items() if k != "day"})
    return summary


def _post(session: Session, diff: pd.DataFrame, day: dt.date) -> None:
    staged = bulk.stage(session, "penalty_diff", diff[["bill_id", "customer_id", "amount_fen"]],
                        {"bill_id": bulk.ID, "customer_id": bulk.ID, "amount_fen": bulk.FEN})
    s = staged.c
    stamp = now()
    later = (select(func.min(LedgerEntry.effective_on)).where(
        LedgerEntry.bill_id == s.bill_id, LedgerEntry.kind == EntryKind.penalty, LedgerEntry.effective_on > day)
        .correlate(staged).scalar_subquery())
    # A day older than one already accrued (a backfill): what is posted for the later days stays as it
    # was, by taking the difference back on the bill's next accrued day.
    columns = ["customer_id", "kind", "amount_fen", "effective_on", "posted_at", "bill_id", "note"]
    ledger.post_select(session, select(
        s.customer_id, literal(EntryKind.penalty.value), -s.amount_fen, later,
        literal(stamp, LedgerEntry.posted_at.type), s.bill_id,
        literal(f"penalty: {day.isoformat()} recomputed, later days unchanged"))
        .where(later.is_not(None)), columns)
    ledger.post_select(session, select(
        s.customer_id, literal(EntryKind.penalty.value), s.amount_fen, literal(day, Date()),
        literal(stamp, LedgerEntry.posted_at.type), s.bill_id, literal(f"penalty to {day.isoformat()}")), columns)


def nightly(session: Session, day: dt.date) -> dict:
    """The job `billing.penalties`: accrue for the day that just ended."""
    return accrue(session, day, actor="job:billing.penalties")


def bill_penalties(session: Session, customer_id: int) -> list[dict]:
    """A customer's bills with a penalty: bill code, penalty posted, what payments settled of it."""
    from recovery.ledger.models import PenaltyAllocation

    paid = (select(PenaltyAllocation.bill_id, func.sum(PenaltyAllocation.amount_fen).label("paid"))
            .where(PenaltyAllocation.customer_id == customer_id).group_by(PenaltyAllocation.bill_id).subquery())
    rows = session.execute(
        select(Bill.code, func.sum(LedgerEntry.amount_fen), func.coalesce(func.max(paid.c.paid), 0))
        .join(Bill, Bill.id == LedgerEntry.bill_id)
        .join(paid, paid.c.bill_id == Bill.id, isouter=True)
        .where(and_(LedgerEntry.customer_id == customer_id, LedgerEntry.kind == EntryKind.penalty))
        .group_by(Bill.code, Bill.due_on).order_by(Bill.due_on)
    ).all()
    return [{"bill_id": code, "penalty_fen": int(total), "paid_fen": int(settled)} for code, total, settled in rows]
