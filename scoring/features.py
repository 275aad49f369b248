"""Per-customer features as known at an as-of date, built for all customers at once.

Nothing dated after the as-of date is read: bills issued on or before it, payments and allocations
before the local midnight that ends it, events on or before it (see scoring.frames). Every step is a
vectorised pass over the frames (integer customer codes, bincount, sort-based ranks); there is no
Python loop over customers.

Lateness of a bill: a bill fully paid by the as-of date is late by the days from its due date to the
business day its allocations first covered it (0 if on time); a bill still open past its due date
is late by its age so far (a lower bound, already enough to say "over 30 days"). Bills not yet due
and not yet paid say nothing about punctuality and are left out; so are zero (vacant-month) bills.
"Last 6 / 12 bills" are the latest such bills by due date.

Billing cycles: a cycle runs from the issue of a customer's bill to the issue of their next one (bills
issued the same day start one cycle; vacant-month bills start none). Only closed cycles (the next bill is
issued by the as-of date) in which the customer owed something when it began are counted. What the
customer did in a cycle is read from the payments alone, whichever bills they settled: whether anything was
paid, how much of what was owed at the cycle's start, and how many days after the issue the first payment
made by hand came (a direct debit is taken on the bank's day, not the customer's). These carry the
customer's current state apart from the allocation's bookkeeping: a month skipped shows as a skipped cycle,
not as two bills paid late together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd

from scoring.frames import (
    DEFAULT_TZ,
    Frames,
    as_of_day,
    dates_to_days,
    day_end_utc,
    instants_to_local_days,
    instants_to_utc,
    period_months,
)

CLASSES = ("residential", "commercial", "industrial", "property_mgmt", "government", "agricultural")
CLASS_NAMES = {
    "residential": ("居民客户", "residential customer"),
    "commercial": ("商业客户", "commercial customer"),
    "industrial": ("工业客户", "industrial customer"),
    "property_mgmt": ("物业公司代收客户", "property-management company collecting for residents"),
    "government": ("机关事业单位客户", "government customer"),
    "agricultural": ("农业客户", "agricultural customer"),
}
LATE_DAYS = 30        # "not paid within 30 days", as in the default definition
VERY_LATE_DAYS = 90


def _positive(values: np.ndarray) -> np.ndarray:
    return values > 0


def _above(threshold: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda v: v > threshold


def _below(threshold: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda v: v < threshold


def _changed(by: float) -> Callable[[np.ndarray], np.ndarray]:
    """A ratio that moved by at least `by` either way (the reason names the direction)."""
    return lambda v: np.abs(v - 1.0) >= by


@dataclasses.dataclass(frozen=True)
class Feature:
    """One model input: its meaning, and how an officer is told about it when it raises the risk.

    zh / en are str.format templates; their fields are explained in scoring.explain. shown_if says for
    which values the phrase describes a risk at all (a positive contribution from a harmless value, such
    as "0 returned payments", is never phrased). A feature without templates is never given as a reason.
    """

    name: str
    doc: str
    zh: str | None = None
    en: str | None = None
    shown_if: Callable[[np.ndarray], np.ndarray] = _positive


SPEC: tuple[Feature, ...] = (
    # punctuality
    Feature("late_days_mean_6", "mean days late over the last 6 bills",
            "近{n6}期平均逾期{days}天", "last {n6} bills {days} days late on average", _above(0.5)),
    Feature("late_days_max_6", "most days late among the last 6 bills",
            "近{n6}期中有一期逾期达{days}天", "one of the last {n6} bills {days} days late", _above(0.5)),
    Feature("late30_share_6", "share of the last 6 bills paid over 30 days late (or still unpaid)",
            "近{n6}期中有{k6}期逾期超过30天缴费", "{k6} of the last {n6} bills paid over 30 days late"),
    Feature("late_days_mean_12", "mean days late over the last 12 bills",
            "近{n12}期平均逾期{days}天", "last {n12} bills {days} days late on average", _above(0.5)),
    Feature("late_days_max_12", "most days late among the last 12 bills",
            "近{n12}期中有一期逾期达{days}天", "one of the last {n12} bills {days} days late", _above(0.5)),
    Feature("late30_share_12", "share of the last 12 bills paid over 30 days late (or still unpaid)",
            "近{n12}期中有{k12}期逾期超过30天缴费", "{k12} of the last {n12} bills paid over 30 days late"),
    Feature("late90_share_12", "share of the last 12 bills paid over 90 days late (or still unpaid)",
            "近{n12}期中有{k12}期逾期超过90天", "{k12} of the last {n12} bills over 90 days late"),
    Feature("late_share_12", "share of the last 12 bills paid after their due date",
            "近{n12}期中有{k12}期逾期缴费", "{k12} of the last {n12} bills paid late"),
    Feature("late_days_trend", "mean days late of the last 3 bills minus that of the 3 before",
            "逾期天数在拉长：近3期比前3期平均多{days}天",
            "paying later: last 3 bills {days} days later than the 3 before",
            _above(0.5)),
    Feature("late30_count_all", "bills in the whole history not paid within 30 days of their due date",
            "历史上共有{k}期电费30天内未缴清", "bills not paid within 30 days, whole history: {k}"),
    Feature("partial_share_12", "share of the last 12 bills only partly paid 30 days after their due date",
            "近{n12}期中有{k12}期只缴了部分电费", "{k12} of the last {n12} bills only partly paid"),
    Feature("bills_known", "bills whose punctuality is known (the length of the payment record)",
            "缴费记录短（仅{k}期）", "short payment record ({k} so far)", _below(6)),
    # the customer's state: recent habits weighted more than old ones, streaks, the bill open now
    Feature("timing_ewm", "days from the due date to full payment (negative: early), exponentially weighted "
            "(half-life 3 bills), on bills the customer chose when to pay (not settled by a direct debit)",
            "近期平均逾期{days}天才缴清", "recently paying {days} days late on average",
            _above(0.5)),
    Feature("timing_trend", "timing_ewm with a half-life of 1 bill minus that with a half-life of 6: paying later "
            "than usual", "近期缴费比以往晚{days}天", "paying {days} days later than usual", _above(1.0)),
    Feature("timing_sd_12", "standard deviation of the days from due date to payment over the last 12 bills the "
            "customer chose when to pay", "缴费时间忽早忽晚", "pays at irregular times", _above(10.0)),
    Feature("unpaid30_ewm", "bills not paid within 30 days of their due date, exponentially weighted "
            "(half-life 3 bills)", "近期多次30天内未缴清", "recently several bills unpaid 30 days after the due date",
            _above(0.2)),
    Feature("bills_since_miss", "bills since the latest one not paid within 30 days of its due date (all bills "
            "known when none was)", "上一次30天内未缴清仅在{k}期前", "last missed bill only {k} bills ago", _below(6)),
    Feature("late_streak", "consecutive latest bills paid after their due date (or still unpaid past it)",
            "连续{k}期逾期缴费", "{k} bills in a row paid late", _above(0.5)),
    Feature("latest_open_days", "days since the latest bill was issued if it is not fully paid yet, else 0",
            "最新一期电费已出账{days}天仍未缴清", "latest bill still unpaid {days} days after it was issued",
            _above(0.5)),
    Feature("latest_paid_days", "days from the latest bill's issue to its full payment (missing while open)"),
    Feature("latest_paid_share", "share of the latest bill paid so far",
            "最新一期电费仅缴了{pct}%", "only {pct}% of the latest bill paid", _below(1.0)),
    # billing cycles (see the module's doc)
    Feature("cycle_delay_ewm", "days from a bill's issue to the first payment by hand in its cycle, exponentially "
            "weighted (half-life 3 cycles)", "近期出账后平均{days}天才缴费", "recently pays {days} days after the bill",
            _above(0.5)),
    Feature("cycle_delay_mean", "days from a bill's issue to the first payment by hand in its cycle, over every "
            "closed cycle (the customer's long-run habit)", "一向出账后平均{days}天才缴费",
            "usually pays {days} days after the bill", _above(0.5)),
    Feature("cycle_skip_ewm", "cycles without any payment, exponentially weighted (half-life 3 cycles)",
            "近期有整月未缴任何电费", "recently whole months without any payment", _above(0.1)),
    Feature("cycle_skip_share", "share of closed cycles without any payment",
            "有{pct}%的月份未缴任何电费", "no payment at all in {pct}% of months", _above(0.0)),
    Feature("cycle_paid_ewm", "what was paid in a cycle over what was owed when it began (at most 1), exponentially "
            "weighted (half-life 3 cycles)", "近期每月只缴欠款的{pct}%", "recently pays only {pct}% of what it owes "
            "each month", _below(0.95)),
    Feature("cycle_paid_mean", "what was paid in a cycle over what was owed when it began (at most 1), over every "
            "closed cycle", "平均每月只缴欠款的{pct}%", "pays {pct}% of what it owes in a month on average",
            _below(0.95)),
    # arrears and payments
    Feature("arrears_fen", "overdue bills not yet paid (fen): electricity arrears, penalties not included",
            "逾期电费欠款{yuan}元（不含违约金）", "{yuan} yuan of bills overdue (penalties not included)"),
    Feature("arrears_age_days", "days since the due date of the oldest overdue unpaid bill",
            "最早一笔欠费已逾期{days}天", "oldest unpaid bill {days} days past due"),
    Feature("arrears_to_avg_bill", "overdue amount over the average bill of the last 12 months",
            "欠费相当于{x}个月的平均电费", "arrears equal to {x} months of its average bill", _above(0.05)),
    Feature("balance_fen", "the account's balance as the ledger gives it: bills, penalties, write-offs and "
            "adjustments less payments, overdue or not (fen)",
            "账户欠款（含违约金）{yuan}元", "owes {yuan} yuan on the account (penalties included)"),
    Feature("days_since_payment", "days since the last payment",
            "已{days}天没有缴费", "no payment for {days} days", _above(45)),
    Feature("debit_share_12", "share of the last 12 months' payments made by direct debit",
            "近一年代扣缴费仅占{pct}%", "only {pct}% of last year's payments by direct debit", _below(0.5)),
    # events
    Feature("returned_12m", "returned (bounced) payments in the last 12 months",
            "近12个月有{k}次扣款被退回", "returned payments in the last 12 months: {k}"),
    Feature("returned_3m", "returned (bounced) payments in the last 3 months",
            "近3个月有{k}次扣款被退回", "returned payments in the last 3 months: {k}"),
    Feature("disconnections_12m", "disconnections for arrears in the last 12 months",
            "近12个月因欠费停电{k}次", "disconnections for arrears in the last 12 months: {k}"),
    Feature("theft_24m", "electricity theft cases in the last 24 months",
            "近两年有{k}次窃电记录", "electricity theft cases in the last 2 years: {k}"),
    Feature("violation_24m", "violations (违约用电) in the last 24 months",
            "近两年有{k}次违约用电记录", "violations in the last 2 years: {k}"),
    # consumption
    Feature("avg_bill_fen_12", "mean bill amount over the last 12 periods (fen)",
            "月均电费{yuan}元", "average bill {yuan} yuan a month"),
    Feature("kwh_mean_3", "mean kWh of the last 3 periods",
            "近3个月月均用电{kwh}千瓦时", "{kwh} kWh a month over the last 3 months", _above(-1)),
    Feature("kwh_trend_3v3", "kWh of the last 3 periods over the 3 before",
            "用电量较前3个月{chg}", "consumption {chg} on the previous 3 months", _changed(0.1)),
    Feature("kwh_yoy", "kWh of the last 3 periods over the same 3 periods a year earlier",
            "用电量较去年同期{chg}", "consumption {chg} on a year ago", _changed(0.1)),
    Feature("kwh_cv_12", "coefficient of variation of monthly kWh over the last 12 periods",
            "近12个月用电量波动大", "consumption swings widely over the last 12 months", _above(0.4)),
    Feature("zero_kwh_12", "periods with zero consumption among the last 12",
            "近12个月有{k}个月零用电", "zero-consumption months in the last 12: {k}"),
    Feature("kwh_peer_ratio", "kWh of the last 3 periods over the median of the same class and grid",
            "用电量比同网格同类客户{lvl}", "consumption {lvl} similar customers in its grid", _changed(0.2)),
    Feature("kwh_peer_change", "the peer ratio of the last 3 periods over that of the 9 before",
            "用电量相对同网格同类客户{chg}", "consumption {chg} against its grid", _changed(0.1)),
    # security
    Feature("security_cover", "deposits and callable guarantees over (positive balance + average bill)",
            "押金和担保仅覆盖欠款加一期电费的{pct}%",
            "deposits and guarantees cover only {pct}% of balance plus a bill",
            _below(1.0)),
    # the customer
    Feature("tenure_months", "months since the account was opened",
            "新开户客户（{k}个月）", "new customer (account {k} months old)", _below(24)),
    *(Feature(f"class_{c}", f"1 if the customer class is {c}", CLASS_NAMES[c][0], CLASS_NAMES[c][1], _above(0.5))
      for c in CLASSES),
    # the grid
    Feature("grid_late_share_3m", "share of the grid's customers with a bill due in the last 3 months paid late",
            "所在网格近3个月有{pct}%的客户逾期缴费", "{pct}% of its grid's customers paid late in the last 3 months",
            _above(0.05)),
    Feature("grid_late_share_change", "grid_late_share_3m minus the same share for the 3 months before",
            "所在网格逾期客户比例上升{pp}个百分点", "late payers in its grid up {pp} points on the 3 months before",
            _above(0.005)),
    Feature("grid_default_rate", "share of the grid's customers with a bill due 30 to 120 days ago that was not "
            "paid within 30 days (the grid's latest default rate known at the as-of date)",
            "所在网格近期有{pct}%的客户30天内未缴清", "{pct}% of its grid's customers recently left a bill unpaid "
            "30 days", _above(0.03)),
    Feature("grid_cycle_delay_change", "the mean delay (cycle_delay) of the grid's customers in their latest closed "
            "cycle minus its mean over every closed cycle: the grid paying later than usual",
            "所在网格最近缴费比往常晚{days}天", "its grid paying {days} days later than usual", _above(0.5)),
    Feature("grid_cycle_skip", "share of the grid's customers who paid nothing in their latest closed cycle",
            "所在网格最近有{pct}%的客户整月未缴费", "{pct}% of its grid paid nothing last month", _above(0.03)),
    Feature("grid_cycle_paid", "mean share of what they owed that the grid's customers paid in their latest closed "
            "cycle", "所在网格最近平均只缴了欠款的{pct}%", "its grid paid only {pct}% of what it owed last month",
            _below(0.95)),
)
FEATURES: tuple[str, ...] = tuple(f.name for f in SPEC)
"""Model inputs in their fixed order; a model's manifest records the order it was trained with."""
BY_NAME: dict[str, Feature] = {f.name: f for f in SPEC}

