"""Shared demo utility and one trained model for the scoring tests (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from scoring import ArrearsModel, Frames, evaluate_window, train
from tests.scoring.demo import demo_frames

END = dt.date(2026, 5, 10)                  # the demo utility's last day
TRAIN_AT = END - dt.timedelta(days=90)      # trained on what was known then; outcomes after it are held out
SEED = 7


@pytest.fixture(scope="session")
def demo() -> Frames:
    return demo_frames(customers=3000, seed=SEED, as_of=END)


@pytest.fixture(scope="session")
def trained(demo):
    return train(demo, TRAIN_AT, model=ArrearsModel(random_state=SEED, n_jobs=1), windows=4)


@pytest.fixture(scope="session")
def held_out(demo, trained) -> dict:
    """Model and baseline on the window after TRAIN_AT: nothing was fitted or tuned on it."""
    return evaluate_window(trained.model, demo, TRAIN_AT, baseline=trained.baseline)
