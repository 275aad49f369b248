"""The assessment's measures over a period (a month or a quarter), for every officer, grid and partner
agent at once: each source is read in one query into a frame, and the arithmetic is column-wise.

Officers and grids
- recovery (percent): collected in the period on bills due by its end / what was due: each such bill's
  amount less what was paid of it before the period, less debt written off before the period.
- old_receivables (percent): what is still unpaid at the period's end of bills due more than a month
  before it (less what is written off), as a share of what was billed in the period (capped at 1000).
- promises (percent): promises kept / (kept + broken), of the promises that fell due in the period.
- visits (percent): customers in arrears on the period's first day with a visit or call in the period.
An officer's customers are those the officer is account manager of (account_managers), and the
customers without an account manager in the officer's grids; the officer's recovery target is their
grids' targets weighted by what was due.

Partner agents (payments on channel `agent`, channel_account = the agent's code)
- timeliness (percent): of the amount collected in the period, the share remitted within
  `remit_days` days; remittances settle takings oldest first. Takings whose deadline has not yet come
  and that are not yet remitted are left out (neither on time nor late).
- volume: payments posted in the period (the target is per month).
- breaks: reconciliation breaks on the agent's channel account in the period, per 100 payments.
- completeness (percent): of the payments posted in the period (up to two days ago), the share the
  agent's daily statement confirmed (settled); provisional ones left unconfirmed and reversed ones count
  against it. A posting refused at the door (unknown customer, a reference already posted) stores
  nothing and so is not counted here.
- complaints: complaints against the agent in the period, per 100 payments, from the complaint sources
  (recovery.assessment.complaints); unmeasured while no source is registered.

Card distributors (recharge cards sold to them; their remittances pay for them)
- volume: cards bought in the period, per month.
- timeliness (percent): of the amount of the cards bought in the period, the share paid within `remit_days`
  days (remittances pay for the cards oldest sale first), as the agents' takings.
- breaks: reconciliation breaks on the distributor's card account (`distributor:CODE`) in the period, per
  month.
- complaints: per 100 cards bought, from the complaint sources.
A distributor's areas (the grids it serves) are shown beside its row.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import func, select, union_all

from recovery import bulk
from recovery.assessment import complaints
from recovery.auth.models import Role, User, officer_grids
from recovery.billing.models import Bill
from recovery.collections.models import Promise, PromiseStatus, Visit
from recovery.collections.writeoff.models import WriteOff
from recovery.credit.security.deposits import months_before
from recovery.customers.models import Customer, Grid
from recovery.ledger.models import Allocation
from recovery.ledger.positions import classify, positions
from recovery.payments.models import (
    Agent,
    CardSale,
    Channel,
    Distributor,
    DistributorRemittance,
    Payment,
    PaymentState,
    Remittance,
)
from recovery.payments.terms_models import DistributorArea
from recovery.reconcile.models import ReconBreak
from recovery.timeutil import business_tz, start_of_day, today
from recovery.timeutil import month_bounds as month_bounds  # the month beside quarter_bounds; it lives in timeutil
from recovery.worklist.models import AccountManager

OFFICER_MEASURES = ("recovery", "old_receivables", "promises", "visits")
AGENT_MEASURES = ("volume", "timeliness", "breaks", "completeness", "complaints")
DISTRIBUTOR_MEASURES = ("volume", "timeliness", "breaks", "complaints")
CONFIRM_DAYS = 2  # an agent's day is confirmed by its statement, reconciled the next night
OLD_SHARE_CAP = 1000.0  # percent: old receivables where nothing was billed


def quarter_bounds(month: str) -> tuple[dt.date, dt.date]:
    """The quarter that holds the month: '2026-05' -> (1 April, 30 June)."""
    year, m = (int(p) for p in month.split("-"))
    first = (m - 1) // 3 * 3 + 1
    return dt.date(year, first, 1), dt.date(year, first + 2, calendar.monthrange(year, first + 2)[1])


def _months(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def _local_days(instants: pd.Series) -> pd.Series:
    """UTC instants as business-day timestamps (midnight, no zone)."""
    at = pd.to_datetime(instants, utc=True, format="ISO8601") if len(instants) else pd.Series(
        dtype="datetime64[ns, UTC]")
    return at.dt.tz_convert(business_tz()).dt.tz_localize(None).dt.normalize()


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den in percent; NaN where den is 0 (nothing to measure)."""
    den = den.astype("float64")
    return (num.astype("float64") * 100 / den.where(den > 0)).round(2)