# Directions known in advance: the risk never falls as these rise (INCREASING) or as these fall (DECREASING).
# The model is held to them (XGBoost monotone constraints), so a step the data does not support cannot turn
# a worse record into a lower probability, and a reason never rewards a worse value. Left free on purpose:
# security (it is demanded where the risk is high, so more of it can go with more risk), the latest bill's
# state (every bill is open for its first days, a fact about the calendar before it is one about the
# customer), bills since the last miss (for a customer who never missed it is the length of the record), the
# share paid in a cycle (a customer who pays some of a large debt is not safer than one who owes little and
# pays all of it) and the grid's latest cycle (a grid's month is read against its other figures).
INCREASING: tuple[str, ...] = (
    "late_days_mean_6", "late_days_max_6", "late30_share_6", "late_days_mean_12", "late_days_max_12",
    "late30_share_12", "late90_share_12", "late_share_12", "late30_count_all", "partial_share_12", "timing_ewm",
    "unpaid30_ewm", "late_streak", "arrears_age_days", "arrears_to_avg_bill", "returned_12m", "returned_3m",
    "disconnections_12m", "theft_24m", "violation_24m", "grid_late_share_3m", "grid_default_rate",
    "cycle_delay_ewm", "cycle_delay_mean", "cycle_skip_ewm", "cycle_skip_share",
)
DECREASING: tuple[str, ...] = ()
MONOTONE: dict[str, int] = {**{name: 1 for name in INCREASING}, **{name: -1 for name in DECREASING}}

