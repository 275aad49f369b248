"""SHAP contributions computed over all customers at once are XGBoost's own pred_contribs."""

from __future__ import annotations

import numpy as np
import xgboost as xgb

from scoring import build_features
from scoring.treeshap import WORD, TreeExplainer
from tests.scoring.conftest import TRAIN_AT


def test_the_demo_models_contributions_are_xgboosts(trained, demo):
    X = build_features(demo, TRAIN_AT)
    names = list(trained.model.feature_names_in_)
    values = X[names].to_numpy(dtype=np.float32)
    assert np.isnan(values).any(axis=0).sum() >= 5                    # missing values take the default branch
    ours = trained.model.contributions(X).to_numpy()
    theirs = trained.model.booster_.predict(xgb.DMatrix(values, feature_names=names), pred_contribs=True)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)
    np.testing.assert_allclose(ours.sum(axis=1), trained.model.decision_function(X), rtol=0, atol=1e-4)


def test_deep_trees_that_split_on_a_feature_twice_and_see_missing_values_agree_too():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 6)).astype(np.float32)
    X[rng.random(X.shape) < 0.1] = np.nan
    y = (rng.random(3000) < 1 / (1 + np.exp(-np.nansum(X, axis=1) * np.nan_to_num(X[:, 0])))).astype(int)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 7, "eta": 0.3, "min_child_weight": 0.1,
                         "seed": 0, "nthread": 1}, xgb.DMatrix(X, label=y), num_boost_round=8)
    explainer = TreeExplainer(booster)
    assert max(len(t.splits) for t in explainer.trees) > WORD           # patterns of several words, found by sorting
    assert any(len(steps) > 1 for t in explainer.trees for path, _ in t.leaves for _, steps in path)
    np.testing.assert_allclose(explainer.contributions(X), booster.predict(xgb.DMatrix(X), pred_contribs=True),
                               rtol=0, atol=1e-5)
