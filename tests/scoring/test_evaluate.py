"""Metrics: ranking, probability quality, capture of defaulters and of defaulted amount, all JSON-ready."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scoring import compare, metrics


def test_a_perfect_ranking():
    y = np.r_[np.ones(10), np.zeros(90)]
    m = metrics(y, np.r_[np.full(10, 0.9), np.full(90, 0.05)])
    assert m["roc_auc"] == 1 and m["pr_auc"] == 1
    assert m["capture_10"] == 1 and m["lift_10"] == pytest.approx(10)
    assert m["capture_20"] == 1 and m["lift_20"] == pytest.approx(5)


def test_ties_at_the_cut_off_are_shared_pro_rata():
    y = np.r_[np.ones(10), np.zeros(90)]
    assert metrics(y, np.full(100, 0.1))["capture_10"] == pytest.approx(0.1)
    # 5 certain defaulters on top, then 20 tied customers holding the other 5: the top 10 take a quarter of those
    score = np.r_[np.full(5, 0.9), np.full(20, 0.5), np.full(75, 0.1)]
    y = np.r_[np.ones(10), np.zeros(90)]
    assert metrics(y, score)["capture_10"] == pytest.approx((5 + 5 * 5 / 20) / 10)


def test_amount_capture_weights_by_the_defaulted_amount():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    amount = np.array([9_000, 1_000, 0, 0, 0, 0, 0, 0, 0, 0])
    m = metrics(y, np.array([0.9, 0.1, 0.8, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05]), amount=amount)
    assert m["capture_10"] == pytest.approx(0.5)
    assert m["amount_capture_10"] == pytest.approx(0.9)


def test_brier_log_loss_and_calibration_table():
    rng = np.random.default_rng(0)
    p = rng.random(10_000)
    y = (rng.random(10_000) < p).astype(int)
    m = metrics(y, p)
    assert m["brier"] == pytest.approx(np.mean((p - y) ** 2))
    assert m["calibration_error"] < 0.03                 # outcomes drawn from the probabilities themselves
    assert [r["bin"] for r in m["calibration"]] == list(range(1, 11))
    assert sum(r["n"] for r in m["calibration"]) == 10_000


def test_a_bare_score_gets_ranking_metrics_only():
    m = metrics([1, 0, 1, 0], [7.0, 1.0, 3.0, 2.0])
    assert m["roc_auc"] == 1 and m["brier"] is None and m["log_loss"] is None


def test_compare_is_json_serialisable():
    y = np.array([1, 0, 0, 1, 0])
    out = compare(y, np.array([0.8, 0.1, 0.2, 0.7, 0.3]), np.array([0.5, 0.5, 0.4, 0.6, 0.2]), amount=y * 100)
    assert set(out) == {"model", "baseline"}
    json.dumps(out, allow_nan=False)