# Features that tell an officer the same story: reasons give each group once, phrased by its strongest member.
REASON_GROUPS: dict[str, tuple[str, ...]] = {
    "punctuality": ("late_days_mean_6", "late_days_max_6", "late30_share_6", "late_days_mean_12", "late_days_max_12",
                    "late30_share_12", "late90_share_12", "late_share_12", "timing_ewm", "unpaid30_ewm",
                    "bills_since_miss", "late_streak", "cycle_delay_ewm", "cycle_delay_mean"),
    "amount_paid": ("partial_share_12", "cycle_skip_ewm", "cycle_skip_share", "cycle_paid_ewm", "cycle_paid_mean"),
    "latest_bill": ("latest_open_days", "latest_paid_share"),
    "returned": ("returned_12m", "returned_3m"),
    "arrears": ("arrears_fen", "arrears_age_days", "arrears_to_avg_bill", "balance_fen"),
    "own_consumption": ("kwh_trend_3v3", "kwh_yoy"),
    "peer_consumption": ("kwh_peer_ratio", "kwh_peer_change"),
    "class": tuple(f"class_{c}" for c in CLASSES),
    "grid": ("grid_late_share_3m", "grid_late_share_change", "grid_default_rate", "grid_cycle_delay_change",
             "grid_cycle_skip", "grid_cycle_paid"),
}


# ---------------------------------------------------------------------------------------------- helpers

