"""Metrics on held-out outcomes, for the model and the baseline side by side, as JSON-ready dicts.

Capture at q: the share of defaulters (and of the defaulted amount) found among the riskiest q of
customers; lift is capture over q. Customers tied at the cut-off share it pro rata, so a score with
many ties (a points scale, an isotonic step) is credited what random ordering within the tie gives.
The calibration table bins customers by deciles of predicted probability; the calibration error is
the customer-weighted mean absolute gap between predicted and observed rate over those bins.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

SHARES = (0.1, 0.2)


def _capture(score: np.ndarray, weight: np.ndarray, share: float) -> float:
    """Share of the weight held by the top `share` of rows by score, ties at the cut-off split pro rata."""
    total = float(weight.sum())
    if total <= 0 or score.size == 0:
        return math.nan
    k = share * score.size
    order = np.argsort(-score, kind="stable")
    s, w = score[order], weight[order]
    threshold = s[min(math.ceil(k) - 1, s.size - 1)] if k >= 1 else s[0]
    above = s > threshold
    tied = s == threshold
    room = k - above.sum()
    captured = w[above].sum() + (w[tied].sum() * room / tied.sum() if tied.any() and room > 0 else 0.0)
    return float(captured / total)


def _calibration_table(y: np.ndarray, p: np.ndarray, bins: int) -> list[dict]:
    order = np.argsort(p, kind="stable")
    table = []
    for i, part in enumerate(np.array_split(order, bins)):
        if part.size:
            table.append({"bin": i + 1, "n": int(part.size), "mean_pd": float(p[part].mean()),
                          "observed": float(y[part].mean())})
    return table


def metrics(y, p, *, amount=None, bins: int = 10) -> dict:
    """ROC AUC, PR AUC, Brier, log loss, calibration error, capture and lift at 10% and 20%, calibration table.

    y: 0/1 outcomes; p: probability of default (or any risk score for the ranking metrics); amount: the
    defaulted amount per customer (fen) for amount capture.
    """
    y = np.asarray(y, dtype=np.int64)
    p = np.asarray(p, dtype=np.float64)
    both = 0 < y.sum() < y.size
    out: dict = {"n": int(y.size), "defaulters": int(y.sum()), "default_rate": float(y.mean()) if y.size else None}
    out["roc_auc"] = float(roc_auc_score(y, p)) if both else None
    out["pr_auc"] = float(average_precision_score(y, p)) if both else None
    probabilities = bool(y.size) and bool(((p >= 0) & (p <= 1)).all())   # a bare score has ranking metrics only
    out["brier"] = float(brier_score_loss(y, p)) if probabilities else None
    out["log_loss"] = float(log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1])) if probabilities else None
    table = _calibration_table(y, p, bins)
    out["calibration_error"] = (float(sum(r["n"] * abs(r["mean_pd"] - r["observed"]) for r in table) / y.size)
                                if probabilities else None)
    for share in SHARES:
        tag = f"{round(share * 100)}"
        capture = _capture(p, y.astype(np.float64), share)
        out[f"capture_{tag}"] = None if math.isnan(capture) else capture
        out[f"lift_{tag}"] = None if math.isnan(capture) else capture / share
        if amount is not None:
            amt = _capture(p, np.asarray(amount, dtype=np.float64), share)
            out[f"amount_capture_{tag}"] = None if math.isnan(amt) else amt
    out["calibration"] = table
    return out


def compare(y, model_pd, baseline_pd, *, amount=None, bins: int = 10) -> dict:
    """Metrics for the model and the baseline on the same outcomes: {"model": {...}, "baseline": {...}}."""
    return {"model": metrics(y, model_pd, amount=amount, bins=bins),
            "baseline": metrics(y, baseline_pd, amount=amount, bins=bins)}
