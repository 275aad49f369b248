"""The rule-based credit-points baseline that every evaluation shows beside the model.

Where the credit domain supplies ratings, their points are used. Otherwise the documented points rule
below is applied to the same features the model sees (so it is cut at the same as-of date):

    start at 100 (accounts younger than 12 months start at 85: new customers start at grade B)
    −2 per bill of the last 12 paid 1–30 days late
    −5 per bill of the last 12 paid 31–90 days late
    −10 per bill of the last 12 paid over 90 days late or still unpaid that long
    −8 per returned payment in the last 12 months
    −5 per disconnection for arrears in the last 12 months
    −5 / −10 / −20 when the oldest overdue bill is over 30 / 60 / 90 days past due
    −10 per violation in the last 24 months
    theft in the last 24 months: −30, and never above grade C (69)
    clipped to 0–100; grades A ≥ 90, B 70–89, C < 70

The points are turned into a probability by a one-variable logistic fit (Platt) on the training
windows, so that the baseline's Brier score and log loss are comparable with the model's.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression


@dataclasses.dataclass(frozen=True)
class PointsRule:
    """The scale, demerits and bands of the points rule: configuration, not code."""

    start: float = 100.0
    new_customer_start: float = 85.0
    new_customer_months: float = 12.0
    late_1_30: float = 2.0
    late_31_90: float = 5.0
    late_over_90: float = 10.0
    returned: float = 8.0
    disconnection: float = 5.0
    arrears_30: float = 5.0
    arrears_60: float = 10.0
    arrears_90: float = 20.0
    violation: float = 10.0
    theft: float = 30.0
    theft_cap: float = 69.0
    grade_a: float = 90.0
    grade_b: float = 70.0


DEFAULT_RULE = PointsRule()


def rule_points(features: pd.DataFrame, rule: PointsRule = DEFAULT_RULE) -> pd.Series:
    """Credit points by the documented rule, from a build_features frame."""
    f = features
    n12 = np.minimum(f["bills_known"], 12)
    late = np.rint(f["late_share_12"].fillna(0) * n12)
    late30 = np.rint(f["late30_share_12"].fillna(0) * n12)
    late90 = np.rint(f["late90_share_12"].fillna(0) * n12)
    new = f["tenure_months"].fillna(np.inf) < rule.new_customer_months
    points = np.where(new, rule.new_customer_start, rule.start).astype(np.float64)
    points -= rule.late_1_30 * (late - late30) + rule.late_31_90 * (late30 - late90) + rule.late_over_90 * late90
    points -= rule.returned * f["returned_12m"] + rule.disconnection * f["disconnections_12m"]
    age = f["arrears_age_days"]
    points -= np.select([age > 90, age > 60, age > 30], [rule.arrears_90, rule.arrears_60, rule.arrears_30], 0.0)
    points -= rule.violation * f["violation_24m"]
    theft = f["theft_24m"] > 0
    points = np.where(theft, np.minimum(points - rule.theft, rule.theft_cap), points)
    return pd.Series(np.clip(points, 0.0, 100.0), index=features.index, name="points")


def grades(points: pd.Series, rule: PointsRule = DEFAULT_RULE) -> pd.Series:
    """A / B / C from points."""
    grade = np.where(points >= rule.grade_a, "A", np.where(points >= rule.grade_b, "B", "C"))
    return pd.Series(grade, index=points.index, name="grade")


def credit_points(features: pd.DataFrame, rating: pd.DataFrame | None = None, *, as_of=None,
                  rule: PointsRule = DEFAULT_RULE) -> pd.Series:
    """Points per customer: the credit domain's rating where present, else the points rule.

    rating: customer_id, points, optional rated_on. With rated_on, the latest rating on or before as_of is
    used (so past windows see past ratings); without it the ratings are taken as known at as_of.
    """
    points = rule_points(features, rule)
    if rating is None or rating.empty:
        return points
    r = rating
    if "rated_on" in r.columns and as_of is not None:
        r = r.loc[pd.to_datetime(r["rated_on"]) <= pd.Timestamp(as_of)].sort_values("rated_on")
    latest = r.drop_duplicates("customer_id", keep="last").set_index("customer_id")["points"].astype(np.float64)
    rated = latest.reindex(points.index)
    return rated.fillna(points).rename("points")


class PointsBaseline(BaseEstimator):
    """Maps credit points to a probability of default with a one-variable logistic fit (fewer points, more risk)."""

    def fit(self, points: pd.Series | np.ndarray, y) -> PointsBaseline:
        """Fit the points-to-probability map on training windows."""
        x = np.asarray(points, dtype=np.float64).reshape(-1, 1)
        lr = LogisticRegression(C=np.inf).fit(x, np.asarray(y, dtype=np.int64))
        self.coef_ = float(lr.coef_[0, 0])
        self.intercept_ = float(lr.intercept_[0])
        return self

    def predict_proba(self, points: pd.Series | np.ndarray) -> np.ndarray:
        """Probabilities, shape (n, 2): column 1 is the probability of default."""
        if not hasattr(self, "coef_"):
            raise NotFittedError("This PointsBaseline is not fitted yet")
        x = np.asarray(points, dtype=np.float64)
        p = 1.0 / (1.0 + np.exp(-(self.coef_ * x + self.intercept_)))
        return np.column_stack([1.0 - p, p])

    def to_json(self) -> dict:
        """The fitted map, for a manifest."""
        return {"coef": self.coef_, "intercept": self.intercept_}

    @classmethod
    def from_json(cls, saved: dict) -> PointsBaseline:
        """A fitted baseline from to_json's output."""
        baseline = cls()
        baseline.coef_ = float(saved["coef"])
        baseline.intercept_ = float(saved["intercept"])
        return baseline
