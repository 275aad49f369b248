"""The arrears-risk engine: features, labels, model, baseline, evaluation, reasons, expected loss and drift.

Pure: it takes pandas frames in and gives frames, arrays and JSON-ready dicts out. It imports neither Flask,
SQLAlchemy nor `recovery`, and never touches a database or the clock (see tests/scoring/test_purity.py).
"""

from scoring.baseline import PointsBaseline, PointsRule, credit_points, grades, rule_points
from scoring.drift import psi, reference_bins, stale
from scoring.evaluate import compare, metrics
from scoring.explain import reasons
from scoring.features import FEATURES, account_positions, build_features
from scoring.frames import Frames
from scoring.labels import default_labels, default_outcomes
from scoring.loss import expected_loss_fen, exposure_fen
from scoring.model import ArrearsModel
from scoring.scores import score_customers
from scoring.training import TrainingResult, evaluate_window, rolling_origins, stack_windows, train

__all__ = [
    "FEATURES", "ArrearsModel", "Frames", "PointsBaseline", "PointsRule", "TrainingResult", "account_positions",
    "build_features", "compare", "credit_points", "default_labels", "default_outcomes", "evaluate_window",
    "expected_loss_fen", "exposure_fen", "grades", "metrics", "psi", "reasons", "reference_bins", "rolling_origins",
    "rule_points", "score_customers", "stack_windows", "stale", "train",
]