# ---------------------------------------------------------------- officers and grids


@dataclass
class CustomerSources:
    """What customer_frame reads of the ledger for periods ending by `end`, read once: the year's table
    filters these frames for each of its months and quarters instead of reading them sixteen times."""

    end: dt.date
    customers: pd.DataFrame  # index customer_id: grid
    bills: pd.DataFrame  # bill_id, customer_id, amount_fen, due_on, issued_on (timestamps)
    allocations: pd.DataFrame  # bill_id, paid_fen, day (the business day), issued_on (the bill's)
    write_offs: pd.DataFrame  # customer_id, written_off_on (timestamp), open_fen
    arrears: dict[dt.date, pd.DataFrame] = field(default_factory=dict)  # positions on a period's first day


def read_customer_sources(session, end: dt.date) -> CustomerSources:
    """The bills issued by `end`, what was allocated to them and what was written off by min(end, today)."""
    upto = min(end, today())
    session.flush()  # the reads below go through Core, which does not autoflush pending changes
    cust = bulk.read_frame(session, select(Customer.id.label("customer_id"), Grid.code.label("grid"))
                           .join(Grid, Grid.id == Customer.grid_id)).set_index("customer_id")
    bills = bulk.read_frame(session, select(Bill.id.label("bill_id"), Bill.customer_id, Bill.amount_fen, Bill.due_on,
                                            Bill.issued_on)
                            .where(Bill.issued_on <= end, Bill.amount_fen > 0))
    bills = bills.astype({"bill_id": "int64", "customer_id": "int64", "amount_fen": "int64"})
    bills["due_on"] = pd.to_datetime(bills["due_on"])
    bills["issued_on"] = pd.to_datetime(bills["issued_on"])
    allocs = bulk.read_frame(session, select(Allocation.bill_id, Allocation.amount_fen.label("paid_fen"),
                                             Allocation.allocated_at, Bill.issued_on)
                             .join(Bill, Bill.id == Allocation.bill_id)
                             .where(Bill.issued_on <= end, Allocation.allocated_at < start_of_day(
                                 upto + dt.timedelta(days=1))))
    allocs = pd.DataFrame({"bill_id": allocs["bill_id"].astype("int64"), "paid_fen": allocs["paid_fen"].astype("int64"),
                           "day": _local_days(allocs["allocated_at"]),
                           "issued_on": pd.to_datetime(allocs["issued_on"])})
    wo = bulk.read_frame(session, select(WriteOff.customer_id, WriteOff.written_off_on,
                                         (WriteOff.amount_fen - WriteOff.recovered_fen).label("open_fen"))
                         .where(WriteOff.written_off_on <= upto))
    wo["written_off_on"] = pd.to_datetime(wo["written_off_on"])
    wo["open_fen"] = wo["open_fen"].astype("int64")
    return CustomerSources(end, cust, bills, allocs, wo)


