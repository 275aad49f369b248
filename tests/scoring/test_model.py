"""ArrearsModel: scikit-learn conventions, seeded, calibrated, explained, and stored without pickle."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xgboost
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.isotonic import IsotonicRegression

from scoring import ArrearsModel, stack_windows
from scoring.evaluate import metrics
from scoring.features import FEATURES
from scoring.model import PD_FLOOR
from tests.scoring.conftest import TRAIN_AT

SMALL = {"n_estimators": 120, "random_state": 3, "n_jobs": 1}  # one thread: quick and steady on a busy machine


@pytest.fixture(scope="module")
def windows(demo):
    fit_on = stack_windows(demo, ["2025-06-13", "2025-08-13"])
    validation = stack_windows(demo, ["2025-11-11"])
    held_out = stack_windows(demo, [TRAIN_AT])
    return fit_on, validation, held_out


def _fit(windows, **params) -> ArrearsModel:
    fit_on, validation, _ = windows
    return ArrearsModel(**(SMALL | params)).fit(fit_on.X, fit_on.y, eval_set=(validation.X, validation.y))


def test_parameters_are_keyword_only_and_stored_as_given():
    with pytest.raises(TypeError):
        ArrearsModel(100)
    model = ArrearsModel(max_depth=3, calibration="sigmoid")
    assert model.get_params()["max_depth"] == 3 and model.get_params()["calibration"] == "sigmoid"
    assert clone(model).get_params() == model.get_params()
    assert not [k for k in vars(model) if k.endswith("_")]


def test_an_unfitted_model_says_so(windows, tmp_path):
    X = windows[2].X
    for call in (lambda m: m.predict_proba(X), lambda m: m.contributions(X), lambda m: m.save(tmp_path)):
        with pytest.raises(NotFittedError):
            call(ArrearsModel())


def test_fit_returns_self_with_learned_attributes(windows):
    fit_on, validation, _ = windows
    model = ArrearsModel(**SMALL)
    assert model.fit(fit_on.X, fit_on.y, eval_set=(validation.X, validation.y)) is model
    assert list(model.feature_names_in_) == list(FEATURES)
    assert model.scale_pos_weight_ == 1.0                                    # rows are not reweighted by default
    auto = ArrearsModel(scale_pos_weight="auto").booster_params(list(FEATURES), np.array([0, 0, 0, 1]))
    assert auto["scale_pos_weight"] == 3.0
    assert model.booster_.num_boosted_rounds() == model.best_iteration_ + 1


def test_early_stopping_on_the_later_window_keeps_only_the_trees_used(windows):
    model = _fit(windows, n_estimators=2000, learning_rate=0.3, early_stopping_rounds=10)
    assert model.best_iteration_ < 1990
    assert model.booster_.num_boosted_rounds() == model.best_iteration_ + 1


def test_early_stopping_reads_a_spread_of_a_large_window_and_the_calibration_all_of_it(windows, monkeypatch):
    from scoring import model as module

    fit_on, validation, _ = windows
    monkeypatch.setattr(module, "STOP_ROWS", -(-len(validation.X) // 4))      # every fourth row
    model = _fit(windows, n_estimators=400, learning_rate=0.3, early_stopping_rounds=10)
    # the round it stopped at is the one every fourth validation row gives
    def matrix(X, y):
        return xgboost.DMatrix(X.to_numpy(np.float32), label=y.to_numpy(), feature_names=list(FEATURES))
    alone = xgboost.train(model.booster_params(list(FEATURES), fit_on.y.to_numpy()), matrix(fit_on.X, fit_on.y), 400,
                          evals=[(matrix(validation.X.iloc[::4], validation.y.iloc[::4]), "v")],
                          early_stopping_rounds=10, verbose_eval=False)
    assert model.best_iteration_ == alone.best_iteration < 390
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    iso.fit(model.decision_function(validation.X), validation.y)          # calibrated on the whole window
    assert model.calibrator_["x"] == pytest.approx(list(iso.X_thresholds_))


def test_same_data_and_seed_give_identical_probabilities_and_another_seed_does_not(windows):
    X = windows[2].X
    first, second = _fit(windows).predict_proba(X), _fit(windows).predict_proba(X)
    assert np.array_equal(first, second)
    assert not np.array_equal(first, _fit(windows, random_state=4).predict_proba(X))


def test_save_and_load_round_trip_gives_identical_probabilities_without_pickle(windows, tmp_path):
    model = _fit(windows)
    X = windows[2].X
    model.save(tmp_path, training_window={"as_of": "2026-02-09"}, metrics={"roc_auc": 0.9})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.json", "model.ubj"]
    loaded = ArrearsModel.load(tmp_path)
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert np.array_equal(loaded.contributions(X).to_numpy(), model.contributions(X).to_numpy())
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["features"] == list(FEATURES)
    assert manifest["training_window"] == {"as_of": "2026-02-09"}
    assert manifest["metrics"] == {"roc_auc": 0.9}
    assert manifest["parameters"] == model.get_params()
    assert manifest["calibration"]["method"] == "isotonic"
    assert manifest["versions"]["xgboost"] and manifest["created_at"]


def test_calibration_on_the_validation_window_improves_brier_on_a_later_one(windows):
    held_out = windows[2]
    # weighting defaulters up inflates raw probabilities; either calibration brings them back
    weighted = {"scale_pos_weight": "auto", "eval_metric": "auc"}
    brier = {c: metrics(held_out.y, _fit(windows, calibration=c, **weighted).predict_proba(held_out.X)[:, 1])["brier"]
             for c in ("isotonic", "sigmoid", None)}
    assert brier["isotonic"] < brier[None] and brier["sigmoid"] < brier[None]
    p = _fit(windows).predict_proba(held_out.X)[:, 1]
    assert abs(p.mean() - held_out.y.mean()) < 0.03


def test_isotonic_calibration_matches_scikit_learn_and_keeps_the_margins_order(windows):
    _, validation, held_out = windows
    model = _fit(windows)
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    iso.fit(model.decision_function(validation.X), validation.y)
    margin = model.decision_function(held_out.X)
    expected = np.clip(iso.predict(margin), PD_FLOOR, 1 - PD_FLOOR)
    p = model.predict_proba(held_out.X)[:, 1]
    np.testing.assert_allclose(p, expected, rtol=0, atol=5e-8)
    # customers on one isotonic step are still ordered by their margins: no tie the trees did not make
    assert len(np.unique(expected)) < len(np.unique(margin)) == len(np.unique(p))
    order = np.argsort(margin, kind="stable")
    assert (np.diff(p[order]) >= 0).all()


def test_contributions_add_up_to_the_margin(windows):
    model = _fit(windows)
    X = windows[2].X.iloc[:500]
    contrib = model.contributions(X)
    assert list(contrib.columns) == [*FEATURES, "bias"]
    np.testing.assert_allclose(contrib.sum(axis=1), model.decision_function(X), atol=1e-4)


def test_columns_are_taken_by_name(windows):
    model = _fit(windows)
    X = windows[2].X
    assert np.array_equal(model.predict_proba(X[list(reversed(X.columns))]), model.predict_proba(X))
    with pytest.raises(ValueError, match="kwh_yoy"):
        model.predict_proba(X.drop(columns="kwh_yoy"))


def test_bad_targets_and_options_are_refused(windows):
    fit_on = windows[0]
    with pytest.raises(ValueError, match="both"):
        ArrearsModel(**SMALL).fit(fit_on.X, np.zeros(len(fit_on.X), dtype=int))
    with pytest.raises(ValueError, match="calibration"):
        ArrearsModel(calibration="beta").fit(fit_on.X, fit_on.y)
