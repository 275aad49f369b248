"""The credit rating engine: a points model recomputed for every customer in one set-based pass.

points = the starting points (new customers start lower, at grade B by default)
         less every demerit still in effect (each event kind costs configured points for a
         configured number of months), clipped to the scale;
points_grade = the band the points fall in;
grade = points_grade after the hard rules: an event kind within a window caps the grade (theft: C for
        two years) or blocks upgrades (the grade may not rise above the previous rating), and
        months of the current year ending in arrears block upgrades;
cash_only = at least N returned payments within a window (a separate flag, not a grade).

What counts, decided where the practice is silent:
- a bill fully paid after its due date is a late payment, costing the band of its days late (the
  day of the last allocation that settled it, in business time, less the due date), dated the day
  it was settled;
- a bill still not fully paid `missed_bill_after_days` after its due date is a missed bill instead
  (one demerit per bill), dated that day; it counts as long as the bill stays unpaid and for its
  lifetime after it is paid (old unpaid debt never ages out of the rating);
- returned payments, violations, theft, disconnections and broken pay plans are events;
- a month "ends in arrears" when at its last day (for the current month: the rating day) some bill
  was past due and not fully paid.

The engine (`compute`, in recovery.credit.rating.engine) is a pure function of frames and the policy; `rate`
loads them in one query per table, compares with each customer's previous rating and stores a history row
only where grade, points or flags changed (plus the first rating). Rerunning a day replaces that day's rows.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import BigInteger, String, and_, cast, delete, func, select, true, type_coerce
from sqlalchemy.orm import Session

from recovery import bulk, policy
from recovery.billing.models import Bill
from recovery.credit.models import CreditOverride, CreditRating
from recovery.credit.rating.engine import RATING_COLUMNS, RatingInputs, RatingPolicy, compute, reasons
from recovery.customers.models import Customer
from recovery.events.models import Event
from recovery.ledger.models import Allocation
from recovery.timeutil import business_tz, now, start_of_day, today


def rating_policy() -> RatingPolicy:
    """The [rating] section in force."""
    return RatingPolicy.of(policy.section("rating"))


# ---------------------------------------------------------------------------------------------- the service


def _tz() -> str:
    return business_tz().key


def read_frame(session: Session, statement) -> pd.DataFrame:
    """Run a select and return its rows as a frame, taking the driver's tuples as they come.

    Bind parameters are processed by SQLAlchemy as usual; the result rows skip its per-row processing
    (the columns read here are integers, text and type-coerced text), which is most of the time on
    millions of rows.
    """
    result = session.connection().execute(statement)
    try:
        rows = result.cursor.fetchall()
        return pd.DataFrame.from_records(rows, columns=list(result.keys()), coerce_float=False) if rows else \
            pd.DataFrame(columns=list(result.keys()))
    finally:
        result.close()


def _scope(column, customer_ids: list[int] | None):
    return column.in_(customer_ids) if customer_ids is not None else true()


def _previous(session: Session, day: dt.date, customer_ids: list[int] | None, *, before: bool = True) -> pd.DataFrame:
    """Each customer's latest stored rating before `day` (on or before it with before=False)."""
    cut = CreditRating.rated_on < day if before else CreditRating.rated_on <= day
    latest = (select(CreditRating.customer_id, func.max(CreditRating.rated_on).label("rated_on"))
              .where(cut, _scope(CreditRating.customer_id, customer_ids))
              .group_by(CreditRating.customer_id).subquery())
    frame = read_frame(session, select(
        CreditRating.customer_id, CreditRating.points, CreditRating.points_grade, CreditRating.grade,
        CreditRating.cash_only, CreditRating.upgrade_blocked,
        type_coerce(CreditRating.rated_on, String).label("rated_on"),
    ).join(latest, and_(latest.c.customer_id == CreditRating.customer_id, latest.c.rated_on == CreditRating.rated_on)))
    frame["cash_only"] = frame["cash_only"].astype(bool)
    frame["upgrade_blocked"] = frame["upgrade_blocked"].astype(bool)
    return frame.set_index("customer_id")


def _date_text(column):
    """A date column as 'YYYY-MM-DD' text from the database itself (parsing text beats Python date objects)."""
    return cast(column, String)


