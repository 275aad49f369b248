"""The monthly suspect list: one bulk read of the customers with an area and their metered kWh, the engine
(recovery.loss.screening), the list stored for the pages and written as the contract's CSV.

    customer_id,score,reasons
    C0001234,76.5,drop_vs_history;high_loss_area;loss_rise_at_drop;drop_vs_peers

Every customer with an area is in the CSV, most suspect first (ties by customer id); a score is the sum of the
points of its reasons, with one decimal. The stored list (`loss_suspects`) keeps the customers who scored at all,
with their rank; screening a month again replaces it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from recovery import bulk
from recovery.audit import service as audit
from recovery.billing.models import Bill
from recovery.customers.models import Customer
from recovery.events.models import Event, EventKind
from recovery.loss import rates
from recovery.loss.models import Area, AreaMonth, Suspect
from recovery.loss.policy import LossPolicy, loss_policy
from recovery.loss.screening import BASE_MONTHS, ScreeningInput, format_score, screen
from recovery.timeutil import now

HEADER = ["customer_id", "score", "reasons"]


def _month_end(period: str) -> dt.date:
    start = dt.date(int(period[:4]), int(period[5:7]), 1)
    return (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


def window(p: LossPolicy) -> int:
    """How many months of bills the engine reads: a year and the recent months (a year-ago comparison), at least
    the recent months and the six before them."""
    return max(12 + p.recent_months, p.recent_months + BASE_MONTHS)


def consumption_query(period: str, months: int):
    """The metered kWh of every customer with an area, for the `months` periods ending with `period`."""
    first = rates.shift(period, 1 - months)
    return (select(Bill.customer_id, Bill.period, Bill.kwh).join(Customer, Customer.id == Bill.customer_id)
            .where(Customer.area_id.is_not(None), Bill.period >= first, Bill.period <= period,
                   Bill.id.not_in(rates.not_metered())))


def load(session: Session, period: str, p: LossPolicy) -> ScreeningInput:
    """Everything the engine needs for the month, in a few set-based reads."""
    session.flush()  # Core reads below: pending ORM changes first
    customers = bulk.read_text_frame(session, select(
        Customer.id.label("customer_id"), Customer.code, Customer.area_id, Customer.customer_class, Customer.grid_id,
    ).where(Customer.area_id.is_not(None)).order_by(Customer.id),
        {"customer_id": "int64", "code": "str", "area_id": "int64", "customer_class": "str", "grid_id": "int64"})
    months = window(p)
    periods = rates.periods_back(period, months)
    bills = bulk.read_text_frame(session, consumption_query(period, months),
                                 {"customer_id": "int64", "period": "str", "kwh": "float64"})
    ids = customers["customer_id"].to_numpy()
    row = np.searchsorted(ids, bills["customer_id"].to_numpy())
    col = pd.Categorical(bills["period"], categories=periods).codes.astype("int64")
    cells = row * months + col
    size = len(ids) * months
    kwh = np.bincount(cells, weights=bills["kwh"].to_numpy(dtype="float64"), minlength=size)
    billed = np.bincount(cells, minlength=size) > 0
    matrix = np.where(billed, kwh, np.nan).reshape(len(ids), months)

    # The areas' billed kWh are the same bills summed: no second pass over the bills table.
    billed_kwh = pd.DataFrame({"area_id": customers["area_id"].to_numpy()[row], "period": bills["period"],
                               "kwh_billed": bills["kwh"].to_numpy(dtype="float64")})
    billed_kwh = billed_kwh.groupby(["area_id", "period"], as_index=False)["kwh_billed"].sum()
    area_months = rates.area_months(session, periods[0], period, billed=billed_kwh)
    flagged = rates.report(session, period, p, months=area_months)["areas"]
    codes = {a["area"] for a in flagged if a["flagged"]}
    flagged_ids = frozenset(session.scalars(select(Area.id).where(Area.code.in_(codes))).all() if codes else ())

    end = _month_end(period)
    start = rates.shift(period, 1 - p.past_months) + "-01"
    events = bulk.read_frame(session, select(Event.customer_id, Event.kind).join(
        Customer, Customer.id == Event.customer_id).where(
        Customer.area_id.is_not(None), Event.kind.in_([EventKind.theft, EventKind.violation]),
        Event.occurred_on >= dt.date.fromisoformat(start), Event.occurred_on <= end).distinct(),
        ["customer_id", "kind"])
    theft = np.isin(ids, events.loc[events["kind"] == EventKind.theft, "customer_id"].to_numpy(dtype="int64"))
    violation = np.isin(ids, events.loc[events["kind"] == EventKind.violation, "customer_id"].to_numpy(dtype="int64"))
    return ScreeningInput(customers=customers, kwh=matrix, periods=periods, area_months=area_months,
                          flagged_areas=flagged_ids, past_theft=theft, past_violation=violation)


def compute(session: Session, period: str, p: LossPolicy) -> pd.DataFrame:
    """The month's list (see screening.screen), not stored."""
    return screen(load(session, period, p), p)


