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

The engine (`compute`) is a pure function of frames; `rate` loads them in one query per table,
compares with each customer's previous rating and stores a history row only where grade, points
or flags changed (plus the first rating). Rerunning a day replaces that day's rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pandas as pd
from flask import current_app
from sqlalchemy import BigInteger, String, and_, cast, delete, func, select, true, type_coerce
from sqlalchemy.orm import Session

from recovery import bulk, policy
from recovery.billing.models import Bill
from recovery.credit.models import CreditOverride, CreditRating
from recovery.credit.rating.policy import RatingPolicy
from recovery.customers.models import Customer
from recovery.events.models import Event
from recovery.ledger.models import Allocation
from recovery.timeutil import now, start_of_day, today

RATING_COLUMNS = ["points", "points_grade", "grade", "cash_only", "upgrade_blocked"]


def rating_policy() -> RatingPolicy:
    """The [rating] section in force."""
    return RatingPolicy.of(policy.section("rating"))


# ---------------------------------------------------------------------------------------------- the engine


@dataclasses.dataclass(frozen=True)
class RatingInputs:
    """What the engine reads.

    customers: customer_id (index or column), opened_on (datetime64)
    bills: bill_id, customer_id, amount_fen, due_on (datetime64); bills issued by the rating day
    paid: bill_id, paid_fen, last_paid_on (datetime64, business date of the last allocation), up to the day
    events: customer_id, kind, occurred_on (datetime64)
    previous: customer_id -> grade, points, points_grade, cash_only, upgrade_blocked (the rating in force
        before the day; customers absent were never rated)
    """

    customers: pd.DataFrame
    bills: pd.DataFrame
    paid: pd.DataFrame
    events: pd.DataFrame
    previous: pd.DataFrame


@dataclasses.dataclass(frozen=True)
class RatingResult:
    ratings: pd.DataFrame  # index customer_id; RATING_COLUMNS
    demerits: pd.DataFrame  # customer_id, kind, on, points, expires_on, bill_id, days_late (in effect)
    rules: pd.DataFrame  # customer_id, rule, grade, event_on, until, months


def _minus_months(day: pd.Timestamp, months: int) -> pd.Timestamp:
    return day - pd.DateOffset(months=months)


def _plus_months(dates: pd.Series, months: pd.Series) -> pd.Series:
    """dates + months, vectorised per distinct number of months (there are only a few)."""
    out = pd.Series(pd.NaT, index=dates.index, dtype="datetime64[ns]")
    for m in months.unique():
        mask = months == m
        out[mask] = dates[mask] + pd.DateOffset(months=int(m))
    return out