def customer_frame(session, start: dt.date, end: dt.date, sources: CustomerSources | None = None) -> pd.DataFrame:
    """Per customer (index customer_id, with grid): due, collected, old, billed, kept, broken, in_arrears, visited.

    `sources` (read_customer_sources for an end on or after this one) saves reading the ledger again."""
    if sources is None:
        sources = read_customer_sources(session, end)
    elif end > sources.end:
        raise ValueError(f"the sources were read for periods ending by {sources.end}, not {end}")
    upto = min(end, today())
    cust = sources.customers
    bills = sources.bills[sources.bills["issued_on"] <= pd.Timestamp(end)].copy()
    allocs = sources.allocations[(sources.allocations["issued_on"] <= pd.Timestamp(end))
                                 & (sources.allocations["day"] <= pd.Timestamp(upto))]
    wo = sources.write_offs[sources.write_offs["written_off_on"] <= pd.Timestamp(upto)]
    promises = bulk.read_frame(session, select(Promise.customer_id, Promise.status)
                               .where(Promise.promised_on >= start, Promise.promised_on <= end,
                                      Promise.status.in_([PromiseStatus.kept, PromiseStatus.broken])))
    visited = bulk.read_frame(session, select(Visit.customer_id).distinct()
                              .where(Visit.visited_at >= start_of_day(start),
                                     Visit.visited_at < start_of_day(end + dt.timedelta(days=1))))
    if start not in sources.arrears:
        sources.arrears[start] = classify(bulk.read_frame(session, positions(start)), start)
    arrears = sources.arrears[start]

    out = pd.DataFrame(index=cust.index).assign(grid=cust["grid"])
    ts_start, ts_upto = pd.Timestamp(start), pd.Timestamp(upto)
    if not bills.empty:
        if allocs.empty:
            before = in_period = pd.Series(dtype="int64")
        else:
            before = allocs[allocs["day"] < ts_start].groupby("bill_id")["paid_fen"].sum()
            in_period = allocs[allocs["day"] >= ts_start].groupby("bill_id")["paid_fen"].sum()
        bills["before"] = bills["bill_id"].map(before).fillna(0).astype("int64")
        bills["in_period"] = bills["bill_id"].map(in_period).fillna(0).astype("int64")
        due_by_end = bills["due_on"] <= pd.Timestamp(end)
        old = bills["due_on"] <= pd.Timestamp(months_before(end, 1))
        grouped = pd.DataFrame({
            "customer_id": bills["customer_id"],
            "due": ((bills["amount_fen"] - bills["before"]).clip(lower=0)).where(due_by_end, 0),
            "collected": bills["in_period"].where(due_by_end, 0),
            "old": (bills["amount_fen"] - bills["before"] - bills["in_period"]).clip(lower=0).where(old, 0),
            "billed": bills["amount_fen"].where(bills["issued_on"] >= ts_start, 0),
        }).groupby("customer_id").sum()
        out = out.join(grouped)
    out = out.reindex(columns=["grid", "due", "collected", "old", "billed"])
    out[["due", "collected", "old", "billed"]] = out[["due", "collected", "old", "billed"]].fillna(0).astype("int64")
    if not wo.empty:
        wo_before = wo[wo["written_off_on"] < ts_start].groupby("customer_id")["open_fen"].sum()
        wo_upto = wo[wo["written_off_on"] <= ts_upto].groupby("customer_id")["open_fen"].sum()
        # Written-off debt is no longer expected to come in: it leaves what was due and what is old.
        out["due"] = np.maximum(out["due"] - out.index.map(wo_before).fillna(0).astype("int64"), out["collected"])
        out["old"] = (out["old"] - out.index.map(wo_upto).fillna(0).astype("int64")).clip(lower=0)
    counts = promises.groupby(["customer_id", "status"]).size().unstack(fill_value=0) if not promises.empty else None
    for status in (PromiseStatus.kept, PromiseStatus.broken):
        col = counts[status] if counts is not None and status in counts else pd.Series(dtype="int64")
        out[str(status)] = out.index.map(col).fillna(0).astype("int64")
    owing = arrears.set_index("customer_id")["overdue_fen"].astype("int64") > 0
    out["in_arrears"] = out.index.map(owing).fillna(False).astype(bool)
    out["visited"] = out.index.isin(visited["customer_id"].tolist()) & out["in_arrears"]
    return out


def _rates(sums: pd.DataFrame) -> pd.DataFrame:
    """The officer measures from summed customer columns."""
    return pd.DataFrame({
        "recovery": _ratio(sums["collected"], sums["due"]),
        # Old debt and nothing billed: the share is unbounded; capped so that it reads as a number (0 points).
        "old_receivables": _ratio(sums["old"], sums["billed"]).mask((sums["billed"] == 0) & (sums["old"] > 0),
                                                                    OLD_SHARE_CAP),
        "promises": _ratio(sums["kept"], sums["kept"] + sums["broken"]),
        "visits": _ratio(sums["visited"], sums["in_arrears"]),
        "due_fen": sums["due"], "collected_fen": sums["collected"],
    }, index=sums.index)


