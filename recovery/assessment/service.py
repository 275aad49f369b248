"""The assessment tables: a month's (or quarter's) scores per officer, grid or agent, and the year's."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from recovery import policy
from recovery.assessment import measures, scoring
from recovery.assessment.models import ClosedAssessment
from recovery.audit import service as audit
from recovery.disputes import complaints
from recovery.errors import Invalid
from recovery.timeutil import check_month, month_bounds, now

KINDS = ("officers", "grids", "agents", "distributors")
# Years the data can hold (a month 0001-01 would reach before the calendar's start).
def period_table(session: Session, kind: str, start: dt.date, end: dt.date,
                 sources: measures.CustomerSources | None = None) -> pd.DataFrame:
    """Scores of every officer, grid or agent over [start, end]: the measures, their points, the score
    (out of 100) and the pay factor; index `key` (username, grid code or agent code). `sources`: the
    ledger already read for the year (see yearly)."""
    if kind not in KINDS:
        raise Invalid(f"kind is one of {', '.join(KINDS)}", code="bad_kind")
    rule = policy.section("assessment")
    if kind in ("agents", "distributors"):
        measure = measures.agent_measures if kind == "agents" else measures.distributor_measures
        frame = measure(session, start, end, rule["remit_days"])
        # `volume` is measured per month, like its target, so a quarter is held to the same rule.
        out = scoring.score_parts(frame, rule[kind], rule["parts"])
    else:
        customers = measures.customer_frame(session, start, end, sources)
        default = float(rule["officers"]["recovery"]["target"])
        overrides = {g: float(t) for g, t in rule["grid_targets"].items()}
        if kind == "grids":
            frame = measures.grid_measures(session, start, end, customers)
            frame["recovery_target"] = [overrides.get(g, default) for g in frame.index]
        else:
            grids = customers["grid"].drop_duplicates()
            targets = pd.Series([overrides.get(g, default) for g in grids], index=grids.to_numpy(), dtype="float64")
            frame = measures.officer_measures(session, start, end, customers, targets)
            if "recovery_target" not in frame:
                frame["recovery_target"] = default
            frame["recovery_target"] = frame["recovery_target"].astype("float64").fillna(default)
        out = scoring.score(frame, rule["officers"], {"recovery": frame["recovery_target"]})
        if kind == "officers":  # complaints upheld against an officer, or answered late, cost points
            out = complaints.deduct(session, out, start, end)
    out["pay_factor"] = scoring.pay_factor(out["score"], rule["pay"])
    return out.sort_index()


def monthly(session: Session, kind: str, month: str) -> pd.DataFrame:
    """The month's table (see period_table): as it was closed, for a closed month; else computed now."""
    stored = session.get(ClosedAssessment, (check_month(month), kind))
    if stored is not None:
        return _from_json(stored.table_json)
    start, end = month_bounds(month)
    return period_table(session, kind, start, end)


def _to_json(table: pd.DataFrame) -> str:
    # Table-oriented JSON keeps the index and the dtypes; 15 digits keep every rounded score as it was.
    return table.to_json(orient="table", double_precision=15, force_ascii=False)


def _from_json(text: str) -> pd.DataFrame:
    table = pd.read_json(io.StringIO(text), orient="table")
    table.index.name = "key"
    return table


def close_month(session: Session, month: str, *, by: str) -> dict:
    """Close the month: compute each kind's table once and keep it (the figures the pay factor is reckoned
    on; the page reads them from now on). Closing again recomputes and replaces them. Audited."""
    start, end = month_bounds(check_month(month))
    counts = {}
    for kind in KINDS:
        table = period_table(session, kind, start, end)
        row = session.get(ClosedAssessment, (month, kind))
        if row is None:
            row = ClosedAssessment(month=month, kind=kind)
            session.add(row)
        row.table_json, row.closed_by, row.closed_at = _to_json(table), by, now()
        counts[kind] = len(table)
    audit.record(session, "assessment.close", "assessment_month", month, actor=by, **counts)
    return {"month": month, **counts}


def closed(session: Session, month: str) -> ClosedAssessment | None:
    """Who closed the month and when (one of its kinds' rows), or None while it is open."""
    return session.scalar(select(ClosedAssessment).where(ClosedAssessment.month == month).limit(1))


def nightly_close(session: Session, day: dt.date) -> dict:
    """Job assessment.close: on or after [assessment] close_day of a month, close the month before it once
    (late statements and payments of its last days are in by then); later days find it closed."""
    first = day.replace(day=1)
    previous = (first - dt.timedelta(days=1)).strftime("%Y-%m")
    if day.day < policy.section("assessment")["close_day"]:
        return {"month": previous, "closed": False, "reason": "before the close day"}
    if closed(session, previous) is not None:
        return {"month": previous, "closed": False, "reason": "closed already"}
    return {**close_month(session, previous, by="job:assessment.close"), "closed": True}


def yearly(session: Session, kind: str, month: str) -> pd.DataFrame:
    """The year to `month`: per key the mean monthly score, the mean quarterly score, the yearly score
    (the policy's blend, default 70 % monthly and 30 % quarterly) and its pay factor."""
    rule = policy.section("assessment")
    year, last = (int(p) for p in check_month(month).split("-"))
    monthly_rows, quarterly_rows = [], []
    # The ledger is read once, up to the last quarter's end; each month and quarter filters it.
    sources = (None if kind in ("agents", "distributors") else
               measures.read_customer_sources(session, measures.quarter_bounds(f"{year}-{last:02d}")[1]))
    for m in range(1, last + 1):
        t = period_table(session, kind, *month_bounds(f"{year}-{m:02d}"), sources)
        monthly_rows.append(pd.DataFrame({"key": t.index, "score": t["score"].to_numpy(), "name": t["name"]
                                          .to_numpy()}))
    for q_first in range(1, last + 1, 3):
        start, end = measures.quarter_bounds(f"{year}-{q_first:02d}")
        t = period_table(session, kind, start, end, sources)
        quarterly_rows.append(pd.DataFrame({"key": t.index, "score": t["score"].to_numpy()}))
    m_all, q_all = pd.concat(monthly_rows, ignore_index=True), pd.concat(quarterly_rows, ignore_index=True)
    out = pd.DataFrame({"name": m_all.groupby("key")["name"].first(),
                        "monthly_mean": m_all.groupby("key")["score"].mean().round(2),
                        "quarterly_mean": q_all.groupby("key")["score"].mean().round(2)})
    out["yearly_score"] = scoring.yearly(m_all, q_all, rule["monthly_weight"], rule["quarterly_weight"])
    out["pay_factor"] = scoring.pay_factor(out["yearly_score"], rule["pay"])
    out.index.name = "key"
    return out.sort_index()