def _demerits(inputs: RatingInputs, day: pd.Timestamp, p: RatingPolicy) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every demerit event up to the day (late payments and missed bills derived from bills), and the bills
    with their settlement day (for the arrears rule)."""
    bills = inputs.bills.loc[inputs.bills["amount_fen"] > 0, ["bill_id", "customer_id", "amount_fen", "due_on"]]
    bills = bills.merge(inputs.paid, on="bill_id", how="left")
    full = bills["paid_fen"].fillna(0) >= bills["amount_fen"]
    bills["settled_on"] = bills["last_paid_on"].where(full)
    missed_on = bills["due_on"] + pd.Timedelta(days=p.missed_after_days)
    missed = (missed_on <= day) & (bills["settled_on"].isna() | (bills["settled_on"] > missed_on))
    late_days = (bills["settled_on"] - bills["due_on"]).dt.days
    late = ~missed & (late_days > 0)

    frames = []
    points, life = p.demerits["missed_bill"]
    m = bills.loc[missed]
    # A missed bill counts while it stays unpaid, and for its lifetime after it is paid.
    frames.append(pd.DataFrame({"customer_id": m["customer_id"], "kind": "missed_bill", "on": missed_on[missed],
                                "points": points, "lifetime": life, "bill_id": m["bill_id"], "days_late": pd.NA,
                                "counts_from": m["settled_on"]}))
    if p.late_bands:
        lows = np.array([d for d, _ in p.late_bands])
        pts = np.array([q for _, q in p.late_bands])
        lt = bills.loc[late]
        days = late_days[late].astype("int64")
        band = np.searchsorted(lows, days.to_numpy(), side="right") - 1
        keep = band >= 0
        frames.append(pd.DataFrame({
            "customer_id": lt["customer_id"].to_numpy()[keep], "kind": "late_payment",
            "on": lt["settled_on"].to_numpy()[keep], "points": pts[band[keep]], "lifetime": p.late_lifetime_months,
            "bill_id": lt["bill_id"].to_numpy()[keep], "days_late": days.to_numpy()[keep]}))
    ev = inputs.events.loc[inputs.events["kind"].isin(list(p.demerits)) & (inputs.events["occurred_on"] <= day)]
    if not ev.empty:
        cost = ev["kind"].map({k: v[0] for k, v in p.demerits.items()})
        life = ev["kind"].map({k: v[1] for k, v in p.demerits.items()})
        frames.append(pd.DataFrame({"customer_id": ev["customer_id"], "kind": ev["kind"], "on": ev["occurred_on"],
                                    "points": cost, "lifetime": life, "bill_id": pd.NA, "days_late": pd.NA}))
    frames = [f for f in frames if not f.empty]
    if frames:
        demerits = pd.concat(frames, ignore_index=True)
    else:
        demerits = pd.DataFrame({"customer_id": pd.Series(dtype="int64"), "kind": pd.Series(dtype=object),
                                 "on": pd.Series(dtype="datetime64[ns]"), "points": pd.Series(dtype="int64"),
                                 "lifetime": pd.Series(dtype="int64"), "bill_id": pd.Series(dtype=object),
                                 "days_late": pd.Series(dtype=object)})
    demerits["on"] = pd.to_datetime(demerits["on"])
    demerits["points"] = demerits["points"].astype("int64")
    demerits["lifetime"] = demerits["lifetime"].astype("int64")
    if "counts_from" not in demerits:
        demerits["counts_from"] = pd.NaT
    base = demerits["on"].where(demerits["kind"] != "missed_bill", pd.to_datetime(demerits["counts_from"]))
    demerits["expires_on"] = _plus_months(base, demerits["lifetime"])  # NaT: an unpaid missed bill, no expiry yet
    return demerits.drop(columns="counts_from"), bills


def _arrears_months(bills: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """Per customer: months of the day's calendar year that ended (the current month: stand on the day) with
    a bill past due and not fully paid."""
    year_start = pd.Timestamp(day.year, 1, 1)
    checks = pd.date_range(year_start, day, freq="ME")
    checks = checks[checks < day].append(pd.DatetimeIndex([day])).to_numpy()
    open_ = bills.loc[(bills["due_on"] < day) & (bills["settled_on"].isna() | (bills["settled_on"] > year_start))]
    if open_.empty:
        return pd.Series(dtype="int64")
    due = open_["due_on"].to_numpy()[:, None]
    settled = open_["settled_on"].fillna(pd.Timestamp.max).to_numpy()[:, None]
    overdue = (due < checks[None, :]) & (settled > checks[None, :])
    per = pd.DataFrame(overdue).groupby(open_["customer_id"].to_numpy()).any()
    return per.sum(axis=1).astype("int64")


def compute(inputs: RatingInputs, day: dt.date, p: RatingPolicy) -> RatingResult:
    """Rate every customer of `inputs.customers` as of the close of `day`."""
    d = pd.Timestamp(day)
    customers = inputs.customers.set_index("customer_id") if "customer_id" in inputs.customers else inputs.customers
    ids = customers.index
    demerits, bills = _demerits(inputs, d, p)
    demerits = demerits.loc[demerits["customer_id"].isin(ids)]
    in_effect = demerits.loc[(demerits["on"] <= d) & (demerits["expires_on"].isna() | (demerits["expires_on"] > d))]

    new = (_plus_months(customers["opened_on"], pd.Series(p.new_customer_months, index=ids)) > d) \
        if p.new_customer_months else pd.Series(False, index=ids)
    start = np.where(new.to_numpy(), p.new_customer_start, p.start)
    lost = in_effect.groupby("customer_id")["points"].sum().reindex(ids, fill_value=0).to_numpy()
    points = np.clip(start - lost, p.scale_min, p.scale_max).astype("int64")

    grades = np.array(p.grades, dtype=object)
    mins = np.array([b.min_points for b in p.bands])
    rank_of = {g: i for i, g in enumerate(p.grades)}
    # Bands are best first with descending minimums: the first band whose minimum the points reach.
    rank = np.minimum((points[:, None] < mins[None, :]).sum(axis=1), len(mins) - 1)
    points_rank = rank.copy()

    hits = []
    blocked = np.zeros(len(ids), dtype=bool)
    for rule in p.rules:
        since = _minus_months(d, rule.within_months)
        ev = demerits.loc[(demerits["kind"] == rule.event) & (demerits["on"] > since) & (demerits["on"] <= d)]
        last = ev.groupby("customer_id")["on"].max()
        if last.empty:
            continue
        hit = ids.isin(last.index)
        if rule.cap is not None:
            rank = np.where(hit, np.maximum(rank, rank_of[rule.cap]), rank)
        if rule.block_upgrade:
            blocked |= hit
        hits.append(pd.DataFrame({
            "customer_id": last.index, "rule": f"{rule.event}_within_{rule.within_months}m",
            "grade": rule.cap, "event_on": last.to_numpy(),
            "until": _plus_months(last.reset_index(drop=True), pd.Series(rule.within_months, index=range(len(last))))
            .to_numpy(),
            "block_upgrade": rule.block_upgrade, "months": pd.NA}))
    if p.arrears_block_months:
        months = _arrears_months(bills.loc[bills["customer_id"].isin(ids)], d)
        months = months.loc[months >= p.arrears_block_months]
        if not months.empty:
            blocked |= ids.isin(months.index)
            hits.append(pd.DataFrame({"customer_id": months.index, "rule": "arrears_months_this_year",
                                      "grade": None, "event_on": pd.NaT, "until": pd.Timestamp(d.year, 12, 31),
                                      "block_upgrade": True, "months": months.to_numpy()}))
    # An upgrade block holds the grade at or below the previous rating (customers rated before only).
    prev = inputs.previous.reindex(ids)["grade"].map(rank_of)
    has_prev = prev.notna().to_numpy()
    rank = np.where(blocked & has_prev, np.maximum(rank, prev.fillna(0).to_numpy().astype("int64")), rank)

    returns = demerits.loc[(demerits["kind"] == "returned_payment")
                           & (demerits["on"] > _minus_months(d, p.cash_only_window_months)) & (demerits["on"] <= d)]
    returned = returns.groupby("customer_id").size().reindex(ids, fill_value=0).to_numpy()
    cash_only = returned >= p.cash_only_returns
    if cash_only.any():
        hits.append(pd.DataFrame({"customer_id": ids[cash_only], "rule": "cash_only", "grade": None,
                                  "event_on": pd.NaT, "until": pd.NaT, "block_upgrade": False,
                                  "months": returned[cash_only]}))
    ratings = pd.DataFrame({"points": points, "points_grade": grades[points_rank], "grade": grades[rank],
                            "cash_only": cash_only, "upgrade_blocked": blocked}, index=ids)
    ratings["start"] = start
    rules = pd.concat(hits, ignore_index=True) if hits else pd.DataFrame(
        columns=["customer_id", "rule", "grade", "event_on", "until", "block_upgrade", "months"])
    return RatingResult(ratings=ratings, demerits=in_effect.drop(columns="lifetime"), rules=rules)


def _iso(values: pd.Series) -> list[str | None]:
    """Dates as ISO text, vectorised; NaT as None."""
    text = np.datetime_as_string(pd.to_datetime(values).to_numpy(dtype="datetime64[D]"), unit="D")
    return [None if t == "NaT" else t for t in text.tolist()]


def _ints(values: pd.Series) -> list[int | None]:
    return [None if v is None else int(v) for v in pd.Series(values, dtype="Int64").astype(object)
            .where(lambda x: x.notna(), None).tolist()]


def reasons(result: RatingResult, customer_ids: pd.Index) -> pd.Series:
    """The reasons behind each listed customer's rating, as JSON text (only for rows being stored)."""
    wanted = set(customer_ids.tolist())
    dem = result.demerits.loc[result.demerits["customer_id"].isin(wanted)].sort_values(["customer_id", "on"])
    rules = result.rules.loc[result.rules["customer_id"].isin(wanted)]
    by_dem: dict[int, list] = {}
    for c, kind, on, pts, exp, bill, late in zip(dem["customer_id"].tolist(), dem["kind"].tolist(), _iso(dem["on"]),
                                                 dem["points"].tolist(), _iso(dem["expires_on"]),
                                                 _ints(dem["bill_id"]), _ints(dem["days_late"]), strict=True):
        item = {"kind": kind, "on": on, "points": -int(pts), "expires_on": exp}
        if late is not None:
            item["days_late"] = late
        if bill is not None:
            item["bill"] = bill
        by_dem.setdefault(int(c), []).append(item)
    by_rule: dict[int, list] = {}
    for c, rule, cap, block, event_on, until, count in zip(
            rules["customer_id"].tolist(), rules["rule"].tolist(), rules["grade"].tolist(),
            rules["block_upgrade"].tolist(), _iso(rules["event_on"]), _iso(rules["until"]), _ints(rules["months"]),
            strict=True):
        item = {"rule": rule}
        if isinstance(cap, str):
            item["cap"] = cap
        if block:
            item["blocks_upgrade"] = True
        if event_on is not None:
            item["event_on"] = event_on
        if until is not None:
            item["until"] = until
        if count is not None:
            item["count"] = count
        by_rule.setdefault(int(c), []).append(item)
    start = result.ratings["start"].reindex(customer_ids).tolist()
    return pd.Series([json.dumps({"start": int(s), "demerits": by_dem.get(int(c), []),
                                  "rules": by_rule.get(int(c), [])}, ensure_ascii=False)
                      for c, s in zip(customer_ids.tolist(), start, strict=True)], index=customer_ids, dtype=object)


# ---------------------------------------------------------------------------------------------- the service


def _tz() -> str:
    return current_app.config["RECOVERY_TZ"]


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
