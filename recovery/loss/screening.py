"""The monthly suspect list's engine: pure, columnar, explainable (no database, no Flask).

Each customer with an area gets a score, the sum of the points of the evidence found (policy [loss] points), and
the evidence as stable reason codes, largest contribution first. Evidence that comes in degrees (a drop) earns its
points in proportion between `drop_from` and `drop_full`; the rest is all or nothing.

- drop_vs_history: the last `recent_months` against the same months a year before (so the season cancels out);
  without them, against the 6 months before, scaled by how the customer's peers moved over the same months.
  Customers using less than `min_base_kwh` a month before are not judged: there is too little to drop.
- drop_vs_peers: that ratio against the median ratio of the customer's peers (the area's customers of the same
  class, else the grid's, else the class's, the first with `min_peers`): a drop the peers share (a cold spell, a
  district's firms in trouble) is no evidence; a drop the peers do not share is.
- zero_while_active: billed 0 kWh for the month after using energy before. A month at zero is reported as this
  instead of also as drop_vs_history: one fact, counted once.
- off_season: the last 12 months do not follow the season of the peers (correlation with the peers' months, the
  customer left out, below `season_min_correlation`), where the peers' months vary enough to have a season.
- high_loss_area: the customer's area is flagged for the month (recovery.loss.rates).
- loss_rise_at_drop: the customer dropped (or went to zero) and the area's loss rate rose by `rise_points` or more
  over the same months. Energy a meter stops counting still passes the area meter, so theft raises the area's
  loss; a drop with no loss behind it is more likely a customer who really uses less (a vacant flat).
- past_theft, past_violation: such an event within `past_months` up to the month's end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recovery.loss.policy import REASONS, LossPolicy

BASE_MONTHS = 6  # the fallback baseline: the six months before the recent ones


@dataclass(frozen=True)
class ScreeningInput:
    """What the engine reads, for the customers with an area, in one order.

    customers: customer_id, code, area_id, customer_class, grid_id (one row per customer)
    kwh: (customers x periods) metered kWh billed, NaN where there is no bill; the last column is the month screened
    periods: the periods of kwh's columns, oldest first
    area_months: area_id, period, kwh_delivered (NaN without a reading), kwh_billed
    flagged_areas: ids of the areas flagged for the month
    past_theft, past_violation: per customer, whether such an event lies within the policy's look-back
    """

    customers: pd.DataFrame
    kwh: np.ndarray
    periods: list[str]
    area_months: pd.DataFrame
    flagged_areas: frozenset[int]
    past_theft: np.ndarray
    past_violation: np.ndarray


def _ramp(drop: np.ndarray, p: LossPolicy) -> np.ndarray:
    """0 below drop_from, 1 from drop_full, in proportion between; 0 where the drop is unknown."""
    out = np.clip((drop - p.drop_from) / (p.drop_full - p.drop_from), 0.0, 1.0)
    return np.where(np.isnan(out), 0.0, out)


def _window(kwh: np.ndarray, start: int, stop: int, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """Sums over columns [start, stop) and whether the window is complete with at least `floor` kWh a month."""
    if start < 0:
        n = kwh.shape[0]
        return np.full(n, np.nan), np.zeros(n, dtype=bool)
    part = kwh[:, start:stop]
    total = part.sum(axis=1)  # NaN where a month has no bill
    return total, ~np.isnan(total) & (total >= floor * (stop - start))


def _peer_keys(customers: pd.DataFrame, valid: np.ndarray, min_peers: int) -> np.ndarray:
    """Each customer's peer group: the area and class with min_peers valid members, else the grid and class,
    else the class (as one integer code per group)."""
    area = customers["area_id"].astype("int64").astype(str) + "/" + customers["customer_class"]
    grid = customers["grid_id"].astype("int64").astype(str) + "/" + customers["customer_class"]
    counted = pd.DataFrame({"area": area, "grid": grid, "valid": valid})
    in_area = counted.groupby("area")["valid"].transform("sum").to_numpy()
    in_grid = counted.groupby("grid")["valid"].transform("sum").to_numpy()
    key = np.where(in_area >= min_peers, "a" + area, np.where(in_grid >= min_peers, "g" + grid,
                                                             "c" + customers["customer_class"]))
    return pd.factorize(key)[0]


def _area_loss(area_months: pd.DataFrame, periods: list[str]) -> pd.Series:
    """Each area's loss rate over the given months together (NaN unless every month has a reading)."""
    part = area_months.loc[area_months["period"].isin(periods)]
    grouped = part.groupby("area_id").agg(d=("kwh_delivered", "sum"), b=("kwh_billed", "sum"),
                                          months=("kwh_delivered", "count"))
    rate = (grouped["d"] - grouped["b"]) / grouped["d"]
    return rate.where((grouped["months"] == len(periods)) & (grouped["d"] > 0))


