"""Scoring every customer: pd, expected loss, rating and reasons, unchanged by anything dated after as-of."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring import score_customers
from tests.scoring.conftest import TRAIN_AT
from tests.scoring.test_features import truncate


def test_later_bills_payments_and_events_change_no_score(trained, demo):
    full = score_customers(trained.model, demo, TRAIN_AT)
    known = score_customers(trained.model, truncate(demo, TRAIN_AT), TRAIN_AT)
    pd.testing.assert_frame_equal(full, known)


def test_every_open_customer_gets_a_score_in_integer_fen(trained, demo):
    scores = score_customers(trained.model, demo, TRAIN_AT)
    assert list(scores.columns) == ["pd", "exposure_fen", "expected_loss_fen", "points", "rating", "reasons_zh",
                                    "reasons_en"]
    assert scores["expected_loss_fen"].dtype == np.int64 and scores["exposure_fen"].dtype == np.int64
    assert scores["pd"].between(0, 1).all()
    assert (scores["expected_loss_fen"] <= scores["exposure_fen"]).all()
    assert set(scores["rating"]) <= {"A", "B", "C"}
    top = scores.nlargest(50, "pd")
    assert top["reasons_en"].map(len).min() >= 1 and top["reasons_zh"].map(len).min() >= 1
