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

import numpy as np
import pandas as pd
from sqlalchemy import Date, String, and_, func, literal, select, type_coerce
from sqlalchemy.orm import Session

from recovery import bulk, ledger, locks, policy
from recovery.audit import service as audit
from recovery.billing.models import Bill
from recovery.billing.penalty_policy import PPM
from recovery.customers.models import Customer
from recovery.errors import Invalid
from recovery.ledger.allocations import reallocate
from recovery.ledger.models import Allocation, EntryKind, LedgerEntry
from recovery.timeutil import business_tz, now, today

ADVISORY_LOCK = 0x70656E616C7479  # "penalty"
MAX_PASSES = 6  # penalties_first / oldest_first: penalty and allocation settle to a fixed point in 2-3

RESULT_COLUMNS = ["bill_id", "customer_id", "penalty_fen", "posted_fen"]


def _days(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Days in [start, end], inclusive, 0 when the range is empty (datetime64[D] arrays)."""
    return np.maximum((end - start).astype("int64") + 1, 0)


def penalties_as_of(session: Session, day: dt.date) -> pd.DataFrame:
    """Every bill's penalty total as of `day` from scratch, beside what is posted with effective_on <= day.

    Returns bill_id, customer_id, penalty_fen, posted_fen (one row per bill that has either).
    """
    rules = policy.section("penalty")
    start_offset = rules["grace_days"] + 1
    last_due = day - dt.timedelta(days=start_offset)
    bills = bulk.read_frame(session, select(
        Bill.id.label("bill_id"), Bill.customer_id, Customer.customer_class, Bill.period, Bill.amount_fen,
        type_coerce(Bill.due_on, String).label("due_on"),
    ).join(Customer, Customer.id == Bill.customer_id)
        .where(Bill.amount_fen > 0, Bill.due_on <= last_due, Bill.issued_on <= day))
    allocations = bulk.read_frame(session, select(
        Allocation.bill_id, Allocation.amount_fen, type_coerce(Allocation.allocated_at, String).label("allocated_at"),
    ).join(Bill, Bill.id == Allocation.bill_id).where(Bill.amount_fen > 0, Bill.due_on <= last_due,
                                                      Bill.issued_on <= day))
    posted = bulk.read_frame(session, select(
        LedgerEntry.bill_id, LedgerEntry.customer_id, func.sum(LedgerEntry.amount_fen).label("posted_fen"),
    ).where(LedgerEntry.kind == EntryKind.penalty, LedgerEntry.effective_on <= day, LedgerEntry.bill_id.is_not(None))
        .group_by(LedgerEntry.bill_id, LedgerEntry.customer_id))

    from recovery.collections.writeoff.models import WriteOff

    write_offs = bulk.read_frame(session, select(
        WriteOff.customer_id, WriteOff.amount_fen, type_coerce(WriteOff.written_off_on, String).label("written_off_on"),
    ).where(WriteOff.written_off_on <= day).order_by(WriteOff.customer_id, WriteOff.written_off_on, WriteOff.id))

    from recovery.buildings.clearance import penalty_stops

    computed = _compute(bills, allocations, day, rules, write_offs, penalty_stops(session, day))
    posted = posted.astype({"bill_id": "int64", "customer_id": "int64", "posted_fen": "int64"})
    out = computed.merge(posted, on=["bill_id", "customer_id"], how="outer")
    out = out.fillna({"penalty_fen": 0, "posted_fen": 0}).astype({"penalty_fen": "int64", "posted_fen": "int64"})
    return out[RESULT_COLUMNS].sort_values("bill_id", ignore_index=True)


def _written_off(bills: pd.DataFrame, unpaid: pd.Series, write_offs: pd.DataFrame) -> pd.DataFrame:
    """The parts of unpaid bills that write-offs took off the account: each write-off covers the customer's
    unpaid bills due by its date, oldest first; a covered part stops accruing on the write-off's date.
    Returns bill_id, amount_fen, end (like a payment's part)."""
    empty = pd.DataFrame({"bill_id": pd.Series(dtype="int64"), "amount_fen": pd.Series(dtype="int64"),
                          "end": pd.Series(dtype="datetime64[s]")})
    if write_offs is None or write_offs.empty:
        return empty
    w = write_offs.astype({"customer_id": "int64", "amount_fen": "int64"})
    w = w.assign(end=pd.to_datetime(w["written_off_on"]), w_hi=w.groupby("customer_id")["amount_fen"].cumsum())
    w = w.assign(w_lo=w["w_hi"] - w["amount_fen"])
    last = w.groupby("customer_id")["end"].max()
    b = bills.assign(unpaid=unpaid.clip(lower=0).to_numpy(), due=pd.to_datetime(bills["due_on"]))
    b = b[(b["unpaid"] > 0) & b["customer_id"].isin(last.index)]
    b = b[b["due"] <= b["customer_id"].map(last)].sort_values(["customer_id", "due", "bill_id"])
    if b.empty:
        return empty
    b = b.assign(b_hi=b.groupby("customer_id")["unpaid"].cumsum())
    b = b.assign(b_lo=b["b_hi"] - b["unpaid"])
    pairs = b[["bill_id", "customer_id", "b_lo", "b_hi"]].merge(w[["customer_id", "w_lo", "w_hi", "end"]],
                                                                 on="customer_id")  # write-offs are few
    covered = (np.minimum(pairs["b_hi"], pairs["w_hi"]) - np.maximum(pairs["b_lo"], pairs["w_lo"])).clip(lower=0)
    pairs = pairs.assign(amount_fen=covered.astype("int64"))
    return pairs.loc[pairs["amount_fen"] > 0, ["bill_id", "amount_fen", "end"]].reset_index(drop=True)


def _compute(bills: pd.DataFrame, allocations: pd.DataFrame, day: dt.date, rules: dict,
             write_offs: pd.DataFrame | None = None, stops: pd.DataFrame | None = None) -> pd.DataFrame:
    """The penalty totals of `bills` as of `day` (pure: frames in, frame out). A bill's part taken off by a
    write-off (`write_offs`: customer_id, amount_fen, written_off_on) accrues only to the write-off's date.
    `stops` (customer_id, start, end exclusive; a customer's periods never overlap) are days on which the
    customer's bills accrue nothing: a demolition or clearance site (recovery.buildings.clearance)."""
    if bills.empty:
        return pd.DataFrame({"bill_id": pd.Series(dtype="int64"), "customer_id": pd.Series(dtype="int64"),
                             "penalty_fen": pd.Series(dtype="int64")})
    bills = bills.astype({"bill_id": "int64", "customer_id": "int64", "amount_fen": "int64"})
    d = np.datetime64(day, "D")
    due = pd.to_datetime(bills["due_on"]).to_numpy(dtype="datetime64[D]")
    bills = bills.assign(
        start=due + np.timedelta64(rules["grace_days"] + 1, "D"),
        year=(bills["period"].str.slice(0, 4).astype("int64") if rules["year_of"] == "period"
              else pd.Series(due.astype("datetime64[Y]").astype("int64") + 1970, index=bills.index)),
    )

    # Parts of each bill: every allocation (paid on its local day), and what is still unpaid (to `day`).
    if allocations.empty:
        paid = pd.DataFrame({"bill_id": pd.Series(dtype="int64"), "amount_fen": pd.Series(dtype="int64"),
                             "end": pd.Series(dtype="datetime64[s]")})
    else:
        at = pd.to_datetime(allocations["allocated_at"], utc=True, format="ISO8601")
        local = at.dt.tz_convert(business_tz()).dt.tz_localize(None).dt.normalize()
        paid = pd.DataFrame({"bill_id": allocations["bill_id"].astype("int64"),
                             "amount_fen": allocations["amount_fen"].astype("int64"), "end": local})
    settled = paid.groupby("bill_id")["amount_fen"].sum()
    unpaid = bills["amount_fen"] - bills["bill_id"].map(settled).fillna(0).astype("int64")
    written = _written_off(bills, unpaid, write_offs)
    unpaid = unpaid - bills["bill_id"].map(written.groupby("bill_id")["amount_fen"].sum()).fillna(0).astype("int64")
    rest = pd.DataFrame({"bill_id": bills["bill_id"], "amount_fen": unpaid.clip(lower=0),
                         "end": pd.Timestamp(day)})
    parts = pd.concat([p for p in (paid, written, rest.loc[rest["amount_fen"] > 0]) if len(p)] or [paid],
                      ignore_index=True)
    parts = parts.merge(bills[["bill_id", "customer_id", "start", "year"]], on="bill_id", how="inner")

    end = np.minimum(parts["end"].to_numpy(dtype="datetime64[D]"), d)
    start = parts["start"].to_numpy(dtype="datetime64[D]")
    years = parts["year"].to_numpy(dtype="int64")
    year_end = (years - 1970 + 1).astype("datetime64[Y]").astype("datetime64[D]") - np.timedelta64(1, "D")
    current_days = _days(start, np.minimum(end, year_end))
    earlier_days = _days(np.maximum(start, year_end + np.timedelta64(1, "D")), end)
    if stops is not None and len(stops):
        _take_off(parts, stops, start, end, year_end, current_days, earlier_days)
    amount = parts["amount_fen"].to_numpy(dtype="int64")
    fen_days = pd.DataFrame({"bill_id": parts["bill_id"], "current": amount * current_days,
                             "earlier": amount * earlier_days}).groupby("bill_id").sum()

    out = bills[["bill_id", "customer_id", "customer_class"]].join(fen_days, on="bill_id", how="inner")
    rates = rules["rates_ppm"]
    cur_rate = out["customer_class"].map({c: r[0] for c, r in rates.items()})
    old_rate = out["customer_class"].map({c: r[1] for c, r in rates.items()})
    if cur_rate.isna().any():
        unknown = sorted(set(out.loc[cur_rate.isna(), "customer_class"]))
        raise Invalid(f"no penalty rate for customer class(es) {unknown}")
    # Python integers for the product: fen-days times parts per million can pass 2^63 on huge arrears.
    numerator = (out["current"].astype(object) * cur_rate.astype("int64").astype(object)
                 + out["earlier"].astype(object) * old_rate.astype("int64").astype(object))
    total = (numerator + PPM // 2) // PPM
    total = total.where(~((numerator > 0) & (total < rules["minimum_fen"])), rules["minimum_fen"])
    out = out.assign(penalty_fen=total.astype("int64"))
    return out.loc[out["penalty_fen"] != 0, ["bill_id", "customer_id", "penalty_fen"]]


def _take_off(parts: pd.DataFrame, stops: pd.DataFrame, start: np.ndarray, end: np.ndarray, year_end: np.ndarray,
              current_days: np.ndarray, earlier_days: np.ndarray) -> None:
    """Subtract from each part's accruing days (in place, current year and earlier years apart) the days of
    its customer's `stops` that fall within the part's own days."""
    pairs = pd.DataFrame({"i": np.arange(len(parts)), "customer_id": parts["customer_id"].to_numpy()}).merge(
        stops, on="customer_id")
    if pairs.empty:
        return
    i = pairs["i"].to_numpy()
    first = np.maximum(start[i], pairs["start"].to_numpy(dtype="datetime64[D]"))
    last = np.minimum(end[i], pairs["end"].to_numpy(dtype="datetime64[D]") - np.timedelta64(1, "D"))
    np.subtract.at(current_days, i, _days(first, np.minimum(last, year_end[i])))
    np.subtract.at(earlier_days, i, _days(np.maximum(first, year_end[i] + np.timedelta64(1, "D")), last))


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
