"""Rolling-origin training: several past as-of dates stacked, validated on the latest complete window.

For a model trained with what is known at `as_of`, a window's labels are complete once its horizon and
grace have passed (origin + 60 + 30 days). The validation origin is the latest complete one,
as_of − 90 days. Training origins fall on the same day of the month as as_of (the last day where a
month is shorter), the latest one whose labels are complete by the validation origin, then monthly
back: a training label never looks past the validation origin, so no bill the validation window asks
about is also a training target (time-based validation, never random, purged of overlap). Bills come
monthly, so a training window then stands where the scored customers stand in their billing month
(the latest bill as old, the latest closed cycle as recent), and what a feature means at one day of
the month is learnt from that day of other months.

Each window is one row per customer with a bill due in its horizon: features at the origin, label
after it. The validation window drives early stopping and the calibration of the model, and fits
nothing else; the points baseline is fitted on the training windows and both are reported on the
validation window. For a figure nothing was tuned on, evaluate_window on a later origin.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import itertools
import os
import pathlib

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from scoring.baseline import DEFAULT_RULE, PointsBaseline, PointsRule, credit_points
from scoring.drift import reference_bins
from scoring.evaluate import compare, metrics
from scoring.features import build_features, prepare
from scoring.frames import DEFAULT_TZ, Frames
from scoring.labels import GRACE_DAYS, HORIZON_DAYS, default_outcomes
from scoring.model import ArrearsModel


def rolling_origins(as_of, *, windows: int = 6, step_months: int = 1, horizon_days: int = HORIZON_DAYS,
                    grace_days: int = GRACE_DAYS) -> tuple[list[datetime.date], datetime.date]:
    """(training origins oldest first, validation origin) for a model trained on what is known at as_of."""
    if windows < 1 or step_months < 1:
        raise ValueError("windows and step_months must be at least 1")
    span = pd.Timedelta(days=horizon_days + grace_days)
    at = pd.Timestamp(as_of).normalize()
    validation = at - span
    back = 1                                        # whole months back to the latest complete training origin
    while at - pd.DateOffset(months=back) > validation - span:
        back += 1
    origins = [(at - pd.DateOffset(months=back + step_months * i)).date() for i in reversed(range(windows))]
    return origins, validation.date()


@dataclasses.dataclass(frozen=True)
class Windows:
    """Stacked windows: features X indexed by (origin, customer_id), label y, defaulted amount, credit points."""

    X: pd.DataFrame
    y: pd.Series
    unpaid_fen: pd.Series
    points: pd.Series

    def split(self, origin) -> tuple[Windows, Windows]:
        """(the windows before origin, the window at origin)."""
        at = self.X.index.get_level_values("origin") == pd.Timestamp(origin).date()
        parts = [Windows(X=self.X[rows], y=self.y[rows], unpaid_fen=self.unpaid_fen[rows], points=self.points[rows])
                 for rows in (~at, at)]
        return parts[0], parts[1]


def stack_windows(frames: Frames | dict, origins: list, *, horizon_days: int = HORIZON_DAYS,
                  grace_days: int = GRACE_DAYS, tz: str = DEFAULT_TZ, rule: PointsRule = DEFAULT_RULE) -> Windows:
    """Features at each origin joined to the outcomes after it, for customers with a bill due in its horizon.

    The caller makes sure each origin's labels are complete in frames (origin + horizon + grace is past).
    Credit ratings are used only when they carry rated_on, so that each window sees the ratings of its time.
    """
    frames = Frames.of(frames)
    # a rating without rated_on cannot be placed in time: past windows use the points rule instead
    rating = frames.rating if frames.rating is not None and "rated_on" in frames.rating.columns else None
    prepared = prepare(frames, tz) if len(origins) > 1 else frames      # dates and keys read once for every window

    def window(origin) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
        features = build_features(prepared, origin, tz=tz)
        outcomes = default_outcomes(frames.bills, frames.allocations, origin, horizon_days, grace_days, tz=tz)
        outcomes = outcomes.loc[outcomes.index.isin(features.index)]
        features = features.loc[outcomes.index]
        points = credit_points(features, rating, as_of=origin, rule=rule)
        key = pd.MultiIndex.from_arrays([np.full(len(features), pd.Timestamp(origin).date(), dtype=object),
                                         features.index], names=["origin", "customer_id"])
        return features.set_axis(key), outcomes.set_axis(key), points.set_axis(key)

    # the windows only read the frames, and numpy works outside the interpreter's lock: one thread per core
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(len(origins), os.cpu_count() or 1))) as pool:
        parts = list(pool.map(window, origins))
    X = pd.concat([p[0] for p in parts])
    outcomes = pd.concat([p[1] for p in parts])
    return Windows(X=X, y=outcomes["default"], unpaid_fen=outcomes["unpaid_fen"],
                   points=pd.concat([p[2] for p in parts]))


@dataclasses.dataclass
class TrainingResult:
    """A trained model with its baseline, its validation figures and what the manifest needs."""

    model: ArrearsModel
    baseline: PointsBaseline
    evaluation: dict
    as_of: datetime.date
    training_origins: list[datetime.date]
    validation_origin: datetime.date
    horizon_days: int
    grace_days: int
    drift_reference: dict

    @property
    def training_window(self) -> dict:
        """The dates the model learnt from, as JSON."""
        return {"as_of": self.as_of.isoformat(), "training_origins": [o.isoformat() for o in self.training_origins],
                "validation_origin": self.validation_origin.isoformat(),
                "horizon_days": self.horizon_days, "grace_days": self.grace_days}

    def save(self, directory: str | pathlib.Path) -> pathlib.Path:
        """Save the model with a manifest holding the window, metrics, baseline map and drift reference."""
        return self.model.save(directory, training_window=self.training_window, metrics=self.evaluation,
                               extra={"baseline": self.baseline.to_json(), "drift_reference": self.drift_reference})


def train(frames: Frames | dict, as_of, *, model: ArrearsModel | None = None, windows: int = 6,
          step_months: int = 1, horizon_days: int = HORIZON_DAYS, grace_days: int = GRACE_DAYS,
          tz: str = DEFAULT_TZ, rule: PointsRule = DEFAULT_RULE, tune: bool | dict = False) -> TrainingResult:
    """Fit a model (a clone of `model`, default ArrearsModel()) on rolling origins known at as_of; evaluate both.

    tune: first choose hyperparameters by time-based cross-validation (search(); a dict is the grid); the
    search's table is kept in the evaluation.
    """
    frames = Frames.of(frames)
    tuned = None
    if tune:
        tuned = search(frames, as_of, model=model, grid=tune if isinstance(tune, dict) else None, windows=windows,
                       step_months=step_months, horizon_days=horizon_days, grace_days=grace_days, tz=tz)
        model = clone(model if model is not None else ArrearsModel()).set_params(**tuned["best"])
    origins, validation = rolling_origins(as_of, windows=windows, step_months=step_months,
                                          horizon_days=horizon_days, grace_days=grace_days)
    options = {"horizon_days": horizon_days, "grace_days": grace_days, "tz": tz, "rule": rule}
    both = stack_windows(frames, [*origins, validation], **options)     # one reading of the frames for all
    fit_on, val = both.split(validation)
    estimator = clone(model) if model is not None else ArrearsModel()
    estimator.fit(fit_on.X, fit_on.y.to_numpy(), eval_set=(val.X, val.y.to_numpy()))
    baseline = PointsBaseline().fit(fit_on.points, fit_on.y)
    evaluation = {
        "window": {"origin": validation.isoformat(), "kind": "validation"},
        "training": {"origins": [o.isoformat() for o in origins], "rows": len(fit_on.X),
                     "defaulters": int(fit_on.y.sum()), "trees": estimator.best_iteration_ + 1},
        **compare(val.y, estimator.predict_proba(val.X)[:, 1], baseline.predict_proba(val.points)[:, 1],
                  amount=val.unpaid_fen),
    }
    if tuned is not None:
        evaluation["search"] = tuned
    return TrainingResult(model=estimator, baseline=baseline, evaluation=evaluation,
                          as_of=pd.Timestamp(as_of).date(), training_origins=origins, validation_origin=validation,
                          horizon_days=horizon_days, grace_days=grace_days,
                          drift_reference=reference_bins(fit_on.X))


SEARCH_GRID: dict[str, tuple] = {"max_depth": (3, 4, 6), "min_child_weight": (5.0, 20.0),
                                  "learning_rate": (0.05, 0.1)}


def search(frames: Frames | dict, as_of, *, model: ArrearsModel | None = None, grid: dict | None = None,
           windows: int = 6, step_months: int = 1, horizon_days: int = HORIZON_DAYS, grace_days: int = GRACE_DAYS,
           tz: str = DEFAULT_TZ) -> dict:
    """Hyperparameters chosen by time-based cross-validation on the training origins of as_of.

    Each fold validates on one training origin with a model fitted on the origins whose labels are complete
    before it (origin + horizon + grace <= the fold's origin), never on later ones; the validation window of
    train() is left out entirely. Early stopping inside a fold watches the fold itself, as train() watches
    its validation window. Returns {"best": parameters, "folds": [...], "results": [{params, auc, aucs}]},
    the best by mean AUC over the folds.
    """
    frames = Frames.of(frames)
    origins, _validation = rolling_origins(as_of, windows=windows, step_months=step_months,
                                           horizon_days=horizon_days, grace_days=grace_days)
    stacked = stack_windows(frames, origins, horizon_days=horizon_days, grace_days=grace_days, tz=tz)
    at = stacked.X.index.get_level_values("origin")
    span = datetime.timedelta(days=horizon_days + grace_days)
    folds = [(o, [f for f in origins if f + span <= o]) for o in origins]
    folds = [(o, fit) for o, fit in folds if fit][-2:]     # the latest two folds that have training origins
    if not folds:
        raise ValueError("too few training origins for a time-based cross-validation: raise windows")
    grid = grid or SEARCH_GRID
    base = model if model is not None else ArrearsModel()
    results = []
    for values in itertools.product(*grid.values()):
        params = dict(zip(grid, values, strict=True))
        aucs = []
        for origin, fit in folds:
            train_rows, val_rows = np.isin(at, fit), at == origin
            estimator = clone(base).set_params(**params, calibration=None)
            X_val, y_val = stacked.X[val_rows], stacked.y[val_rows].to_numpy()
            estimator.fit(stacked.X[train_rows], stacked.y[train_rows].to_numpy(), eval_set=(X_val, y_val))
            aucs.append(float(roc_auc_score(y_val, estimator.decision_function(X_val))))
        results.append({"params": params, "auc": float(np.mean(aucs)), "aucs": aucs})
    best = max(results, key=lambda r: r["auc"])
    return {"best": best["params"], "folds": [{"validation": o.isoformat(), "training": [f.isoformat() for f in fit]}
                                             for o, fit in folds], "results": results}


def evaluate_window(model: ArrearsModel, frames: Frames | dict, origin, *, baseline: PointsBaseline | None = None,
                    truth: pd.Series | None = None, horizon_days: int = HORIZON_DAYS, grace_days: int = GRACE_DAYS,
                    tz: str = DEFAULT_TZ, rule: PointsRule = DEFAULT_RULE) -> dict:
    """Model and baseline metrics on one window (features at origin, outcomes after it) as JSON.

    The window's labels must be complete in frames. baseline defaults to the one saved in the model's manifest.
    truth: the true probability of default of each customer at origin, where a simulation knows it
    (scoring.synthetic); the figures then hold the oracle's metrics on the same customers and the gap
    (oracle minus model) of each headline figure.
    """
    if baseline is None:
        saved = getattr(model, "manifest_", {}).get("baseline")
        if saved is None:
            raise ValueError("no baseline given and none in the model's manifest")
        baseline = PointsBaseline.from_json(saved)
    w = stack_windows(frames, [origin], horizon_days=horizon_days, grace_days=grace_days, tz=tz, rule=rule)
    figures = {"window": {"origin": pd.Timestamp(origin).date().isoformat(), "kind": "held-out"},
               **compare(w.y, model.predict_proba(w.X)[:, 1], baseline.predict_proba(w.points)[:, 1],
                         amount=w.unpaid_fen)}
    if truth is not None:
        customers = w.y.index.get_level_values("customer_id")
        known = pd.Series(truth).reindex(customers)
        if known.isna().any():
            raise ValueError(f"no true probability for {int(known.isna().sum())} customer(s) of the window, "
                             f"e.g. {customers[known.isna().to_numpy()][0]}")
        figures["oracle"] = metrics(w.y, known.to_numpy(dtype=np.float64), amount=w.unpaid_fen)
        figures["oracle_gap"] = {k: figures["oracle"][k] - figures["model"][k]
                                 for k in ("roc_auc", "pr_auc", "capture_10", "brier")}
    return figures
