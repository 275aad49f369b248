"""The dashboard's charts: the figures (set-based SQL over what the user may see) and their geometry.

The geometry functions are pure: numbers in, a dict of SVG coordinates out, which the template draws
as inline SVG (no JavaScript, nothing from elsewhere). Each figure keeps its numbers too, for the table
that stands behind every chart as its text alternative.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import pandas as pd
from flask import current_app
from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from recovery import bulk
from recovery.auth.models import User
from recovery.auth.service import visible_customers
from recovery.billing.models import Bill
from recovery.customers.models import Customer, Grid
from recovery.ledger.positions import BUCKETS, classify, positions
from recovery.payments.models import Payment, PaymentState
from recovery.reconcile.models import BreakStatus, ReconBreak
from recovery.risk.models import RiskScore, in_latest_run
from recovery.timeutil import now, start_of_day
from recovery.web.models import GridFigure

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 40
PD_BINS = 10
TREND_MONTHS = 12
TOP_GRIDS = 5
BREAK_DAYS = 30
# Over more customers than this the ageing and trend come from last night's per-grid figures (a supervisor's
# million customers would take minutes live); config DASHBOARD_LIVE_LIMIT overrides it.
LIVE_LIMIT = 50_000


# ---------------------------------------------------------------------------------------------- geometry


def nice_max(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (an axis end people can read)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power * (1 + 1e-9):
            return step * power
    return 10 * power


def _ticks(top: float, y) -> list[dict]:
    return [{"value": top * k / 4, "y": y(top * k / 4)} for k in range(5)]


def bars(labels: Sequence[str], values: Sequence[float], *, part: Sequence[float] | None = None,
         width: int = WIDTH, height: int = HEIGHT) -> dict:
    """Vertical bars, one per label, from a zero baseline; negative values are drawn as zero. `part`, if
    given, is a share of each bar drawn over its foot (e.g. the open breaks of all breaks)."""
    top = nice_max(max((max(v, 0) for v in values), default=0))
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)

    def y(v: float) -> float:
        return round(TOP + plot_h * (1 - max(v, 0) / top), 1)

    items = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = LEFT + slot * i + slot * 0.15
        item = {"label": label, "value": value, "x": round(x, 1), "w": round(slot * 0.7, 1),
                "y": y(value), "h": round(TOP + plot_h - y(value), 1), "label_x": round(x + slot * 0.35, 1)}
        if part is not None:
            item |= {"part_y": y(part[i]), "part_h": round(TOP + plot_h - y(part[i]), 1), "part": part[i]}
        items.append(item)
    return {"width": width, "height": height, "left": LEFT, "right": width - RIGHT, "bottom": TOP + plot_h,
            "label_y": height - BOTTOM + 16, "max": top, "ticks": _ticks(top, y), "bars": items}


def lines(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *,
          width: int = WIDTH, height: int = HEIGHT, top: float | None = None) -> dict:
    """One polyline per series over the same x labels; a gap (None) breaks the line."""
    peak = max((v for _, vs in series for v in vs if v is not None), default=0)
    top = top if top is not None else nice_max(peak)
    top = max(top, nice_max(peak))
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return round(LEFT + step * i, 1)

    def y(v: float) -> float:
        return round(TOP + plot_h * (1 - v / top), 1)

    out = []
    for index, (name, values) in enumerate(series):
        path, pen_down, points = [], False, []
        for i, v in enumerate(values):
            if v is None:
                pen_down = False
                continue
            path.append(f"{'L' if pen_down else 'M'}{x(i)},{y(v)}")
            pen_down = True
            points.append({"x": x(i), "y": y(v), "value": v, "label": labels[i]})
        out.append({"name": name, "path": " ".join(path), "points": points, "index": index})
    return {"width": width, "height": height, "left": LEFT, "right": width - RIGHT, "bottom": TOP + plot_h,
            "label_y": height - BOTTOM + 16, "max": top, "ticks": _ticks(top, y),
            "x_labels": [{"label": lab, "x": x(i)} for i, lab in enumerate(labels)], "lines": out}


# ---------------------------------------------------------------------------------------------- figures


def ageing_figure(session: Session, user: User, as_of: dt.date, night: pd.DataFrame | None = None) -> dict:
    """Overdue receivables of the user's customers by ageing bucket: amount and number of customers (over many
    customers, from last night's figures per grid)."""
    snap = _of(night, "ageing")
    if snap is not None:
        grouped = snap.groupby("key")[["first_fen", "second"]].sum().reindex(BUCKETS[1:], fill_value=0)
        rows = [{"bucket": b, "overdue_fen": int(grouped.loc[b, "first_fen"]),
                 "customers": int(grouped.loc[b, "second"])} for b in BUCKETS[1:]]
    else:
        rows = _ageing_rows(classify(bulk.read_frame(session, positions(as_of, visible_customers(user))), as_of))
    # Drawn in yuan: the axis shows amounts people read; the table keeps the exact fen.
    return {"rows": rows, "chart": bars([r["bucket"] for r in rows], [r["overdue_fen"] / 100 for r in rows]),
            "as_of": None if snap is None else snap.attrs["as_of"]}


