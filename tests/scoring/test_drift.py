"""Population stability: near zero for the same distribution, large for a shifted one, and JSON to keep."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from scoring import psi, reference_bins, stale


def _frame(rng: np.random.Generator, n: int, shift: float = 0.0) -> pd.DataFrame:
    mostly_zero = np.where(rng.random(n) < 0.9, 0.0, rng.integers(1, 4, n))
    with_gaps = np.where(rng.random(n) < 0.2, np.nan, rng.exponential(1.0, n))
    return pd.DataFrame({"level": rng.normal(shift, 1.0, n), "events": mostly_zero, "ratio": with_gaps})


def test_the_same_distribution_is_stable():
    rng = np.random.default_rng(1)
    values = psi(_frame(rng, 20_000), _frame(rng, 20_000))
    assert (values < 0.01).all()
    assert stale(values) == []


def test_a_shifted_feature_is_named_stale():
    rng = np.random.default_rng(2)
    train, today = _frame(rng, 20_000), _frame(rng, 20_000, shift=1.0)
    values = psi(train, today)
    assert values["level"] > 0.25 and values["events"] < 0.01
    assert stale(values) == ["level"]


def test_more_missing_values_count_as_drift():
    rng = np.random.default_rng(3)
    train, today = _frame(rng, 10_000), _frame(rng, 10_000)
    today.loc[today.index[:4_000], "ratio"] = np.nan
    assert psi(train, today)["ratio"] > 0.25


def test_the_reference_is_json_and_gives_the_same_psi_as_the_training_frame():
    rng = np.random.default_rng(4)
    train, today = _frame(rng, 5_000), _frame(rng, 5_000, shift=0.3)
    reference = json.loads(json.dumps(reference_bins(train)))
    pd.testing.assert_series_equal(psi(reference, today), psi(train, today))
    assert len(reference["events"]["edges"]) < 9          # repeated quantile edges merge


def test_demo_features_drift_little_from_one_month_to_the_next(demo):
    from scoring import build_features
    values = psi(build_features(demo, "2025-10-11"), build_features(demo, "2025-11-11"))
    assert values.median() < 0.05