def _instant_text(session: Session, column):
    """A UTC instant as 'YYYY-MM-DD HH:MM:SS.ffffff' text (SQLite stores it so already)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI:SS.US")
    return type_coerce(column, String)


def load_inputs(session: Session, day: dt.date, customer_ids: list[int] | None = None) -> RatingInputs:
    """The engine's frames as of the close of `day`: one query per table."""
    end = start_of_day(day + dt.timedelta(days=1))
    customers = read_frame(session, select(
        Customer.id.label("customer_id"), _date_text(Customer.opened_on).label("opened_on"),
    ).where(_scope(Customer.id, customer_ids)))
    bills = read_frame(session, select(
        Bill.id.label("bill_id"), Bill.customer_id, Bill.amount_fen, _date_text(Bill.due_on).label("due_on"),
    ).where(Bill.issued_on <= day, _scope(Bill.customer_id, customer_ids)))
    # Per bill what was paid by the day and when the last part was (the settling part, when it is paid in full).
    paid = read_frame(session, select(
        Allocation.bill_id, cast(func.sum(Allocation.amount_fen), BigInteger).label("paid_fen"),
        _instant_text(session, func.max(Allocation.allocated_at)).label("last_paid_at"),
    ).where(Allocation.allocated_at < end, _scope(Allocation.customer_id, customer_ids)).group_by(Allocation.bill_id))
    events = read_frame(session, select(
        Event.customer_id, Event.kind, _date_text(Event.occurred_on).label("occurred_on"),
    ).where(Event.occurred_on <= day, _scope(Event.customer_id, customer_ids)))
    customers["opened_on"] = pd.to_datetime(customers["opened_on"], format="%Y-%m-%d")
    bills["due_on"] = pd.to_datetime(bills["due_on"], format="%Y-%m-%d")
    bills["amount_fen"] = bills["amount_fen"].astype("int64")
    events["occurred_on"] = pd.to_datetime(events["occurred_on"], format="%Y-%m-%d")
    paid["paid_fen"] = paid["paid_fen"].astype("int64")
    instants = pd.to_datetime(paid.pop("last_paid_at"), utc=True, format="ISO8601")
    paid["last_paid_on"] = instants.dt.tz_convert(_tz()).dt.tz_localize(None).dt.normalize()
    return RatingInputs(customers=customers, bills=bills, paid=paid, events=events,
                        previous=_previous(session, day, customer_ids))


def rate(session: Session, day: dt.date, customer_ids: list[int] | None = None) -> dict:
    """Recompute the ratings of every customer (or those listed) as of `day` and store what changed.

    Idempotent for a day: that day's rows are replaced, and a row is stored only where the rating
    differs from the customer's previous one (or there is none).
    """
    p = rating_policy()
    inputs = load_inputs(session, day, customer_ids)
    result = compute(inputs, day, p)
    r = result.ratings
    prev = inputs.previous.reindex(r.index)
    same = pd.Series(True, index=r.index)
    for c in RATING_COLUMNS:
        same &= prev[c].to_numpy() == r[c].to_numpy()
    changed = r.index[~same.to_numpy()]
    session.execute(delete(CreditRating).where(CreditRating.rated_on == day,
                                               _scope(CreditRating.customer_id, customer_ids)))
    rows = r.loc[changed, RATING_COLUMNS].assign(
        customer_id=changed, rated_on=pd.Timestamp(day), reasons=reasons(result, changed),
        created_at=pd.Timestamp(now()))
    bulk.insert_frame(session, CreditRating.__table__, rows.reset_index(drop=True))
    counts = r["grade"].value_counts()
    return {"day": day.isoformat(), "customers": len(r), "changed": len(changed),
            "grades": {g: int(counts.get(g, 0)) for g in p.grades}, "cash_only": int(r["cash_only"].sum())}


def nightly(session: Session, day: dt.date) -> dict:
    """Job credit.ratings: every customer's rating for the day."""
    return rate(session, day)


# ---------------------------------------------------------------------------------------------- reading


def current_ratings(session: Session, customer_ids: list[int] | None = None) -> pd.DataFrame:
    """The rating in force today, indexed by customer id: grade, points, cash_only, overridden.

    An unexpired override wins over the computed grade; customers never rated get the policy's
    starting grade and points.
    """
    p = rating_policy()
    day = today()
    ids = bulk.read_frame(session, select(Customer.id.label("customer_id")).where(_scope(Customer.id, customer_ids)))
    stored = _previous(session, day, customer_ids, before=False)
    out = stored.reindex(ids["customer_id"])[["grade", "points", "cash_only"]]
    out.index.name = "customer_id"
    never = out["grade"].isna()
    out["grade"] = out["grade"].where(~never, p.starting_grade).astype(object)
    out["points"] = out["points"].where(~never, p.new_customer_start).astype("int64")
    out["cash_only"] = out["cash_only"].where(~never, False).astype(bool)
    overrides = active_overrides(session, day, customer_ids)
    hit = out.index.isin(overrides.index)
    out.loc[hit, "grade"] = overrides.reindex(out.index[hit])["grade"].to_numpy()
    out["overridden"] = hit
    return out


def active_overrides(session: Session, day: dt.date, customer_ids: list[int] | None = None) -> pd.DataFrame:
    """Overrides in force on `day`, one per customer (the latest set), indexed by customer id."""
    frame = bulk.read_frame(session, select(
        CreditOverride.id, CreditOverride.customer_id, CreditOverride.grade, CreditOverride.set_at,
    ).where(CreditOverride.starts_on <= day, CreditOverride.expires_on >= day, CreditOverride.revoked_at.is_(None),
            _scope(CreditOverride.customer_id, customer_ids)).order_by(CreditOverride.id))
    return frame.drop_duplicates("customer_id", keep="last").set_index("customer_id")


def history(session: Session, customer_id: int) -> list[CreditRating]:
    """One customer's stored ratings, oldest first."""
    return list(session.scalars(select(CreditRating).where(CreditRating.customer_id == customer_id)
                                .order_by(CreditRating.rated_on)))