def store(session: Session, period: str, ranked: pd.DataFrame) -> int:
    """Replace the month's stored list with the customers of `ranked` who scored; returns how many."""
    session.execute(delete(Suspect).where(Suspect.period == period))
    scored = ranked.loc[ranked["score_tenths"] > 0]
    bulk.insert_frame(session, Suspect.__table__, pd.DataFrame({
        "period": period, "rank": np.arange(1, len(scored) + 1), "customer_id": scored["customer_id"].to_numpy(),
        "score_tenths": scored["score_tenths"].to_numpy(), "reasons": scored["reasons"].to_numpy(),
        "computed_at": pd.Timestamp(now())}))
    return len(scored)


def run(session: Session, period: str, p: LossPolicy) -> pd.DataFrame:
    """Screen the month, store its list and the areas' months it read (audited); return every customer's row."""
    data = load(session, period, p)
    ranked = screen(data, p)
    keep_area_months(session, data.area_months)
    stored = store(session, period, ranked)
    audit.record(session, "loss.screened", "period", period, customers=len(ranked), scored=stored,
                 top=ranked["code"].head(10).tolist())
    return ranked


def monthly(session: Session, day: dt.date) -> dict:
    """Job loss.screening: from [loss] screen_day of a month on, screen the month before and store its list,
    once (its bills and area readings are in by then); later days find it screened. `recovery loss suspects`
    screens any month again."""
    p = loss_policy()
    previous = (day.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    if day.day < p.screen_day:
        return {"period": previous, "screened": False, "reason": "before the screening day"}
    if previous in screened_periods(session):
        return {"period": previous, "screened": False, "reason": "screened already"}
    ranked = run(session, previous, p)
    return {"period": previous, "screened": True, "customers": len(ranked),
            "suspects": int((ranked["score_tenths"] > 0).sum())}


def keep_area_months(session: Session, months: pd.DataFrame) -> None:
    """Replace the kept area months of these periods with these (the dashboard reads them over many customers)."""
    periods = sorted(months["period"].unique())
    session.execute(delete(AreaMonth).where(AreaMonth.period.in_(periods)))
    bulk.insert_frame(session, AreaMonth.__table__, months[["area_id", "period", "kwh_delivered", "kwh_billed"]]
                      .assign(computed_at=pd.Timestamp(now())))


def to_csv(ranked: pd.DataFrame) -> str:
    """The contract's CSV: customer_id, score, reasons, in the list's order."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    tenths = ranked["score_tenths"].to_numpy()
    scores = pd.Series(tenths // 10).astype(str) + "." + pd.Series(tenths % 10).astype(str)
    writer.writerows(zip(ranked["code"], scores, ranked["reasons"], strict=True))
    return buf.getvalue()


def stored_page(session: Session, period: str, *, offset: int = 0, limit: int = 50) -> tuple[int, list[dict]]:
    """A page of the month's stored list: (how many scored, rows with customer, area and open inspection)."""
    from recovery.loss.models import Inspection, InspectionStatus

    total = session.scalar(select(func.count()).select_from(Suspect).where(Suspect.period == period)) or 0
    open_task = (select(Inspection.id).where(Inspection.customer_id == Suspect.customer_id,
                                             Inspection.status == InspectionStatus.open)
                 .limit(1).scalar_subquery())
    rows = session.execute(select(
        Suspect.rank, Suspect.score_tenths, Suspect.reasons, Customer.code, Customer.name, Customer.customer_class,
        Area.code.label("area"), Area.line, open_task.label("inspection_id"),
    ).join(Customer, Customer.id == Suspect.customer_id).join(Area, Area.id == Customer.area_id)
        .where(Suspect.period == period).order_by(Suspect.rank).offset(offset).limit(limit)).all()
    return total, [{**r._asdict(), "score": format_score(r.score_tenths),
                    "reasons": r.reasons.split(";") if r.reasons else []} for r in rows]


def screened_periods(session: Session) -> list[str]:
    """The months whose list is stored, latest first."""
    return list(session.scalars(select(Suspect.period).distinct().order_by(Suspect.period.desc())))


def area_rows(session: Session, period: str, area_id: int, limit: int = 20) -> list[dict]:
    """The area's customers on the month's stored list, most suspect first."""
    rows = session.execute(select(Suspect.rank, Suspect.score_tenths, Suspect.reasons, Customer.code, Customer.name)
                           .join(Customer, Customer.id == Suspect.customer_id)
                           .where(Suspect.period == period, Customer.area_id == area_id)
                           .order_by(Suspect.rank).limit(limit)).all()
    return [{**r._asdict(), "score": format_score(r.score_tenths), "reasons": r.reasons.split(";")} for r in rows]
