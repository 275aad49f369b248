"""Reads for the loss pages: an area, a customer by code, the area chart and the dashboard's line-loss figure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pandas as pd
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recovery import bulk
from recovery.auth.models import User
from recovery.auth.service import visible_customers
from recovery.customers.models import Customer
from recovery.loss import rates
from recovery.loss.models import Area, AreaMonth
from recovery.loss.policy import LossPolicy
from recovery.reports import dashboard as charts

DASHBOARD_AREAS = 5
DASHBOARD_MONTHS = 12
# A loss axis: percentages, starting below 0 when a month billed more than it delivered.
LOSS_AXIS = {"unit": "percent", "divisor": 1, "name": "%", "min": None}


def area_by_code(session: Session, code: str) -> Area | None:
    return session.scalar(select(Area).where(Area.code == code))


def customers_in_area(session: Session, area: Area) -> int:
    return session.scalar(select(func.count()).select_from(Customer).where(Customer.area_id == area.id)) or 0


def _percent_value(rate: Decimal | None) -> float | None:
    return None if rate is None else round(float(rate) * 100, 2)


def area_chart(code: str, history: list[dict], threshold: Decimal, percent: Callable) -> dict:
    """The area's loss rate per month and the policy threshold, for /static/charts.js."""
    months = [dt.date.fromisoformat(f"{h['period']}-01") for h in history]
    limit = round(float(threshold) * 100, 2)
    return charts.spec("line", [charts.month_label(m) for m in months], [
        charts.series(_("Loss rate"), [_percent_value(h["loss_rate"]) for h in history],
                      [percent(h["loss_rate"]) for h in history]),
        charts.series(_("Threshold"), [limit] * len(history), [f"{limit:.2f}%"] * len(history), colour="#D55E00"),
    ], LOSS_AXIS, title=_("Line loss of area %(area)s", area=code))


def _kept_months(session: Session, areas) -> tuple[str | None, dt.datetime | None, pd.DataFrame | None]:
    """The area months the latest screening kept, of the `areas` (a select of area ids): (latest period, when,
    frame as rates.area_months gives it)."""
    period, at = session.execute(select(func.max(AreaMonth.period), func.max(AreaMonth.computed_at))).one()
    if period is None:
        return None, None, None
    frame = bulk.read_frame(session, select(AreaMonth.area_id, AreaMonth.period, AreaMonth.kwh_delivered,
                                            AreaMonth.kwh_billed).where(AreaMonth.period >= rates.shift(period, -12),
                                                                        AreaMonth.area_id.in_(areas)),
                            ["area_id", "period", "kwh_delivered", "kwh_billed"])
    return period, at, frame.astype({"area_id": "int64", "kwh_delivered": "float64", "kwh_billed": "float64"})


def dashboard_figure(session: Session, user: User, p: LossPolicy, percent: Callable) -> dict | None:
    """The month's flagged areas among the user's (areas with a customer the user sees), at most five, highest
    loss first, with their loss rate over the last 12 months. None when no area has readings.

    Over more customers with an area than the dashboard computes live (config DASHBOARD_LIVE_LIMIT, as its other
    figures), the figures are those the latest screening kept (`as_of` says when), not every bill summed again."""
    with_area = session.scalar(select(func.count()).select_from(Customer).where(Customer.area_id.is_not(None)))
    mine = select(Customer.area_id).where(Customer.id.in_(visible_customers(user)),
                                          Customer.area_id.is_not(None)).distinct()
    as_of, months_frame = None, None
    if with_area > current_app.config.get("DASHBOARD_LIVE_LIMIT", charts.LIVE_LIMIT):
        period, as_of, months_frame = _kept_months(session, mine)
        if period is None:
            return {"period": None, "flagged": 0, "months": [], "rows": [], "as_of": None, "chart": None}
    else:
        period = rates.latest_period(session)
    if period is None:
        return None
    own = dict(session.execute(select(Area.code, Area.id).where(Area.id.in_(mine))).all())
    flagged = [a for a in rates.areas_among(session, period, p, mine, months=months_frame) if a["flagged"]]
    flagged.sort(key=lambda a: (-float(a["loss_rate"] or 0), a["area"]))
    months = rates.periods_back(period, DASHBOARD_MONTHS)
    frame = rates.area_months(session, months[0], period) if months_frame is None else months_frame
    lines, rows = [], []
    for a in flagged[:DASHBOARD_AREAS]:
        of_area = frame.loc[frame["area_id"] == own[a["area"]]].set_index("period")
        found = [rates.loss_rate(of_area["kwh_delivered"].get(m), of_area["kwh_billed"].get(m, 0.0))
                 if m in of_area.index else None for m in months]
        lines.append(charts.series(a["area"], [_percent_value(r) for r in found], [percent(r) for r in found]))
        rows.append({"area": a["area"], "rates": found})
    labels = [charts.month_label(dt.date.fromisoformat(f"{m}-01")) for m in months]
    return {"period": period, "flagged": len(flagged), "months": months, "rows": rows, "as_of": as_of,
            "chart": charts.spec("line", labels, lines, LOSS_AXIS, title=_("Line loss of the high-loss areas"))}
