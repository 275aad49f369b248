"""Line loss (线损) per transformer area and per feeder line, month by month, and which of them are flagged.

loss rate = (kWh delivered into the area by its meter - kWh billed to its customers for the month) / delivered,
as a decimal string with four places, rounded half up (ROUND_HALF_UP: 0.12345 -> "0.1235"), computed in exact
decimals from the kWh figures. Billed kWh are the month's metered bills: split-settlement interim bills (the
month-end bill carries the month's whole energy) and the back-billing and penalty bills of a confirmed theft
(energy of earlier months, not this month's) are left out. A month with no reading has no rate, and neither has
one whose meter read 0 (a rate over nothing delivered means nothing; the page and the JSON show it as null).

A line is the sum of its areas that have a reading that month. Flags compare the rates as shown (four places):
`above_threshold` when the rate is above the policy threshold, `above_history` when it is above the median of the
area's (line's) own rates over the previous `history_months` by more than `history_points` (given at least
`history_min_months` of them); either flags it. `negative` marks more billed than delivered (a meter or a data
fault to look into), which is no flag for theft.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
from sqlalchemy import Select, func, select, union_all
from sqlalchemy.orm import Session

from recovery import bulk
from recovery.billing.models import Bill
from recovery.credit.models import InterimBill
from recovery.customers.models import Customer
from recovery.loss.models import Area, AreaReading, Inspection
from recovery.loss.policy import LossPolicy

FOUR = Decimal("0.0001")


def shift(period: str, months: int) -> str:
    """'2026-03' shifted by `months` (negative: back)."""
    year, month = int(period[:4]), int(period[5:7])
    index = year * 12 + month - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def periods_back(period: str, count: int) -> list[str]:
    """The `count` periods ending with `period`, oldest first."""
    return [shift(period, k) for k in range(1 - count, 1)]


def not_metered():
    """Ids of bills that are no month's metered consumption: interim bills, theft back-billing and penalties."""
    return union_all(
        select(InterimBill.bill_id),
        select(Inspection.backbill_bill_id).where(Inspection.backbill_bill_id.is_not(None)),
        select(Inspection.penalty_bill_id).where(Inspection.penalty_bill_id.is_not(None)),
    )


def area_months(session: Session, first: str, last: str, area_id: int | None = None,
                billed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every area's (or one area's) delivered and billed kWh for each period from `first` to `last` that has
    either: columns area_id, period, kwh_delivered (NaN without a reading), kwh_billed (0 without bills).
    `billed`: the billed kWh per area and period already summed (area_id, period, kwh_billed) from the same bills."""
    session.flush()  # Core reads below: pending ORM changes first
    one_bill = [Customer.area_id == area_id] if area_id is not None else []
    one_reading = [AreaReading.area_id == area_id] if area_id is not None else []
    if billed is None:
        billed = bulk.read_frame(session, select(
            Customer.area_id, Bill.period, func.sum(Bill.kwh).label("kwh_billed"),
        ).join(Customer, Customer.id == Bill.customer_id).where(
            Customer.area_id.is_not(None), Bill.period >= first, Bill.period <= last, Bill.id.not_in(not_metered()),
            *one_bill,
        ).group_by(Customer.area_id, Bill.period), ["area_id", "period", "kwh_billed"])
    delivered = bulk.read_frame(session, select(AreaReading.area_id, AreaReading.period, AreaReading.kwh_delivered)
                                .where(AreaReading.period >= first, AreaReading.period <= last, *one_reading),
                                ["area_id", "period", "kwh_delivered"])
    frame = delivered.merge(billed, on=["area_id", "period"], how="outer")
    frame = frame.astype({"area_id": "int64", "kwh_delivered": "float64", "kwh_billed": "float64"})
    frame["kwh_billed"] = frame["kwh_billed"].fillna(0.0)
    return frame


def exact(kwh: float) -> Decimal:
    """A kWh figure as an exact decimal: inputs carry at most six decimals, so a sum's float error goes too."""
    return Decimal(f"{kwh:.6f}")


def loss_rate(delivered: float | None, billed: float) -> Decimal | None:
    """(delivered - billed) / delivered to four places, half up; None without a reading or when it read 0."""
    if delivered is None or np.isnan(delivered) or delivered <= 0:
        return None
    d = exact(delivered)
    return ((d - exact(billed)) / d).quantize(FOUR, rounding=ROUND_HALF_UP)


def median(values: list[Decimal]) -> Decimal:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return ((ordered[middle - 1] + ordered[middle]) / 2).quantize(FOUR, rounding=ROUND_HALF_UP)


def judge(rate: Decimal | None, history: list[Decimal], threshold: Decimal, p: LossPolicy) -> dict:
    """The flags of one month's rate against the threshold and against its own history."""
    usual = median(history) if len(history) >= p.history_min_months else None
    flags = []
    if rate is not None and rate > threshold:
        flags.append("above_threshold")
    if rate is not None and usual is not None and rate - usual > p.history_points:
        flags.append("above_history")
    flagged = bool(flags)
    if rate is not None and rate < 0:
        flags.append("negative")
    return {"flagged": flagged, "flags": flags, "history_median": None if usual is None else str(usual)}