def _counts(codes: np.ndarray, n: int, mask: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(codes if mask is None else codes[mask], minlength=n).astype(np.float64)


def _sums(codes: np.ndarray, values: np.ndarray, n: int, mask: np.ndarray | None = None) -> np.ndarray:
    if mask is not None:
        codes, values = codes[mask], values[mask]
    return np.bincount(codes, weights=values.astype(np.float64), minlength=n)


def _means(codes: np.ndarray, values: np.ndarray, n: int, mask: np.ndarray | None = None) -> np.ndarray:
    count = _counts(codes, n, mask)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, _sums(codes, values, n, mask) / count, np.nan)


def _maxima(codes: np.ndarray, values: np.ndarray, n: int, mask: np.ndarray | None = None) -> np.ndarray:
    out = np.full(n, -np.inf)
    if mask is not None:
        codes, values = codes[mask], values[mask]
    np.maximum.at(out, codes, values.astype(np.float64))
    return np.where(np.isneginf(out), np.nan, out)


def _int_sums(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Exact integer sums (money stays int64)."""
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, codes, values.astype(np.int64))
    return out


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _rank_latest_first(codes: np.ndarray, due: np.ndarray, issued: np.ndarray) -> np.ndarray:
    """Rank of each bill within its customer: 0 for the latest due (the latest issued among equal due dates)."""
    if codes.size == 0:
        return np.zeros(0, dtype=np.int64)
    lo = min(due.min(), issued.min())
    span = max(due.max(), issued.max()) - lo + 1
    if span < 2**15 and codes.max() < 2**32:
        # one int64 key sorts much faster than lexsort; bills arrive mostly in order, which a stable sort exploits
        key = (codes.astype(np.int64) << 31) | ((span - 1 - (due - lo)) << 15) | (span - 1 - (issued - lo))
        order = np.argsort(key, kind="stable")
    else:
        order = np.lexsort((-issued, -due, codes))
    sorted_codes = codes[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_codes)) + 1]
    within = np.arange(codes.size) - np.repeat(starts, np.diff(np.r_[starts, codes.size]))
    rank = np.empty(codes.size, dtype=np.int64)
    rank[order] = within
    return rank


@dataclasses.dataclass(frozen=True)
class Prepared:
    """The frames with their dates, instants and keys read once, for cutting at many as-of dates (the training
    windows): day numbers, UTC instants, each bill's and payment's customer among all customers, each
    allocation's bill and whether a direct debit paid it. build_features(prepare(frames, tz), D, tz=tz) is
    build_features(frames, D, tz=tz); only the reading is shared."""

    frames: Frames
    tz: str
    ids: pd.Index                     # every customer
    opened: np.ndarray                # day numbers; unknown opening dates are never later than an as-of date
    bill_code: np.ndarray             # the bill's customer in ids, -1 if unknown
    bill_issued: np.ndarray
    bill_due: np.ndarray
    bill_month: np.ndarray
    pay_code: np.ndarray
    pay_at: np.ndarray                # UTC, naive datetime64[ns]
    pay_day: np.ndarray               # local business day
    alloc_bill: np.ndarray            # the allocation's bill (position in frames.bills), -1 if unknown
    alloc_at: np.ndarray
    alloc_day: np.ndarray
    alloc_debit: np.ndarray           # paid by a direct debit


def prepare(frames: Frames | dict, tz: str = DEFAULT_TZ) -> Prepared:
    """Read the frames' dates, instants and keys once (see Prepared)."""
    frames = Frames.of(frames)
    customers, b, p, a = frames.customers, frames.bills, frames.payments, frames.allocations
    ids = pd.Index(customers["customer_id"])
    if not ids.is_unique:
        raise ValueError("customers.customer_id is not unique")
    opened = np.where(pd.isna(customers["opened_on"]).to_numpy(), np.iinfo(np.int64).min,
                      dates_to_days(customers["opened_on"]))
    # integer bill ids (database keys) make this hash join several times faster than text ids
    alloc_bill = pd.Index(b["bill_id"]).get_indexer(a["bill_id"]) if len(b) else np.full(len(a), -1)
    if "channel" in p.columns and len(a):
        debit_ids = p["payment_id"].to_numpy()[p["channel"].to_numpy() == "direct_debit"]
        alloc_debit = pd.Index(debit_ids).get_indexer(a["payment_id"].to_numpy()) >= 0
    else:
        alloc_debit = np.zeros(len(a), dtype=bool)
    return Prepared(
        frames=frames, tz=tz, ids=ids, opened=opened, bill_code=ids.get_indexer(b["customer_id"]),
        bill_issued=dates_to_days(b["issued_on"]), bill_due=dates_to_days(b["due_on"]),
        bill_month=period_months(b["period"].to_numpy()), pay_code=ids.get_indexer(p["customer_id"]),
        pay_at=instants_to_utc(p["paid_at"]), pay_day=instants_to_local_days(p["paid_at"], tz),
        alloc_bill=alloc_bill, alloc_at=instants_to_utc(a["allocated_at"]),
        alloc_day=instants_to_local_days(a["allocated_at"], tz), alloc_debit=alloc_debit)


@dataclasses.dataclass
class _Cut:
    """The frames cut at the as-of date, customers coded 0..n-1."""

    day: int
    end: np.datetime64        # UTC instant (naive) that ends the as-of day: known means strictly before it
    tz: str
    ids: pd.Index
    customers: pd.DataFrame
    bills: dict[str, np.ndarray]     # known bills: bill_id, code c, issued, due (days), amount, kwh, month
    payments: dict[str, np.ndarray]  # known payments: code c, amount, local day, debit (None without a channel)
    allocations: dict[str, np.ndarray]   # known allocations: bill (position in bills), amount, local day, debit
    frames: Frames


def _prepared(frames: Frames | dict | Prepared, tz: str) -> Prepared:
    if isinstance(frames, Prepared):
        if frames.tz != tz:
            raise ValueError(f"the frames were prepared in {frames.tz}, not {tz}")
        return frames
    return prepare(frames, tz)


def _cut(prep: Prepared, as_of) -> _Cut:
    day, frames = as_of_day(as_of), prep.frames
    known = prep.opened <= day
    ids = prep.ids[known]
    code = np.full(len(prep.ids) + 1, -1, dtype=np.int64)       # every customer's code in the cut; [-1]: unknown
    code[np.flatnonzero(known)] = np.arange(len(ids))
    b = frames.bills
    bc = code[prep.bill_code]
    kept = np.flatnonzero((prep.bill_issued <= day) & (bc >= 0))
    # plain arrays, not a frame: building a frame of millions of rows would copy every column once more
    bills = {
        "bill_id": b["bill_id"].to_numpy()[kept],
        "c": bc[kept],
        "issued": prep.bill_issued[kept],
        "due": prep.bill_due[kept],
        "amount": b["amount_fen"].to_numpy(dtype=np.int64)[kept],
        "kwh": b["kwh"].to_numpy(dtype=np.float64)[kept],
        "month": prep.bill_month[kept],
    }
    end = day_end_utc(day, prep.tz)[0]
    p = frames.payments
    pc = code[prep.pay_code]
    keep = (prep.pay_at < end) & (pc >= 0)
    payments = {
        "c": pc[keep], "amount": p["amount_fen"].to_numpy(dtype=np.int64)[keep], "day": prep.pay_day[keep],
        "debit": (p["channel"].to_numpy()[keep] == "direct_debit") if "channel" in p.columns else None,
    }
    position = np.full(len(b) + 1, -1, dtype=np.int64)          # every bill's position among the cut's; [-1]: none
    position[kept] = np.arange(kept.size)
    pos = position[prep.alloc_bill]
    keep = (prep.alloc_at < end) & (pos >= 0)
    allocations = {"bill": pos[keep], "amount": frames.allocations["amount_fen"].to_numpy(dtype=np.int64)[keep],
                   "day": prep.alloc_day[keep], "debit": prep.alloc_debit[keep]}
    return _Cut(day=day, end=end, tz=prep.tz, ids=ids, customers=frames.customers.loc[known], bills=bills,
                payments=payments, allocations=allocations, frames=frames)


def _security(cut: _Cut) -> tuple[np.ndarray, np.ndarray]:
    n = len(cut.ids)
    s = cut.frames.security
    if s is None or s.empty:
        return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    codes = cut.ids.get_indexer(s["customer_id"])
    keep = codes >= 0
    # optional validity dates keep a past window from seeing security taken or released later
    if "held_on" in s.columns:
        keep &= ~(dates_to_days(s["held_on"].fillna(pd.Timestamp.min)) > cut.day)
    if "released_on" in s.columns:
        released = s["released_on"]
        keep &= released.isna().to_numpy() | (dates_to_days(released.fillna(pd.Timestamp.max)) > cut.day)
    deposit = s.get("deposit_fen", pd.Series(0, index=s.index)).fillna(0).to_numpy(dtype=np.int64)[keep]
    guarantee = s.get("guarantee_fen", pd.Series(0, index=s.index)).fillna(0).to_numpy(dtype=np.int64)[keep]
    return _int_sums(codes[keep], deposit, n), _int_sums(codes[keep], guarantee, n)


def _other_movements(cut: _Cut) -> np.ndarray:
    """Per customer, the ledger's movements other than bills and payments effective by the as-of date (int64 fen)."""
    n = len(cut.ids)
    led = cut.frames.ledger
    if led is None or led.empty:
        return np.zeros(n, dtype=np.int64)
    codes = cut.ids.get_indexer(led["customer_id"])
    keep = (codes >= 0) & (dates_to_days(led["effective_on"]) <= cut.day)
    return _int_sums(codes[keep], led["amount_fen"].to_numpy(dtype=np.int64)[keep], n)


def _positions(cut: _Cut) -> pd.DataFrame:
    n = len(cut.ids)
    b = cut.bills
    billed = _int_sums(b["c"], b["amount"], n)
    paid = _int_sums(cut.payments["c"], cut.payments["amount"], n)
    # the next bill: the mean of the last three periods' bills, rounded half up in integer arithmetic
    c = b["c"]
    month = b["month"]
    last = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last, c, month)
    recent = last[c] - month < 3
    total = _int_sums(c[recent], b["amount"][recent], n)
    count = np.bincount(c[recent], minlength=n).astype(np.int64)
    next_bill = np.where(count > 0, (2 * total + count) // np.maximum(2 * count, 1), 0)
    deposit, guarantee = _security(cut)
    balance = billed - paid + _other_movements(cut)
    return pd.DataFrame({"balance_fen": balance, "next_bill_fen": next_bill.astype(np.int64),
                         "deposit_fen": deposit, "guarantee_fen": guarantee},
                        index=pd.Index(cut.ids, name="customer_id"))


def account_positions(frames: Frames | dict, as_of, *, tz: str = DEFAULT_TZ) -> pd.DataFrame:
    """Integer fen per customer at as_of: balance (the ledger's: billed, penalties, write-offs and adjustments less
    paid), next bill estimate, deposit, guarantee.

    The next bill is estimated as the mean of the last three billed periods. Indexed like build_features.
    """
    return _positions(_cut(_prepared(frames, tz), as_of))


def _weighted_means(codes: np.ndarray, values: np.ndarray, rank: np.ndarray, half_life: float, n: int,
                    mask: np.ndarray | None = None) -> np.ndarray:
    """Per customer, the mean of values weighted 0.5 ** (rank / half_life): the latest (rank 0) counts most."""
    weight = np.exp2(-rank / half_life)
    if mask is not None:
        weight = np.where(mask, weight, 0.0)
    den = np.bincount(codes, weights=weight, minlength=n)
    return _ratio(np.bincount(codes, weights=weight * values, minlength=n), den)


def _state_features(out: dict, cut: _Cut, e: np.ndarray, rank: np.ndarray, edays: np.ndarray, settled: np.ndarray,
                    settled_day: np.ndarray, paid: np.ndarray) -> None:
    """Features that carry the customer's state: habits weighted to the latest bills, streaks, the open bill.

    e: the evaluable bills (rank 0 the latest), edays their days late (0 if on time).
    """
    n, day, b = len(cut.ids), cut.day, cut.bills
    c, due, amount = b["c"], b["due"], b["amount"]
    ec = c[e]
    # signed timing: days from the due date to full payment (negative when early); open bills count their age so far
    signed = np.where(settled, settled_day - due, day - due)[e].astype(np.float64)
    signed = np.clip(signed, -31.0, 120.0)
    # a bill settled by a direct debit was paid when the bank took it, not when the customer chose
    a = cut.allocations
    by_debit = a["debit"]
    debit_paid = _int_sums(a["bill"][by_debit], a["amount"][by_debit], len(c))
    chosen = ~(settled & (2 * debit_paid >= amount))            # mostly paid by debit: the bank chose the day
    ch = chosen[e]
    out["timing_ewm"] = _weighted_means(ec, signed, rank, 3.0, n, ch)
    out["timing_trend"] = _weighted_means(ec, signed, rank, 1.0, n, ch) - _weighted_means(ec, signed, rank, 6.0, n, ch)
    last12 = (rank < 12) & ch
    mean = _means(ec, signed, n, last12)
    var = _means(ec, signed * signed, n, last12) - mean * mean
    out["timing_sd_12"] = np.where(_counts(ec, n, last12) >= 3, np.sqrt(np.maximum(var, 0.0)), np.nan)
    miss = edays > LATE_DAYS
    out["unpaid30_ewm"] = _weighted_means(ec, miss.astype(np.float64), rank, 3.0, n)
    # the rank of the latest miss is the number of bills since it
    latest_miss = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(latest_miss, ec[miss], rank[miss])
    out["bills_since_miss"] = np.where(latest_miss < np.iinfo(np.int64).max, latest_miss, _counts(ec, n))
    on_time = edays <= 0
    first_on_time = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_on_time, ec[on_time], rank[on_time])
    out["late_streak"] = np.minimum(first_on_time, _counts(ec, n)).astype(np.float64)
    # the latest bill issued (not a vacant month): open or paid, and when
    billed = np.flatnonzero(amount > 0)
    latest = _rank_latest_first(c[billed], b["issued"][billed], b["issued"][billed]) == 0
    lb = billed[latest]
    lc = c[lb]
    open_days = np.zeros(n)
    open_days[lc] = np.where(settled[lb], 0, day - b["issued"][lb])
    paid_days = np.full(n, np.nan)
    paid_days[lc] = np.where(settled[lb], np.maximum(settled_day[lb] - b["issued"][lb], 0), np.nan)
    share = np.full(n, np.nan)
    share[lc] = np.minimum(paid[lb] / amount[lb], 1.0)
    out["latest_open_days"], out["latest_paid_days"], out["latest_paid_share"] = open_days, paid_days, share