def _ageing_rows(frame: pd.DataFrame) -> list[dict]:
    overdue = frame[frame["overdue_fen"] > 0]
    grouped = overdue.groupby("bucket")["overdue_fen"].agg(["sum", "count"]).reindex(BUCKETS[1:], fill_value=0)
    return [{"bucket": b, "overdue_fen": int(grouped.loc[b, "sum"]), "customers": int(grouped.loc[b, "count"])}
            for b in BUCKETS[1:]]


def night_figures(session: Session, user: User) -> pd.DataFrame | None:
    """Last night's per-grid rows (every figure) of the user's grids, when the user sees more customers than
    DASHBOARD_LIVE_LIMIT (config) and a night has run; else None: the figures are computed live."""
    limit = current_app.config.get("DASHBOARD_LIVE_LIMIT", LIVE_LIMIT)
    if session.scalar(select(func.count()).select_from(visible_customers(user).subquery())) <= limit:
        return None
    latest = session.scalar(select(func.max(GridFigure.as_of)))
    if latest is None:
        return None
    query = select(GridFigure.figure, GridFigure.grid, GridFigure.key, GridFigure.first_fen, GridFigure.second
                   ).where(GridFigure.as_of == latest)
    if not user.sees_all_grids:
        query = query.where(GridFigure.grid.in_([g.code for g in user.grids]))
    frame = pd.DataFrame(session.execute(query).all(), columns=["figure", "grid", "key", "first_fen", "second"])
    frame.attrs["as_of"] = latest
    return frame


def _of(night: pd.DataFrame | None, figure: str) -> pd.DataFrame | None:
    """One figure's rows of `night_figures` (None stays None: computed live)."""
    if night is None:
        return None
    rows = night[night["figure"] == figure]
    rows.attrs["as_of"] = night.attrs["as_of"]
    return rows


def nightly_figures(session: Session, day: dt.date) -> dict:
    """Job reports.dashboard: the ageing, the recovery trend and the latest scores' bands and losses of every
    grid as of `day`, stored per grid (replacing that day's rows: rerunnable)."""
    pos = positions(day).subquery()
    frame = classify(bulk.read_frame(session, select(pos, Grid.code.label("grid"))
                                     .join(Customer, Customer.id == pos.c.customer_id)
                                     .join(Grid, Grid.id == Customer.grid_id)), day)
    overdue = frame[frame["overdue_fen"] > 0]
    ageing = overdue.groupby(["grid", "bucket"])["overdue_fen"].agg(["sum", "count"]).reset_index()
    ageing = pd.DataFrame({"grid": ageing["grid"], "figure": "ageing", "key": ageing["bucket"],
                           "first_fen": ageing["sum"].astype("int64"), "second": ageing["count"].astype("int64")})
    table, _labels = _trend_table(session, select(Customer.id), day)
    trend = pd.DataFrame({"grid": table["grid"], "figure": "trend", "key": table["month"],
                          "first_fen": table["due_fen"].astype("int64"), "second": table["paid_fen"].astype("int64")})
    rows = pd.concat([ageing, trend, _risk_by_grid(session)], ignore_index=True).assign(as_of=day, created_at=now())
    session.execute(delete(GridFigure).where(GridFigure.as_of == day))
    if len(rows):
        bulk.insert_frame(session, GridFigure.__table__, rows)
    return {"day": day.isoformat(), "grids": int(rows["grid"].nunique()) if len(rows) else 0, "rows": len(rows)}


