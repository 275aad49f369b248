"""The dashboard's charts: the figures (set-based SQL over what the user may see) and their chart specs.

Each figure keeps its numbers for the table that stands under every chart as its text alternative, and a
spec (categories, series, axis) that /static/charts.js draws with Apache ECharts, vendored and served by
the app (recovery/static/vendor/VENDORED.md): nothing comes from elsewhere, and no script is inline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import pandas as pd
from babel.dates import format_skeleton
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import case, delete, func, select
from sqlalchemy.orm import Session

from recovery import bulk
from recovery.auth.models import User
from recovery.auth.service import visible_customers
from recovery.billing.models import Bill
from recovery.customers.models import Customer, Grid
from recovery.ledger.positions import classify, positions
from recovery.money import format_yuan
from recovery.payments.models import Payment, PaymentState
from recovery.portfolio.service import AGE_BUCKETS
from recovery.reconcile.models import BreakStatus, ReconBreak
from recovery.reports.models import GridFigure
from recovery.risk.models import RiskScore, in_latest_run
from recovery.timeutil import now, start_of_day

PD_BINS = 10
TREND_MONTHS = 12
TOP_GRIDS = 5
BREAK_DAYS = 30
# Over more customers than this the ageing and trend come from last night's per-grid figures (a supervisor's
# million customers would take minutes live); config DASHBOARD_LIVE_LIMIT overrides it.
LIVE_LIMIT = 50_000
# The risk list's age filter (portfolio.service.AGE_BUCKETS) groups the ageing report's buckets so:
# the dashboard shows the same four, so that a bar and a filter of the list count the same customers.
AGE_OF_BUCKET = {"1-30": "0-30", "31-60": "31-90", "61-90": "31-90", "91-180": "91-180", "180+": "180+"}
AGES = list(AGE_BUCKETS)
# Money axes switch to 万元 (10,000 yuan) from this many fen (100,000 yuan) at their top.
WAN_FROM_FEN = 100_000 * 100
# Okabe and Ito's palette, told apart with every common colour-vision deficiency.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
OPEN_COLOUR, RESOLVED_COLOUR = "#D55E00", "#0072B2"


# ---------------------------------------------------------------------------------------------- chart specs
# What the page hands to /static/charts.js (Apache ECharts, served by the app): categories, series and the
# axis, as JSON. Amounts travel as integer fen with the divisor of the axis' unit, and each value's text is
# formatted here (the tooltip shows the table's exact figure, not a float).


def money_axis(max_fen: int) -> dict:
    """A money axis in yuan, or in 10,000 yuan (万元) when its largest value reaches 100,000 yuan."""
    if max_fen >= WAN_FROM_FEN:
        return {"unit": "wan_yuan", "divisor": 1_000_000, "name": _("10,000 yuan")}
    return {"unit": "yuan", "divisor": 100, "name": _("yuan")}


def count_axis(name: str) -> dict:
    """An axis of whole numbers (customers, breaks)."""
    return {"unit": "count", "divisor": 1, "name": name}


def percent_axis() -> dict:
    """An axis of percentages from 0 to 100 at least (a month may collect more than fell due)."""
    return {"unit": "percent", "divisor": 1, "name": "%", "max": 100}


def series(name: str, values: Sequence[int | float | None], texts: Sequence[str], *,
           colour: str | None = None, stack: str | None = None) -> dict:
    """One series: values for the geometry, texts (as the table shows them) for the tooltip."""
    out = {"name": name, "values": list(values), "texts": list(texts)}
    if colour:
        out["colour"] = colour
    if stack:
        out["stack"] = stack
    return out


def spec(kind: str, categories: Sequence[str], lines_or_bars: Sequence[dict], axis: dict, *,
         title: str) -> dict:
    """A chart for charts.js: `kind` bar or line, one category per x position, the series and the y axis."""
    return {"kind": kind, "categories": list(categories), "series": list(lines_or_bars), "axis": axis,
            "title": title, "colours": PALETTE}


def month_label(month: dt.date) -> str:
    """A month as people write it in the reader's language: 2026年3月, Mar 2026."""
    return format_skeleton("yMMM", month, locale=get_locale())


# ---------------------------------------------------------------------------------------------- figures


def ageing_figure(session: Session, user: User, as_of: dt.date, night: pd.DataFrame | None = None) -> dict:
    """Overdue receivables of the user's customers by days overdue, in the risk list's four age buckets: amount
    and number of customers (over many customers, from last night's figures per grid)."""
    snap = _of(night, "ageing")
    if snap is not None:
        frame = snap.rename(columns={"key": "bucket", "first_fen": "overdue_fen", "second": "customers"})
        grouped = (frame.assign(age=frame["bucket"].map(AGE_OF_BUCKET)).groupby("age")[["overdue_fen", "customers"]]
                   .sum().reindex(AGES, fill_value=0))
    else:
        grouped = _ageing_rows(classify(bulk.read_frame(session, positions(as_of, visible_customers(user))), as_of))
    rows = [{"bucket": a, "overdue_fen": int(grouped.loc[a, "overdue_fen"]),
             "customers": int(grouped.loc[a, "customers"])} for a in AGES]
    amounts = [r["overdue_fen"] for r in rows]
    chart = spec("bar", [age_label(a) for a in AGES],
                 [series(_("Overdue"), amounts, [format_yuan(f, grouped=True) for f in amounts])],
                 money_axis(max(amounts, default=0)), title=_("Overdue amount by days overdue"))
    return {"rows": rows, "chart": chart, "as_of": None if snap is None else snap.attrs["as_of"]}


