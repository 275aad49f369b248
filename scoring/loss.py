"""Expected loss: probability of default times what is at stake, in integer fen.

Exposure = balance + the next bill's estimate − deposits held − the callable part of guarantees,
floored at 0 (security beyond what is owed protects nothing more). Expected loss = pd × exposure,
rounded half up to the fen.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def exposure_fen(positions: pd.DataFrame) -> pd.Series:
    """Exposure per customer (int64 fen) from account_positions' balance, next bill, deposit and guarantee."""
    p = positions
    raw = (p["balance_fen"].astype(np.int64) + p["next_bill_fen"].astype(np.int64)
           - p["deposit_fen"].astype(np.int64) - p["guarantee_fen"].astype(np.int64))
    return raw.clip(lower=0).astype(np.int64).rename("exposure_fen")


def expected_loss_fen(probability: pd.Series | np.ndarray, exposure: pd.Series) -> pd.Series:
    """probability × exposure in whole fen (half up); a Series probability is aligned on exposure's index."""
    if isinstance(probability, pd.Series):
        probability = probability.reindex(exposure.index)
    probability = np.asarray(probability, dtype=np.float64)
    if np.isnan(probability).any() or (probability < 0).any() or (probability > 1).any():
        raise ValueError("pd must be a probability for every customer")
    loss = np.floor(probability * exposure.to_numpy(dtype=np.float64) + 0.5).astype(np.int64)
    return pd.Series(loss, index=exposure.index, name="expected_loss_fen")
