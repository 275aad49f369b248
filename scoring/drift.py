"""Population stability of each feature between the model's training data and today's.

Bins are the quantiles of the training values (deciles by default; repeated edges merge, so a
feature that is mostly zero gets few bins) plus one bin for missing values. PSI = Σ (a − e) ln(a / e)
over bins, with shares floored at a small epsilon so that an empty bin does not divide by zero.
Rule of thumb: < 0.1 stable, 0.1–0.25 moving, > 0.25 shifted (the model is stale for that feature).
The reference (edges and training shares) is JSON, so it can live in the model's manifest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EPSILON = 1e-4


def _shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    missing = np.isnan(values)
    bins = np.searchsorted(edges, values[~missing], side="right")
    counts = np.r_[np.bincount(bins, minlength=edges.size + 1), missing.sum()].astype(np.float64)
    return counts / max(values.size, 1)


SAMPLE_ROWS = 500_000   # deciles of an evenly spread half million rows are those of millions, to a few thousandths


def reference_bins(train: pd.DataFrame, *, bins: int = 10) -> dict:
    """Per feature: the inner quantile edges of the training values and the training share in each bin (read
    from an evenly spread SAMPLE_ROWS of them where there are more)."""
    out = {}
    train = train.iloc[::-(-len(train) // SAMPLE_ROWS)] if len(train) > SAMPLE_ROWS else train
    for name in train.columns:
        values = train[name].to_numpy(dtype=np.float64)
        present = values[~np.isnan(values)]
        inner = np.linspace(0, 1, bins + 1)[1:-1]
        edges = np.unique(np.quantile(present, inner)) if present.size else np.zeros(0)
        out[str(name)] = {"edges": [float(e) for e in edges], "shares": [float(s) for s in _shares(values, edges)]}
    return out


def psi(reference: dict | pd.DataFrame, current: pd.DataFrame, *, bins: int = 10,
        epsilon: float = EPSILON) -> pd.Series:
    """PSI per feature of current against the reference (a reference_bins dict, or the training frame itself)."""
    if isinstance(reference, pd.DataFrame):
        reference = reference_bins(reference, bins=bins)
    out = {}
    for name, ref in reference.items():
        if name not in current.columns:
            continue
        edges = np.asarray(ref["edges"], dtype=np.float64)
        expected = np.maximum(np.asarray(ref["shares"]), epsilon)
        actual = np.maximum(_shares(current[name].to_numpy(dtype=np.float64), edges), epsilon)
        out[name] = float(np.sum((actual - expected) * np.log(actual / expected)))
    return pd.Series(out, name="psi", dtype=np.float64)


def stale(psi_values: pd.Series, threshold: float = 0.25) -> list[str]:
    """The features whose PSI exceeds threshold, most shifted first."""
    drifted = psi_values[psi_values > threshold].sort_values(ascending=False)
    return [str(n) for n in drifted.index]