def screen(data: ScreeningInput, p: LossPolicy) -> pd.DataFrame:
    """Score every customer: customer_id, code, score_tenths, reasons, and each reason's points, most suspect first
    (ties by customer code)."""
    c = data.customers.reset_index(drop=True)
    kwh = data.kwh
    n, width = kwh.shape
    r_months = p.recent_months
    floor = p.min_base_kwh

    recent, recent_ok = _window(kwh, width - r_months, width, 0.0)
    year_ago, year_ok = _window(kwh, width - 12 - r_months, width - 12, floor)
    before, before_ok = _window(kwh, width - r_months - BASE_MONTHS, width - r_months, floor)

    # The fallback's season: how the peers' consumption moved from the six months before to the recent ones.
    both = recent_ok & before_ok
    keys = _peer_keys(c, both, p.min_peers)
    moved = pd.DataFrame({"k": keys, "r": np.where(both, recent, 0.0), "b": np.where(both, before, 0.0)})
    sums = moved.groupby("k")[["r", "b"]].transform("sum")
    season = (sums["r"] / sums["b"].where(sums["b"] > 0)).to_numpy()
    year_ok &= year_ago > 0  # (a min_base_kwh of 0 would let an all-zero year through)
    ratio = np.divide(recent, year_ago, out=np.full(n, np.nan), where=recent_ok & year_ok)
    fallback = recent_ok & ~year_ok & before_ok & (before > 0) & (season > 0)
    expected = before * np.where(fallback, season, 1.0)
    ratio = np.divide(recent, expected, out=ratio, where=fallback)
    judged = ~np.isnan(ratio)

    last = kwh[:, -1]
    zero = (last == 0) & (year_ok | before_ok)
    strength = {k: np.zeros(n) for k in REASONS}
    strength["zero_while_active"] = zero.astype(float)
    strength["drop_vs_history"] = np.where(zero, 0.0, _ramp(1.0 - ratio, p))

    peer_keys = _peer_keys(c, judged, p.min_peers)
    peer_ratio = pd.Series(ratio).groupby(peer_keys).transform("median").to_numpy()
    relative = np.where(judged & (peer_ratio > 0), ratio / np.where(peer_ratio > 0, peer_ratio, 1.0), np.nan)
    strength["drop_vs_peers"] = _ramp(1.0 - relative, p)

    if width >= 12:
        strength["off_season"] = _off_season(kwh[:, -12:], c, p).astype(float)

    area = c["area_id"].to_numpy(dtype="int64")
    strength["high_loss_area"] = np.isin(area, list(data.flagged_areas)).astype(float)

    dropped = zero | (strength["drop_vs_history"] > 0)
    recent_periods = data.periods[-r_months:]
    rise = pd.Series(np.nan, index=range(n))
    for ok, base_periods in ((year_ok, data.periods[width - 12 - r_months: width - 12] if width >= 12 + r_months
                              else []),
                             (~year_ok & before_ok, data.periods[width - r_months - BASE_MONTHS: width - r_months]
                              if width >= r_months + BASE_MONTHS else [])):
        if not base_periods:
            continue
        by_area = _area_loss(data.area_months, recent_periods) - _area_loss(data.area_months, base_periods)
        rise = rise.where(~ok, pd.Series(area).map(by_area))
    strength["loss_rise_at_drop"] = (dropped & (rise.to_numpy(dtype=float) >= p.rise_points)).astype(float)

    strength["past_theft"] = data.past_theft.astype(float)
    strength["past_violation"] = data.past_violation.astype(float)

    points = np.column_stack([strength[k] * p.points[k] for k in REASONS])
    score_tenths = np.floor(points.sum(axis=1) * 10 + 0.5).astype("int64")
    out = pd.DataFrame({"customer_id": c["customer_id"].to_numpy(), "code": c["code"].to_numpy(),
                        "score_tenths": score_tenths, "reasons": _reason_texts(points)})
    for i, k in enumerate(REASONS):
        out[k] = points[:, i]
    return out.sort_values(["score_tenths", "code"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _off_season(year: np.ndarray, c: pd.DataFrame, p: LossPolicy) -> np.ndarray:
    """Whether the last 12 months fail to follow the peers' season (see the module's docstring)."""
    complete = ~np.isnan(year).any(axis=1) & (np.nan_to_num(year).mean(axis=1) >= p.min_base_kwh)
    keys = _peer_keys(c, complete, p.min_peers)
    rows = np.where(complete[:, None], year, 0.0)
    group = pd.DataFrame(rows).groupby(keys).transform("sum").to_numpy()
    members = pd.Series(complete).groupby(keys).transform("sum").to_numpy()
    peers = group - rows  # the peers' months, the customer left out
    enough = complete & (members - 1 >= p.min_peers - 1)  # the customer's peers, the customer left out
    mean = peers.mean(axis=1, keepdims=True)
    variation = np.divide(peers.std(axis=1), mean[:, 0], out=np.zeros(len(peers)), where=mean[:, 0] > 0)
    pc = peers - mean
    xc = rows - rows.mean(axis=1, keepdims=True)
    denominator = np.sqrt((xc ** 2).sum(axis=1) * (pc ** 2).sum(axis=1))
    corr = np.divide((xc * pc).sum(axis=1), denominator, out=np.zeros(len(rows)), where=denominator > 0)
    return enough & (variation >= p.season_min_variation) & (corr < p.season_min_correlation)


def _reason_texts(points: np.ndarray) -> np.ndarray:
    """Each row's reasons with points, `;`-separated, largest contribution first (ties in REASONS order)."""
    n = len(points)
    order = np.argsort(-points, axis=1, kind="stable")
    ranked = np.take_along_axis(points, order, axis=1)
    codes = np.array(REASONS, dtype=object)[order]
    text = np.full(n, "", dtype=object)
    for k in range(len(REASONS)):
        has = ranked[:, k] > 0
        if not has.any():
            break
        sofar = text[has]
        text[has] = np.where(sofar == "", codes[has, k], sofar + ";" + codes[has, k])
    return text


def format_score(tenths: int) -> str:
    """Points in tenths as the list shows them: 765 -> '76.5'."""
    return f"{tenths // 10}.{tenths % 10}"