def risk_figure(session: Session, user: User, night: pd.DataFrame | None = None) -> dict:
    """The latest scoring run over the user's customers: customers by probability band, expected loss by rating
    (over many customers, from last night's figures per grid)."""
    bands_snap = _of(night, "risk_band")
    if bands_snap is not None:
        counts = bands_snap.groupby("key")["first_fen"].sum()
        counts = {int(k): int(v) for k, v in counts.items()}
        loss = _of(night, "risk_loss").groupby("key")[["first_fen", "second"]].sum().sort_index()
        by_rating = [(r, int(row["second"]), int(row["first_fen"])) for r, row in loss.iterrows()]
    else:
        counts, by_rating = _risk_counts(session, visible_customers(user))
    histogram = [{"band": f"{k * 100 // PD_BINS}–{(k + 1) * 100 // PD_BINS}%", "customers": int(counts.get(k, 0))}
                 for k in range(PD_BINS)]
    losses = [{"rating": r, "customers": int(n), "expected_loss_fen": int(el or 0)} for r, n, el in by_rating]
    return {
        "histogram": histogram, "losses": losses, "scored": sum(h["customers"] for h in histogram),
        "histogram_chart": bars([h["band"] for h in histogram], [h["customers"] for h in histogram]),
        "loss_chart": bars([row["rating"] for row in losses], [row["expected_loss_fen"] / 100 for row in losses]),
    }


def _band():
    # Bands by comparison, not floor(): the same on both databases, and pd = 1.0 lands in the last band.
    return case(*((RiskScore.pd < (k + 1) / PD_BINS, k) for k in range(PD_BINS - 1)), else_=PD_BINS - 1)


def _risk_counts(session: Session, mine) -> tuple[dict[int, int], list[tuple]]:
    """Customers per pd band, and (rating, customers, expected loss) of the latest run, over `mine`."""
    where = RiskScore.customer_id.in_(mine)
    band = _band()
    counts = dict(session.execute(
        in_latest_run(select(band.label("band"), func.count())).where(where).group_by(band)).all())
    by_rating = session.execute(
        in_latest_run(select(RiskScore.rating, func.count(), func.sum(RiskScore.expected_loss_fen)))
        .where(where).group_by(RiskScore.rating).order_by(RiskScore.rating)).all()
    return counts, list(by_rating)


def _risk_by_grid(session: Session) -> pd.DataFrame:
    """The latest run's bands and losses per grid, as GridFigure rows (risk_band, risk_loss)."""
    band = _band()
    grid = select(Customer.id, Grid.code.label("grid")).join(Grid, Grid.id == Customer.grid_id).subquery()
    bands = session.execute(in_latest_run(select(grid.c.grid, band.label("band"), func.count()))
                            .join(grid, grid.c.id == RiskScore.customer_id).group_by(grid.c.grid, band)).all()
    losses = session.execute(in_latest_run(select(grid.c.grid, RiskScore.rating, func.count(),
                                                   func.sum(RiskScore.expected_loss_fen)))
                             .join(grid, grid.c.id == RiskScore.customer_id)
                             .group_by(grid.c.grid, RiskScore.rating)).all()
    b = pd.DataFrame(bands, columns=["grid", "key", "first_fen"]).assign(figure="risk_band", second=0)
    loss = pd.DataFrame(losses, columns=["grid", "key", "second", "first_fen"]).assign(figure="risk_loss")
    out = pd.concat([b, loss], ignore_index=True)
    return out.assign(key=out["key"].astype(str), first_fen=out["first_fen"].fillna(0).astype("int64"),
                      second=out["second"].astype("int64"))


def _months_back(as_of: dt.date, count: int) -> list[dt.date]:
    """First days of the `count` months up to and including as_of's month, oldest first."""
    first = as_of.replace(day=1)
    out = []
    for back in range(count - 1, -1, -1):
        y, m = divmod(first.year * 12 + first.month - 1 - back, 12)
        out.append(dt.date(y, m + 1, 1))
    return out


