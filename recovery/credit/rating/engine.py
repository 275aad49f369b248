"""The rating rules, pure: frames and a policy in, ratings, demerits and the hard rules that applied out.

No database, no application: `compute(inputs, day, policy)` runs the same in a job, a script or a Dask
worker. The service (recovery.credit.rating.ratings) loads the inputs and the [rating] section in force, and
stores what changed; the module's own doc there says what counts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pandas as pd

RATING_COLUMNS = ["points", "points_grade", "grade", "cash_only", "upgrade_blocked"]


@dataclasses.dataclass(frozen=True)
class Band:
    grade: str
    min_points: int


@dataclasses.dataclass(frozen=True)
class Rule:
    """A hard rule: an event of `event` within `within_months` caps the grade and/or blocks upgrades."""

    event: str
    within_months: int
    cap: str | None
    block_upgrade: bool


@dataclasses.dataclass(frozen=True)
class RatingPolicy:
    scale_min: int
    scale_max: int
    start: int
    new_customer_start: int
    new_customer_months: int
    bands: tuple[Band, ...]  # best first
    late_bands: tuple[tuple[int, int], ...]  # (min days late, points), ascending
    late_lifetime_months: int
    missed_after_days: int
    demerits: dict[str, tuple[int, int]]  # kind -> (points, lifetime months)
    rules: tuple[Rule, ...]
    arrears_block_months: int
    cash_only_returns: int
    cash_only_window_months: int
    override_max_days: int

    @classmethod
    def of(cls, data: dict) -> RatingPolicy:
        """The policy from a loaded [rating] section."""
        return cls(
            scale_min=data["scale_min"], scale_max=data["scale_max"], start=data["start"],
            new_customer_start=data["new_customer_start"], new_customer_months=data["new_customer_months"],
            bands=tuple(Band(b["grade"], b["min"]) for b in data["bands"]),
            late_bands=tuple((b["min_days"], b["points"]) for b in data["late_payment"]),
            late_lifetime_months=data["late_payment_lifetime_months"],
            missed_after_days=data["missed_bill_after_days"],
            demerits={k: (v["points"], v["lifetime_months"]) for k, v in data["demerits"].items()},
            rules=tuple(Rule(r["event"], r["within_months"], r["cap"], r["block_upgrade"]) for r in data["rules"]),
            arrears_block_months=data["arrears_block_months"], cash_only_returns=data["cash_only_returns"],
            cash_only_window_months=data["cash_only_window_months"], override_max_days=data["override_max_days"],
        )

    def grade_of(self, points: int) -> str:
        """The band a number of points falls in."""
        for band in self.bands:
            if points >= band.min_points:
                return band.grade
        return self.bands[-1].grade

    @property
    def grades(self) -> list[str]:
        """Grades best first."""
        return [b.grade for b in self.bands]

    @property
    def starting_grade(self) -> str:
        """The grade of a customer never rated: the new customer's starting points."""
        return self.grade_of(self.new_customer_start)

    @property
    def longest_lookback_months(self) -> int:
        """How far back any demerit or rule can reach."""
        return max([self.late_lifetime_months, self.cash_only_window_months, 12,
                    *(life for _p, life in self.demerits.values()), *(r.within_months for r in self.rules)])


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