def _run_starts(codes: np.ndarray) -> np.ndarray:
    """For each element of sorted codes, the position where its run of equal codes begins."""
    if codes.size == 0:
        return np.zeros(0, dtype=np.int64)
    begins = np.r_[True, codes[1:] != codes[:-1]]
    return np.maximum.accumulate(np.where(begins, np.arange(codes.size), 0))


def _within(starts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Running sums of values within runs (starts from _run_starts), inclusive."""
    total = np.cumsum(values)
    return total - (total[starts] - values[starts])


def _cycle_features(out: dict, cut: _Cut, grid_code: np.ndarray) -> None:
    """What each customer did in their closed billing cycles (see the module's doc), and their grid's latest cycle."""
    n, b, p = len(cut.ids), cut.bills, cut.payments
    nonzero = b["amount"] > 0
    c, issued, amount = b["c"][nonzero], b["issued"][nonzero], b["amount"][nonzero]
    pc, pday, pamt = p["c"], p["day"], p["amount"]
    names = ("cycle_delay_ewm", "cycle_delay_mean", "cycle_skip_ewm", "cycle_skip_share", "cycle_paid_ewm",
             "cycle_paid_mean", "grid_cycle_delay_change", "grid_cycle_skip", "grid_cycle_paid")
    if c.size == 0:
        out.update({name: np.full(n, np.nan) for name in names})
        return
    # one int64 key per (customer, day) orders cycles and payments alike; bills mostly come in that order already
    lo = min(int(issued.min()), int(pday.min(initial=issued.min())))
    span = max(int(issued.max()), int(pday.max(initial=issued.max()))) - lo + 1
    key = c.astype(np.int64) * span + (issued - lo)
    if (key[1:] < key[:-1]).any():
        order = np.argsort(key, kind="stable")
        key, amount = key[order], amount[order]
    begins = np.r_[True, key[1:] != key[:-1]]
    keys = key[begins]
    m = keys.size
    cc, start = keys // span, keys % span + lo
    billed = np.bincount(np.cumsum(begins) - 1, weights=amount.astype(np.float64), minlength=m)
    # the cycle each payment falls in: the customer's latest one begun by the payment's day
    k = np.searchsorted(keys, pc.astype(np.int64) * span + (pday - lo), side="right") - 1
    inside = (k >= 0) & (cc[np.maximum(k, 0)] == pc)
    ki = k[inside]
    paid = np.bincount(ki, weights=pamt[inside].astype(np.float64), minlength=m)
    any_paid = np.bincount(ki, minlength=m) > 0
    by_hand = inside & ~p["debit"] if p["debit"] is not None else inside
    first = np.full(m, np.iinfo(np.int64).max)
    np.minimum.at(first, k[by_hand], pday[by_hand])
    # owed when the cycle began: billed so far less paid in earlier cycles and before the first bill
    early = np.bincount(pc[~inside], weights=pamt[~inside].astype(np.float64), minlength=n)
    starts = _run_starts(cc)
    owed = _within(starts, billed) - (_within(starts, paid) - paid) - early[cc]
    closed = np.r_[cc[1:] == cc[:-1], False]
    use = np.flatnonzero(closed & (owed > 0))
    uc = cc[use]
    rank = np.bincount(uc, minlength=n)[uc] - 1 - (np.arange(uc.size) - _run_starts(uc))    # latest first
    delay = (first[use] - start[use]).astype(np.float64)
    has = first[use] < np.iinfo(np.int64).max
    skip = (~any_paid[use]).astype(np.float64)
    share = np.minimum(paid[use] / owed[use], 1.0)
    weight = np.exp2(-rank / 3.0)                               # half-life 3 cycles
    every = np.bincount(uc, weights=weight, minlength=n)
    out["cycle_delay_ewm"] = _ratio(np.bincount(uc[has], weights=(weight * delay)[has], minlength=n),
                                    np.bincount(uc[has], weights=weight[has], minlength=n))
    out["cycle_delay_mean"] = _means(uc, delay, n, has)
    out["cycle_skip_ewm"] = _ratio(np.bincount(uc, weights=weight * skip, minlength=n), every)
    out["cycle_skip_share"] = _means(uc, skip, n)
    out["cycle_paid_ewm"] = _ratio(np.bincount(uc, weights=weight * share, minlength=n), every)
    out["cycle_paid_mean"] = _means(uc, share, n)
    groups = grid_code.max(initial=-1) + 1
    g, latest = grid_code[uc], rank == 0
    recent = _ratio(np.bincount(g[has & latest], weights=delay[has & latest], minlength=groups),
                    np.bincount(g[has & latest], minlength=groups).astype(np.float64))
    usual = _ratio(np.bincount(g[has], weights=delay[has], minlength=groups),
                   np.bincount(g[has], minlength=groups).astype(np.float64))
    latest_count = np.bincount(g[latest], minlength=groups).astype(np.float64)
    out["grid_cycle_delay_change"] = (recent - usual)[grid_code]
    out["grid_cycle_skip"] = _ratio(np.bincount(g[latest], weights=skip[latest], minlength=groups),
                                    latest_count)[grid_code]
    out["grid_cycle_paid"] = _ratio(np.bincount(g[latest], weights=share[latest], minlength=groups),
                                    latest_count)[grid_code]


# ---------------------------------------------------------------------------------------------- features

def build_features(frames: Frames | dict | Prepared, as_of, *, tz: str = DEFAULT_TZ) -> pd.DataFrame:
    """The FEATURES of every customer open at as_of, from what was known at the close of that business day.

    frames: a Frames, a mapping with the same keys, or prepare(frames, tz) to cut at many dates. Returns float64
    columns in FEATURES order, indexed by customer_id; NaN where a feature is undefined (e.g. no payment yet),
    which XGBoost treats as missing.
    """
    return features_and_positions(frames, as_of, tz=tz)[0]


def features_and_positions(frames: Frames | dict | Prepared, as_of, *,
                           tz: str = DEFAULT_TZ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """build_features and account_positions from one cut of the frames (scoring needs both)."""
    cut = _cut(_prepared(frames, tz), as_of)
    n, day = len(cut.ids), cut.day
    out: dict[str, np.ndarray] = {}
    b = cut.bills
    c = b["c"]
    due = b["due"]
    amount = b["amount"]

    # ---- what each known bill had been paid, and when it was fully paid
    pos, a_amount, a_day = cut.allocations["bill"], cut.allocations["amount"], cut.allocations["day"]
    paid = _int_sums(pos, a_amount, len(b["c"]))
    in_grace = a_day <= due[pos] + LATE_DAYS
    paid_in_grace = _int_sums(pos[in_grace], a_amount[in_grace], len(b["c"]))
    # allocation never gives a bill more than its amount, so a fully paid bill was paid off by its last allocation
    settled = paid >= amount
    settled_day = np.zeros(len(b["c"]), dtype=np.int64)     # day 0 (1970) stands for "no allocation"
    np.maximum.at(settled_day, pos, a_day)

    # ---- punctuality over the latest bills whose lateness is known
    evaluable = (amount > 0) & (settled | (due < day))
    late_days = np.where(settled, np.maximum(settled_day - due, 0), day - due).astype(np.float64)
    e = np.flatnonzero(evaluable)
    ec, edays = c[e], late_days[e]
    rank = _rank_latest_first(ec, due[e], b["issued"][e])
    last6, last12 = rank < 6, rank < 12
    partial = (paid_in_grace[e] > 0) & (paid_in_grace[e] < amount[e])
    out["late_days_mean_6"] = _means(ec, edays, n, last6)
    out["late_days_max_6"] = _maxima(ec, edays, n, last6)
    out["late30_share_6"] = _means(ec, (edays > LATE_DAYS).astype(float), n, last6)
    out["late_days_mean_12"] = _means(ec, edays, n, last12)
    out["late_days_max_12"] = _maxima(ec, edays, n, last12)
    out["late30_share_12"] = _means(ec, (edays > LATE_DAYS).astype(float), n, last12)
    out["late90_share_12"] = _means(ec, (edays > VERY_LATE_DAYS).astype(float), n, last12)
    out["late_share_12"] = _means(ec, (edays > 0).astype(float), n, last12)
    out["late_days_trend"] = _means(ec, edays, n, rank < 3) - _means(ec, edays, n, (rank >= 3) & last6)
    out["late30_count_all"] = _counts(ec, n, edays > LATE_DAYS)
    out["partial_share_12"] = _means(ec, partial.astype(float), n, last12)
    out["bills_known"] = _counts(ec, n)
    _state_features(out, cut, e, rank, edays, settled, settled_day, paid)

    # ---- arrears and payments
    positions = _positions(cut)
    outstanding = amount - paid
    overdue = (due < day) & (outstanding > 0)
    arrears = _int_sums(c[overdue], outstanding[overdue], n).astype(np.float64)
    oldest = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(oldest, c[overdue], due[overdue])
    month = b["month"]
    last_month = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last_month, c, month)
    bill_back = last_month[c] - month               # 0 for the customer's latest period
    avg_bill = _means(c, amount.astype(np.float64), n, bill_back < 12)
    out["arrears_fen"] = arrears
    out["arrears_age_days"] = np.where(arrears > 0, day - oldest, 0).astype(np.float64)
    out["arrears_to_avg_bill"] = np.where(arrears > 0, _ratio(arrears, avg_bill), 0.0)
    out["balance_fen"] = positions["balance_fen"].to_numpy(dtype=np.float64)
    pay_codes, pay_day = cut.payments["c"], cut.payments["day"]
    out["days_since_payment"] = day - _maxima(pay_codes, pay_day.astype(np.float64), n)
    if "channel" not in cut.frames.payments.columns:
        out["debit_share_12"] = np.full(n, np.nan)
    else:
        debit = cut.payments["debit"].astype(np.float64)
        out["debit_share_12"] = _means(pay_codes, debit, n, pay_day > day - 365)

    # ---- events
    ev = cut.frames.events
    counted = (("returned_12m", "returned_payment", 365), ("returned_3m", "returned_payment", 91),
               ("disconnections_12m", "disconnection", 365), ("theft_24m", "theft", 730),
               ("violation_24m", "violation", 730))
    if ev is not None and len(ev):
        ev_codes = cut.ids.get_indexer(ev["customer_id"])
        ev_day = dates_to_days(ev["occurred_on"])
        known = (ev_codes >= 0) & (ev_day <= day)
        kind = ev["kind"].to_numpy()
        for name, k, days in counted:
            out[name] = _counts(ev_codes, n, known & (kind == k) & (ev_day > day - days))
    else:
        for name, _k, _days in counted:
            out[name] = np.zeros(n)

    # ---- consumption, per customer and period (corrections of a period add up)
    kwh = b["kwh"]
    per = pd.DataFrame({"c": c, "month": month, "kwh": kwh})
    if pd.Series(c.astype(np.int64) * 100_000 + month).duplicated().any():
        per = per.groupby(["c", "month"], as_index=False, sort=False)["kwh"].sum()
    pc, pm, pk = per["c"].to_numpy(), per["month"].to_numpy(), per["kwh"].to_numpy()
    back = last_month[pc] - pm
    mean3 = _means(pc, pk, n, back < 3)
    out["avg_bill_fen_12"] = avg_bill
    out["kwh_mean_3"] = mean3
    out["kwh_trend_3v3"] = _ratio(mean3, _means(pc, pk, n, (back >= 3) & (back < 6)))
    out["kwh_yoy"] = _ratio(mean3, _means(pc, pk, n, (back >= 12) & (back < 15)))
    in12 = back < 12
    mean12 = _means(pc, pk, n, in12)
    var12 = _means(pc, pk * pk, n, in12) - mean12 * mean12
    out["kwh_cv_12"] = _ratio(np.sqrt(np.maximum(var12, 0.0)), mean12)
    out["zero_kwh_12"] = _counts(pc, n, in12 & (pk == 0))
    # peers: the median kWh of the same class and grid in the same period
    cls_code = pd.Categorical(cut.customers["customer_class"], categories=CLASSES).codes.astype(np.int64)
    grid_code, _ = pd.factorize(cut.customers["grid"])
    _cycle_features(out, cut, grid_code)
    span = int(pm.max(initial=0) - pm.min(initial=0)) + 1
    group = ((cls_code[pc] + 1) * (grid_code.max(initial=0) + 2) + grid_code[pc] + 1) * span + (pm - pm.min(initial=0))
    peer = pd.Series(pk).groupby(group).transform("median").to_numpy()    # one int key groups fastest
    relative = _ratio(pk, peer)
    ok = ~np.isnan(relative)
    out["kwh_peer_ratio"] = _means(pc, np.nan_to_num(relative), n, ok & (back < 3))
    out["kwh_peer_change"] = _ratio(out["kwh_peer_ratio"], _means(pc, np.nan_to_num(relative), n,
                                                                  ok & (back >= 3) & (back < 12)))

    # ---- security held against what is owed
    held = (positions["deposit_fen"] + positions["guarantee_fen"]).to_numpy(dtype=np.float64)
    owed = np.maximum(positions["balance_fen"].to_numpy(dtype=np.float64), 0.0) + np.nan_to_num(avg_bill)
    out["security_cover"] = held / np.maximum(owed, 1.0)

    # ---- the customer
    opened = pd.to_datetime(cut.customers["opened_on"])
    out["tenure_months"] = (day - dates_to_days(opened).astype(np.float64)) / 30.4375
    out["tenure_months"][pd.isna(opened).to_numpy()] = np.nan
    for i, name in enumerate(CLASSES):
        out[f"class_{name}"] = (cls_code == i).astype(np.float64)

    # ---- grid stress: the share of the grid's customers with a bill due in the window that they paid late
    edue = due[e]
    for name, lo, hi in (("now", day - 91, day), ("before", day - 182, day - 91)):
        window = (edue > lo) & (edue <= hi)
        had = _counts(ec, n, window) > 0
        late = _counts(ec, n, window & (edays > 0)) > 0
        share = _ratio(np.bincount(grid_code, weights=late, minlength=grid_code.max(initial=-1) + 1),
                       np.bincount(grid_code, weights=had, minlength=grid_code.max(initial=-1) + 1))
        out[f"grid_{name}"] = share[grid_code] if n else np.zeros(0)
    out["grid_late_share_3m"] = out.pop("grid_now")
    out["grid_late_share_change"] = out["grid_late_share_3m"] - out.pop("grid_before")
    # the grid's default rate on bills whose 30 days of grace ended by the as-of date
    window = (edue > day - 120) & (edue <= day - LATE_DAYS)
    had = _counts(ec, n, window) > 0
    missed = _counts(ec, n, window & (edays > LATE_DAYS)) > 0
    rate = _ratio(np.bincount(grid_code, weights=missed, minlength=grid_code.max(initial=-1) + 1),
                  np.bincount(grid_code, weights=had, minlength=grid_code.max(initial=-1) + 1))
    out["grid_default_rate"] = rate[grid_code] if n else np.zeros(0)

    frame = pd.DataFrame({name: out[name] for name in FEATURES}, index=pd.Index(cut.ids, name="customer_id"))
    return frame.astype(np.float64), positions