def trend_figure(session: Session, user: User, as_of: dt.date, night: pd.DataFrame | None = None) -> dict:
    """Collected ÷ due per month for the last 12 months, one line per grid (the largest grids if many).

    Due: bills falling due in the month; collected: payments received in the month (not reversed).
    Months are business-calendar months: payment instants are cut at local midnight.
    """
    snap = _of(night, "trend")
    if snap is not None:
        table = pd.DataFrame({"grid": snap["grid"], "month": snap["key"], "due_fen": snap["first_fen"],
                              "paid_fen": snap["second"]})
        labels = [m.strftime("%Y-%m") for m in _months_back(snap.attrs["as_of"], TREND_MONTHS)]
    else:
        table, labels = _trend_table(session, visible_customers(user), as_of)
    sizes = table.groupby("grid")["due_fen"].sum().sort_values(ascending=False, kind="stable")
    grids = list(sizes.index[:TOP_GRIDS])
    rows, series = [], []
    for grid in grids:
        of_grid = table[table["grid"] == grid].set_index("month").reindex(labels, fill_value=0)
        ratios = [round(float(p) / float(d), 4) if d else None
                  for d, p in zip(of_grid["due_fen"], of_grid["paid_fen"], strict=True)]
        series.append((grid, ratios))
        rows.append({"grid": grid, "ratios": ratios})
    return {"months": labels, "rows": rows, "more_grids": max(len(sizes) - len(grids), 0),
            "as_of": None if snap is None else snap.attrs["as_of"],
            "chart": lines(labels, [(g, [None if r is None else r * 100 for r in rs]) for g, rs in series], top=100)}


def _trend_table(session: Session, mine, as_of: dt.date) -> tuple[pd.DataFrame, list[str]]:
    """Per grid and month of the last TREND_MONTHS: due_fen (bills falling due) and paid_fen (payments)."""
    months = _months_back(as_of, TREND_MONTHS)
    last = months[-1]
    ends = [*months[1:], dt.date(last.year + last.month // 12, last.month % 12 + 1, 1)]

    def month_of(column, bounds):
        return case(*((column < bound, months[i].strftime("%Y-%m")) for i, bound in enumerate(bounds)), else_=None)

    due_month = month_of(Bill.due_on, ends)
    due = session.execute(
        select(Grid.code, due_month.label("month"), func.sum(Bill.amount_fen))
        .join(Customer, Customer.id == Bill.customer_id).join(Grid, Grid.id == Customer.grid_id)
        .where(Bill.customer_id.in_(mine), Bill.due_on >= months[0], Bill.due_on < ends[-1], Bill.amount_fen > 0)
        .group_by(Grid.code, due_month)).all()
    instants = [start_of_day(e) for e in ends]
    paid_month = month_of(Payment.paid_at, instants)
    paid = session.execute(
        select(Grid.code, paid_month.label("month"), func.sum(Payment.amount_fen))
        .join(Customer, Customer.id == Payment.customer_id).join(Grid, Grid.id == Customer.grid_id)
        .where(Payment.customer_id.in_(mine), Payment.paid_at >= start_of_day(months[0]),
               Payment.paid_at < instants[-1], Payment.state != PaymentState.reversed)
        .group_by(Grid.code, paid_month)).all()
    due_f = pd.DataFrame(due, columns=["grid", "month", "due_fen"])
    paid_f = pd.DataFrame(paid, columns=["grid", "month", "paid_fen"])
    labels = [m.strftime("%Y-%m") for m in months]
    return due_f.merge(paid_f, on=["grid", "month"], how="outer").fillna(0), labels


def breaks_figure(session: Session, user: User, as_of: dt.date) -> dict:
    """Reconciliation breaks found in the last 30 days by channel, open and resolved."""
    query = (
        select(ReconBreak.channel,
               func.count().filter(ReconBreak.status != BreakStatus.resolved),
               func.count().filter(ReconBreak.status == BreakStatus.resolved))
        .where(ReconBreak.day > as_of - dt.timedelta(days=BREAK_DAYS), ReconBreak.day <= as_of)
        .group_by(ReconBreak.channel).order_by(ReconBreak.channel)
    )
    if not user.sees_all_grids:
        # An officer sees the breaks that name one of their customers; the rest are the clerks' work.
        query = query.where(ReconBreak.customer_code.in_(
            select(Customer.code).where(Customer.id.in_(visible_customers(user)))))
    rows = [{"channel": c, "open": int(o), "resolved": int(r)} for c, o, r in session.execute(query).all()]
    return {"rows": rows, "since": as_of - dt.timedelta(days=BREAK_DAYS - 1),
            "chart": bars([r["channel"] for r in rows], [r["open"] + r["resolved"] for r in rows],
                          part=[r["open"] for r in rows])}
