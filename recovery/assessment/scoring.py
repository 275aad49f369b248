"""From measured values to points, the 100-point score, the pay factor and the yearly score (pure:
frames and numbers in, frames and numbers out; the policy says the weights, floors and targets)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd


def fraction(value: pd.Series, floor: pd.Series | Decimal, target: pd.Series | Decimal) -> pd.Series:
    """How far each value went from the floor to the target, clamped to [0, 1]; NaN where unmeasured.

    A target below its floor means lower is better (receivables, breaks): the same formula covers it.
    """
    floor = floor.astype("float64") if isinstance(floor, pd.Series) else float(floor)
    target = target.astype("float64") if isinstance(target, pd.Series) else float(target)
    return ((value.astype("float64") - floor) / (target - floor)).clip(0, 1)


def score(frame: pd.DataFrame, measures: dict[str, dict], targets: dict[str, pd.Series] | None = None) -> pd.DataFrame:
    """Add `<measure>_points` for each measure (weight x fraction) and `score` out of 100.

    `frame` holds a column per measure with its value (NaN where there was nothing to measure: no
    promise fell due, no customer was in arrears). The score is the points over the measures that
    could be measured, scaled to 100, so an officer is not marked down for what did not happen.
    `targets` gives per-row targets for some measures (the grids' recovery targets).
    """
    targets = targets or {}
    out = frame.copy()
    earned = pd.Series(0.0, index=frame.index)
    possible = pd.Series(0.0, index=frame.index)
    for name, m in measures.items():
        frac = fraction(out[name], m["floor"], targets.get(name, m["target"]))
        out[f"{name}_points"] = (frac * m["weight"]).round(2)
        measured = frac.notna()
        earned += (frac * m["weight"]).where(measured, 0.0)
        possible += pd.Series(float(m["weight"]), index=frame.index).where(measured, 0.0)
    out["score"] = (earned * 100 / possible.replace(0, np.nan)).round(2)
    return out


def pay_factor(score_: pd.Series, scheme: dict) -> pd.Series:
    """The pay factor of each score: 1 at `full_at` or more, score/100 from `proportional_from`, `below` under it."""
    full, start, below = float(scheme["full_at"]), float(scheme["proportional_from"]), float(scheme["below"])
    s = score_.astype("float64")
    factor = np.where(s >= full, 1.0, np.where(s >= start, s / 100.0, below))
    return pd.Series(factor, index=score_.index).where(s.notna()).round(4)


def yearly(monthly: pd.DataFrame, quarterly: pd.DataFrame, monthly_weight: Decimal,
           quarterly_weight: Decimal) -> pd.Series:
    """The yearly score per key: the weighted blend of the mean monthly and the mean quarterly score.

    `monthly` and `quarterly` have columns key, score (one row per key and period). Where a key has
    only one kind of score, that kind's mean is its yearly score.
    """
    m = monthly.groupby("key")["score"].mean()
    q = quarterly.groupby("key")["score"].mean()
    both = pd.concat([m.rename("m"), q.rename("q")], axis=1)
    blended = both["m"] * float(monthly_weight) + both["q"] * float(quarterly_weight)
    return blended.fillna(both["m"]).fillna(both["q"]).round(2).rename("yearly_score")


def score_parts(frame: pd.DataFrame, measures: dict[str, dict], parts: dict[str, int]) -> pd.DataFrame:
    """Add `<measure>_points`, `<part>_part` (the points each part earned) and `score` out of 100, for a score
    in parts (agents and distributors: volume and service quality).

    A part earns its share times the weighted fraction of its measures that could be measured; a measure's
    points are its part's share times its weight within the part times its fraction. What could not be
    measured is left out as in `score`: a part with nothing measured is left out of the score, and a part's
    unmeasured measures leave their weight to the others of the part.
    """
    out = frame.copy()
    earned = pd.Series(0.0, index=frame.index)
    possible = pd.Series(0.0, index=frame.index)
    for part, share in parts.items():
        mine = {name: m for name, m in measures.items() if m["part"] == part}
        total = sum(m["weight"] for m in mine.values())
        got = pd.Series(0.0, index=frame.index)
        could = pd.Series(0.0, index=frame.index)
        for name, m in mine.items():
            frac = fraction(out[name], m["floor"], m["target"])
            out[f"{name}_points"] = (frac * share * m["weight"] / total).round(2)
            measured = frac.notna()
            got += (frac * m["weight"]).where(measured, 0.0)
            could += pd.Series(float(m["weight"]), index=frame.index).where(measured, 0.0)
        part_fraction = got / could.replace(0, np.nan)
        out[f"{part}_part"] = (part_fraction * share).round(2)
        earned += (part_fraction * share).fillna(0.0)
        possible += pd.Series(float(share), index=frame.index).where(part_fraction.notna(), 0.0)
    out["score"] = (earned * 100 / possible.replace(0, np.nan)).round(2)
    return out
