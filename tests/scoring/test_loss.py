"""Expected loss: pd × (balance + next bill − deposit − callable guarantee), floored at zero, in whole fen."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring import account_positions, expected_loss_fen, exposure_fen
from tests.scoring.tiny import AS_OF, tiny_frames


def _positions(**columns: list[int]) -> pd.DataFrame:
    return pd.DataFrame(columns, index=pd.Index(["A", "B", "C"], name="customer_id")).astype(np.int64)


def test_exposure_is_what_is_owed_and_about_to_be_billed_less_security():
    positions = _positions(balance_fen=[10_000, -20_000, 50_000], next_bill_fen=[5_000, 5_000, 8_000],
                           deposit_fen=[3_000, 0, 100_000], guarantee_fen=[2_000, 0, 0])
    exposure = exposure_fen(positions)
    assert exposure.tolist() == [10_000, 0, 0]       # a credit or ample security leaves nothing exposed
    assert exposure.dtype == np.int64


def test_expected_loss_is_rounded_half_up_to_the_fen():
    exposure = pd.Series([10_001, 5, 0, 100_000_000_000], index=list("ABCD"), dtype=np.int64)
    loss = expected_loss_fen(pd.Series([0.25, 0.9, 0.5, 0.123], index=list("DCBA")), exposure)
    assert loss.tolist() == [1_230, 3, 0, 25_000_000_000]      # 1,230.12 → 1,230; 2.5 → 3
    assert loss.dtype == np.int64


def test_a_probability_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError):
        expected_loss_fen(np.array([1.5]), pd.Series([100], dtype=np.int64))


def test_positions_from_frames_give_the_tiny_grid_exposure():
    exposure = exposure_fen(account_positions(tiny_frames(), AS_OF))
    # C1: 10,000 unpaid + 10,000 next bill − 5,000 deposit − 5,000 guarantee; C2 and C3 owe nothing yet
    assert exposure.to_dict() == {"C1": 10_000, "C2": 10_000, "C3": 10_000}
