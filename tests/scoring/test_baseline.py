"""The rule-based credit points beside the model: the documented rule, ratings where they exist, a fitted pd map."""

from __future__ import annotations

import pandas as pd
import pytest

from scoring import PointsBaseline, PointsRule, build_features, credit_points, grades, rule_points
from tests.scoring.tiny import AS_OF, tiny_frames


@pytest.fixture(scope="module")
def tiny() -> pd.DataFrame:
    return build_features(tiny_frames(), AS_OF)


def test_the_documented_rule_on_the_tiny_grid(tiny):
    points = rule_points(tiny)
    # C1, last 8 bills: one 1-30 days late (−2), three 31-90 (−15); one returned payment (−8); oldest arrears
    # 42 days (−5); theft: −30 and never above grade C
    assert points["C1"] == min(100 - 2 - 15 - 8 - 5 - 30, 69)
    assert points["C2"] == 100
    assert grades(points).to_dict() == {"C1": "C", "C2": "A", "C3": "A"}


def test_new_customers_start_at_grade_b_and_theft_caps_at_c(tiny):
    young = tiny.assign(tenure_months=5.0)
    assert rule_points(young)["C2"] == 85
    thief = tiny.assign(theft_24m=1.0)
    assert rule_points(thief)["C2"] == 69 and grades(rule_points(thief))["C2"] == "C"
    assert rule_points(tiny, PointsRule(theft=0.0, theft_cap=100.0))["C1"] == 100 - 2 - 15 - 8 - 5


def test_ratings_from_the_credit_domain_take_precedence_as_of_their_date(tiny):
    rating = pd.DataFrame({"customer_id": ["C2", "C2"], "grade": ["B", "C"], "points": [80, 60],
                           "rated_on": pd.to_datetime(["2025-10-01", "2025-12-01"])})
    points = credit_points(tiny, rating, as_of=AS_OF)
    assert points["C2"] == 80                           # the December rating did not exist yet
    assert points["C3"] == 100                          # unrated customers fall back to the rule


def test_fewer_points_mean_a_higher_probability_of_default():
    points = pd.Series([100, 100, 95, 90, 60, 40, 100, 30, 85, 100] * 10)
    y = (points < 70).astype(int)
    y.iloc[0] = 1
    baseline = PointsBaseline().fit(points, y)
    p = baseline.predict_proba(pd.Series([40, 70, 100]))[:, 1]
    assert p[0] > p[1] > p[2]
    assert PointsBaseline.from_json(baseline.to_json()).predict_proba(points).tolist() == \
        baseline.predict_proba(points).tolist()


def test_past_windows_use_only_ratings_that_existed_then(demo):
    import dataclasses

    from scoring import stack_windows
    some = demo.customers["customer_id"].iloc[:50]
    undated = pd.DataFrame({"customer_id": some, "grade": "C", "points": 42.5})   # the rule gives whole points
    w = stack_windows(dataclasses.replace(demo, rating=undated), ["2025-11-11"])
    assert (w.points != 42.5).all()                    # today's undated ratings are not known in the past
    dated = undated.assign(rated_on=pd.Timestamp("2025-06-01"))
    w = stack_windows(dataclasses.replace(demo, rating=dated), ["2025-11-11"])
    rated = w.points.index.get_level_values("customer_id").isin(some)
    assert (w.points[rated] == 42.5).all() and (w.points[~rated] != 42.5).all()