def age_label(bucket: str) -> str:
    """An age bucket as the risk list's filter names it."""
    return _("over 180") if bucket == "180+" else bucket.replace("-", "–")


def _ageing_rows(frame: pd.DataFrame) -> pd.DataFrame:
    overdue = frame[frame["overdue_fen"] > 0]
    overdue = overdue.assign(age=overdue["bucket"].map(AGE_OF_BUCKET))
    return (overdue.groupby("age")["overdue_fen"].agg(overdue_fen="sum", customers="count")
            .reindex(AGES, fill_value=0))


def night_figures(session: Session, user: User, as_of: dt.date | None = None) -> pd.DataFrame | None:
    """The night's per-grid rows (every figure) of the user's grids, when they were kept this morning (the
    job runs for the day beginning: `as_of`) or the user sees more customers than DASHBOARD_LIVE_LIMIT
    (config) and a night has run; else None: the figures are computed live."""
    latest = session.scalar(select(func.max(GridFigure.as_of)))
    if latest is None:
        return None
    limit = current_app.config.get("DASHBOARD_LIVE_LIMIT", LIVE_LIMIT)
    if latest != as_of and session.scalar(
            select(func.count()).select_from(visible_customers(user).subquery())) <= limit:
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
    counts_ = [h["customers"] for h in histogram]
    loss_fen = [row["expected_loss_fen"] for row in losses]
    return {
        "histogram": histogram, "losses": losses, "scored": sum(counts_),
        "histogram_chart": spec("bar", [h["band"] for h in histogram],
                                [series(_("Customers"), counts_, [f"{n:,}" for n in counts_])],
                                count_axis(_("customers")), title=_("Number of customers by probability of arrears")),
        "loss_chart": spec("bar", [row["rating"] for row in losses],
                           [series(_("Expected loss"), loss_fen, [format_yuan(f, grouped=True) for f in loss_fen])],
                           money_axis(max(loss_fen, default=0)), title=_("Expected loss by risk rating")),
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
    rows, lines = [], []
    for grid in grids:
        of_grid = table[table["grid"] == grid].set_index("month").reindex(labels, fill_value=0)
        ratios = [round(float(p) / float(d), 4) if d else None
                  for d, p in zip(of_grid["due_fen"], of_grid["paid_fen"], strict=True)]
        lines.append(series(grid, [None if r is None else round(r * 100, 1) for r in ratios],
                            ["–" if r is None else f"{r * 100:.1f}%" for r in ratios]))
        rows.append({"grid": grid, "ratios": ratios})
    months = [dt.date.fromisoformat(f"{m}-01") for m in labels]
    return {"months": labels, "rows": rows, "more_grids": max(len(sizes) - len(grids), 0),
            "as_of": None if snap is None else snap.attrs["as_of"],
            "chart": spec("line", [month_label(m) for m in months], lines, percent_axis(),
                          title=_("Collected as a share of what fell due, per month and grid"))}


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
    # Whole fen, nullable until the outer join's missing months are filled with 0 (never through float).
    due_f = pd.DataFrame(due, columns=["grid", "month", "due_fen"]).astype({"due_fen": "Int64"})
    paid_f = pd.DataFrame(paid, columns=["grid", "month", "paid_fen"]).astype({"paid_fen": "Int64"})
    labels = [m.strftime("%Y-%m") for m in months]
    return due_f.merge(paid_f, on=["grid", "month"], how="outer").fillna(0), labels


def breaks_figure(session: Session, user: User, as_of: dt.date, channel_label: Callable[[str], str] = str) -> dict:
    """Reconciliation breaks found in the last 30 days by channel, open and resolved (`channel_label` names a
    channel code in the reader's language)."""
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
    opened, resolved = [r["open"] for r in rows], [r["resolved"] for r in rows]
    return {"rows": rows, "since": as_of - dt.timedelta(days=BREAK_DAYS - 1),
            "chart": spec("bar", [channel_label(r["channel"]) for r in rows],
                          [series(_("Open"), opened, [str(n) for n in opened], colour=OPEN_COLOUR, stack="breaks"),
                           series(_("Resolved"), resolved, [str(n) for n in resolved], colour=RESOLVED_COLOUR,
                                  stack="breaks")],
                          count_axis(_("breaks")), title=_("Reconciliation breaks by channel"))}