SUMMED = ["due", "collected", "old", "billed", "kept", "broken", "in_arrears", "visited"]


def grid_measures(session, start: dt.date, end: dt.date, customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per grid code (index key): the measures, what was due and collected."""
    customers = customer_frame(session, start, end) if customers is None else customers
    grids = bulk.read_frame(session, select(Grid.code).order_by(Grid.code))["code"]
    sums = customers.groupby("grid")[SUMMED].sum().reindex(grids, fill_value=0)
    out = _rates(sums)
    out.index.name = "key"
    return out.assign(name=out.index)


def officer_measures(session, start: dt.date, end: dt.date, customers: pd.DataFrame | None = None,
                     grid_targets: pd.Series | None = None) -> pd.DataFrame:
    """Per officer username (index key): the measures over the officer's customers, the officer's grids and
    recovery target (the targets of the customers' grids, weighted by what was due).

    An officer's customers are those the officer is account manager of, and the customers of the
    officer's grids that have no account manager.
    """
    customers = customer_frame(session, start, end) if customers is None else customers
    officers = (select(User.id, User.username, User.display_name)
                .where(User.role == Role.officer, User.active.is_(True)).subquery("officers"))
    managed = select(AccountManager.customer_id)
    pairs = bulk.read_frame(session, union_all(
        select(officers.c.username.label("key"), AccountManager.customer_id)
        .join(officers, officers.c.id == AccountManager.manager_id),
        select(officers.c.username, Customer.id)
        .join(officer_grids, officer_grids.c.user_id == officers.c.id)
        .join(Customer, Customer.grid_id == officer_grids.c.grid_id)
        .where(Customer.id.not_in(managed)),
    ))
    grids = bulk.read_frame(session, select(officers.c.username.label("key"), officers.c.display_name.label("name"),
                                            Grid.code.label("grid"))
                            .join(officer_grids, officer_grids.c.user_id == officers.c.id, isouter=True)
                            .join(Grid, Grid.id == officer_grids.c.grid_id, isouter=True))
    columns = ["name", "grids", *OFFICER_MEASURES, "due_fen", "collected_fen", "recovery_target"]
    if grids.empty:
        return pd.DataFrame(columns=columns).rename_axis("key")
    joined = pairs.join(customers[["grid", *SUMMED]], on="customer_id", how="inner")
    sums = joined.groupby("key")[SUMMED].sum().reindex(grids["key"].drop_duplicates(), fill_value=0)
    out = _rates(sums)
    out["name"] = grids.groupby("key")["name"].first()
    out["grids"] = grids.dropna(subset=["grid"]).groupby("key")["grid"].apply(lambda g: " ".join(sorted(g)))
    if grid_targets is not None:
        t = joined["grid"].map(grid_targets).astype("float64")
        w = joined["due"].astype("float64")
        weighted = (t * w).groupby(joined["key"]).sum() / w.groupby(joined["key"]).sum().replace(0, np.nan)
        out["recovery_target"] = weighted.reindex(out.index).fillna(t.groupby(joined["key"]).mean())
    out.index.name = "key"
    return out


# ---------------------------------------------------------------- partner agents


def agent_measures(session, start: dt.date, end: dt.date, remit_days: int) -> pd.DataFrame:
    """Per agent code (index key): timeliness, volume, breaks, completeness, with the counts behind them."""
    session.flush()  # the reads below go through Core, which does not autoflush pending changes
    agents = bulk.read_frame(session, select(Agent.id, Agent.code.label("key"), Agent.name).order_by(Agent.code))
    pays = bulk.read_frame(session, select(Payment.id, Payment.channel_account.label("key"), Payment.amount_fen,
                                           Payment.paid_at, Payment.state)
                           .where(Payment.channel == Channel.agent,
                                  Payment.paid_at < start_of_day(end + dt.timedelta(days=1))))
    remits = bulk.read_frame(session, select(Agent.code.label("key"), Remittance.amount_fen, Remittance.remitted_on)
                             .join(Agent, Agent.id == Remittance.agent_id))
    breaks = bulk.read_frame(session, select(ReconBreak.channel_account.label("key"),
                                             func.count().label("breaks"))
                             .where(ReconBreak.channel == Channel.agent, ReconBreak.day >= start, ReconBreak.day <= end)
                             .group_by(ReconBreak.channel_account))
    out = agents.set_index("key")[["name"]]
    now_day = pd.Timestamp(today())
    if pays.empty:
        pays = pd.DataFrame({"id": [], "key": [], "amount_fen": [], "paid_at": [], "state": []})
    pays["amount_fen"] = pays["amount_fen"].astype("int64")
    pays["day"] = _local_days(pays["paid_at"])
    in_period = pays[(pays["day"] >= pd.Timestamp(start)) & (pays["day"] <= pd.Timestamp(end))]

    live = pays[pays["state"] != PaymentState.reversed]
    on_time, counted = _paid_on_time(live, remits, start, end, remit_days)

    confirmable = in_period[in_period["day"] <= now_day - pd.Timedelta(days=CONFIRM_DAYS)]
    settled = (confirmable["state"] == PaymentState.settled).groupby(confirmable["key"]).sum()
    posted = in_period.groupby("key").size()
    n_breaks = breaks.set_index("key")["breaks"] if not breaks.empty else pd.Series(dtype="int64")

    out["payments"] = out.index.map(posted).fillna(0).astype("int64")
    out["collected_fen"] = out.index.map(in_period.groupby("key")["amount_fen"].sum()).fillna(0).astype("int64")
    out["breaks_count"] = out.index.map(n_breaks).fillna(0).astype("int64")
    out["timeliness"] = _ratio(pd.Series(out.index.map(on_time), index=out.index).fillna(0),
                               pd.Series(out.index.map(counted), index=out.index).fillna(0))
    months = _months(start, end)
    out["volume"] = (out["payments"] / months).round(2)
    out["breaks"] = (out["breaks_count"] * 100 / out["payments"].clip(lower=1)).round(2).where(
        (out["payments"] > 0) | (out["breaks_count"] > 0))
    out["completeness"] = _ratio(pd.Series(out.index.map(settled), index=out.index).fillna(0),
                                 pd.Series(out.index.map(confirmable.groupby("key").size()), index=out.index)
                                 .fillna(0))
    out["complaints"] = _per_100(complaints.counts(session, Channel.agent, start, end), out["payments"])
    return out


def _paid_on_time(takings: pd.DataFrame, paid: pd.DataFrame, start: dt.date, end: dt.date,
                  days: int) -> tuple[pd.Series, pd.Series]:
    """Per key: the amount of the takings of [start, end] paid over within `days` days, and the amount that
    counts (paid over, or whose deadline has passed). `takings`: key, id, day, amount_fen; `paid`: key,
    amount_fen, remitted_on. Payments over settle the takings oldest first: each taking is paid over on the
    day the cumulative payments first cover its cumulative takings."""
    live = takings.sort_values(["key", "day", "id"]).copy()
    live["hi"] = live.groupby("key")["amount_fen"].cumsum()
    remitted_on = pd.Series(pd.NaT, index=live.index, dtype="datetime64[ns]")
    if not paid.empty and not live.empty:
        paid = paid.astype({"amount_fen": "int64"})
        paid["remitted_on"] = pd.to_datetime(paid["remitted_on"])
        paid = paid.sort_values(["key", "remitted_on"])
        paid["hi"] = paid.groupby("key")["amount_fen"].cumsum().astype("int64")
        matched = pd.merge_asof(live.reset_index().sort_values("hi"), paid[["key", "hi", "remitted_on"]]
                                .sort_values("hi"), on="hi", by="key", direction="forward")
        remitted_on = matched.set_index("index")["remitted_on"].reindex(live.index)
    live["deadline"] = live["day"] + pd.Timedelta(days=days)
    live["on_time"] = remitted_on.notna() & (remitted_on <= live["deadline"])
    live["counted"] = remitted_on.notna() | (live["deadline"] < pd.Timestamp(today()))
    period = live[(live["day"] >= pd.Timestamp(start)) & (live["day"] <= pd.Timestamp(end))]
    on_time = period["amount_fen"].where(period["on_time"], 0).groupby(period["key"]).sum()
    counted = period["amount_fen"].where(period["counted"], 0).groupby(period["key"]).sum()
    return on_time, counted


def _per_100(counts: pd.Series | None, base: pd.Series) -> pd.Series:
    """Complaints per 100 of `base` (payments, cards) by key; NaN throughout when no source counts them."""
    if counts is None:
        return pd.Series(np.nan, index=base.index)
    n = base.index.map(counts).fillna(0).astype("int64")
    return pd.Series(n * 100 / base.clip(lower=1), index=base.index).round(2).where((base > 0) | (n > 0))


def distributor_measures(session, start: dt.date, end: dt.date, remit_days: int) -> pd.DataFrame:
    """Per distributor code (index key): volume (cards bought per month), timeliness, breaks (per month),
    complaints, with the counts behind them and the distributor's areas."""
    from recovery.reconcile.duties import DISTRIBUTOR

    session.flush()  # the reads below go through Core, which does not autoflush pending changes
    dists = bulk.read_frame(session, select(Distributor.id, Distributor.code.label("key"), Distributor.name)
                            .order_by(Distributor.code))
    sales = bulk.read_frame(session, select(CardSale.id, Distributor.code.label("key"), CardSale.count,
                                            CardSale.amount_fen, CardSale.sold_on.label("day"))
                            .join(Distributor, Distributor.id == CardSale.distributor_id)
                            .where(CardSale.sold_on <= end))
    paid = bulk.read_frame(session, select(Distributor.code.label("key"), DistributorRemittance.amount_fen,
                                           DistributorRemittance.remitted_on)
                           .join(Distributor, Distributor.id == DistributorRemittance.distributor_id))
    breaks = bulk.read_frame(session, select(ReconBreak.channel_account, func.count().label("breaks"))
                             .where(ReconBreak.channel == Channel.card,
                                    ReconBreak.channel_account.like(DISTRIBUTOR + "%"),
                                    ReconBreak.day >= start, ReconBreak.day <= end)
                             .group_by(ReconBreak.channel_account))
    grids = bulk.read_frame(session, select(DistributorArea.distributor_id, Grid.code)
                            .join(Grid, Grid.id == DistributorArea.grid_id)
                            .order_by(DistributorArea.distributor_id, Grid.code))
    out = dists.set_index("key")[["name"]]
    area = grids.groupby("distributor_id")["code"].apply(" ".join) if len(grids) else pd.Series(dtype=object)
    out["grids"] = dists.set_index("key")["id"].map(area)
    if sales.empty:
        sales = pd.DataFrame({"id": [], "key": [], "count": [], "amount_fen": [], "day": []})
    sales = sales.astype({"count": "int64", "amount_fen": "int64"})
    sales["day"] = pd.to_datetime(sales["day"])
    in_period = sales[(sales["day"] >= pd.Timestamp(start)) & (sales["day"] <= pd.Timestamp(end))]
    on_time, counted = _paid_on_time(sales, paid, start, end, remit_days)
    n_breaks = (breaks.assign(key=breaks["channel_account"].str.slice(len(DISTRIBUTOR)))
                .set_index("key")["breaks"] if not breaks.empty else pd.Series(dtype="int64"))
    months = _months(start, end)
    out["cards"] = out.index.map(in_period.groupby("key")["count"].sum()).fillna(0).astype("int64")
    out["sold_fen"] = out.index.map(in_period.groupby("key")["amount_fen"].sum()).fillna(0).astype("int64")
    out["breaks_count"] = out.index.map(n_breaks).fillna(0).astype("int64")
    out["volume"] = (out["cards"] / months).round(2)
    out["timeliness"] = _ratio(pd.Series(out.index.map(on_time), index=out.index).fillna(0),
                               pd.Series(out.index.map(counted), index=out.index).fillna(0))
    out["breaks"] = (out["breaks_count"] / months).round(2)
    out["complaints"] = _per_100(complaints.counts(session, Channel.card, start, end), out["cards"])
    return out