def _kwh(value: float | None) -> int | float | None:
    """A kWh figure for JSON: whole numbers as integers, others to six decimals, none as null."""
    if value is None or np.isnan(value):
        return None
    rounded = round(float(value), 6)
    return int(rounded) if rounded == int(rounded) else rounded


def _rates(frame: pd.DataFrame, key: str) -> dict[tuple, Decimal | None]:
    return {(k, per): loss_rate(d, b) for k, per, d, b in
            frame[[key, "period", "kwh_delivered", "kwh_billed"]].itertuples(index=False, name=None)}


def _history(rates: dict, key, periods: list[str]) -> list[Decimal]:
    return [r for per in periods if (r := rates.get((key, per))) is not None]


def _judged_areas(months: pd.DataFrame, areas: pd.DataFrame, period: str, p: LossPolicy) -> list[dict]:
    """Each area of `areas` in the month, judged against the policy and its own history in `months`."""
    area_rates = _rates(months, "area_id")
    history_periods = periods_back(shift(period, -1), p.history_months)
    current = months.loc[months["period"] == period].set_index("area_id")
    out_areas = []
    for area_id, code, line in areas.itertuples(index=False, name=None):
        row = current.loc[area_id] if area_id in current.index else None
        delivered = None if row is None else row["kwh_delivered"]
        billed = 0.0 if row is None else row["kwh_billed"]
        rate = area_rates.get((area_id, period))
        out_areas.append({"area": code, "line": line, "kwh_delivered": _kwh(delivered), "kwh_billed": _kwh(billed),
                          "loss_rate": None if rate is None else str(rate),
                          **judge(rate, _history(area_rates, area_id, history_periods), p.threshold, p)})
    return out_areas


def _areas(session: Session, *where) -> pd.DataFrame:
    return bulk.read_frame(session, select(Area.id, Area.code, Area.line).where(*where).order_by(Area.code),
                           ["area_id", "area", "line"])


def _history_months(session: Session, period: str, p: LossPolicy, months: pd.DataFrame | None) -> pd.DataFrame:
    first = shift(period, -p.history_months)
    return area_months(session, first, period) if months is None else months.loc[months["period"] >= first]


def report(session: Session, period: str, p: LossPolicy, months: pd.DataFrame | None = None) -> dict:
    """The month's loss of every area and every line, flagged against the policy and their own history:
    {"period", "areas": [{area, line, kwh_delivered, kwh_billed, loss_rate, flagged, flags, history_median}],
     "lines": [{line, areas, kwh_delivered, kwh_billed, loss_rate, flagged, flags, history_median}]}.
    One row per area or line and month: the loops below run over areas, not customers. `months`: area_months()
    already read over at least the history months."""
    months = _history_months(session, period, p, months)
    areas = _areas(session)
    months = months.merge(areas[["area_id", "line"]], on="area_id", how="left")
    out_areas = _judged_areas(months, areas, period, p)

    metered = months.loc[months["kwh_delivered"].notna() & months["line"].notna()]
    lines = metered.groupby(["line", "period"], as_index=False).agg(
        kwh_delivered=("kwh_delivered", "sum"), kwh_billed=("kwh_billed", "sum"), areas=("area_id", "size"))
    line_rates = _rates(lines, "line")
    history_periods = periods_back(shift(period, -1), p.history_months)
    out_lines = []
    for line, row in lines.loc[lines["period"] == period].set_index("line").sort_index().iterrows():
        rate = line_rates.get((line, period))
        out_lines.append({"line": line, "areas": int(row["areas"]), "kwh_delivered": _kwh(row["kwh_delivered"]),
                          "kwh_billed": _kwh(row["kwh_billed"]), "loss_rate": None if rate is None else str(rate),
                          **judge(rate, _history(line_rates, line, history_periods), p.line_threshold, p)})
    return {"period": period, "areas": out_areas, "lines": out_lines}


def areas_among(session: Session, period: str, p: LossPolicy, area_ids: Select,
                months: pd.DataFrame | None = None) -> list[dict]:
    """The month's rows of `report` for the areas `area_ids` selects, judged the same way: a page that shows a
    user's own areas reads and judges those, not every area of the utility."""
    areas = _areas(session, Area.id.in_(area_ids))
    months = _history_months(session, period, p, months)
    return _judged_areas(months.loc[months["area_id"].isin(areas["area_id"])], areas, period, p)


def flagged_areas(session: Session, period: str, p: LossPolicy) -> set[str]:
    """Codes of the areas flagged for the month."""
    return {a["area"] for a in report(session, period, p)["areas"] if a["flagged"]}


def area_history(session: Session, area: Area, period: str, months: int) -> list[dict]:
    """One area's months up to `period`: period, kwh_delivered, kwh_billed, loss_rate (Decimal or None)."""
    frame = area_months(session, shift(period, 1 - months), period, area.id).set_index("period")
    rows = []
    for per in periods_back(period, months):
        delivered = frame["kwh_delivered"].get(per, np.nan)
        billed = frame["kwh_billed"].get(per, 0.0)
        rows.append({"period": per, "kwh_delivered": _kwh(delivered), "kwh_billed": _kwh(billed),
                     "loss_rate": loss_rate(delivered, billed)})
    return rows


def latest_period(session: Session) -> str | None:
    """The latest month with an area reading."""
    return session.scalar(select(func.max(AreaReading.period)))
