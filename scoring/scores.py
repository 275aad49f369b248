"""Scoring every customer at an as-of date: probability of default, expected loss, rating and reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.baseline import DEFAULT_RULE, PointsRule, credit_points, grades
from scoring.explain import reasons
from scoring.features import features_and_positions
from scoring.frames import DEFAULT_TZ, Frames
from scoring.loss import expected_loss_fen, exposure_fen
from scoring.model import ArrearsModel

CHUNK = 200_000   # customers per chunk of contributions: 200,000 x ~70 features x 8 bytes ~ 110 MB


def score_customers(model: ArrearsModel, frames: Frames | dict, as_of, *, top_k: int = 3, tz: str = DEFAULT_TZ,
                    rule: PointsRule = DEFAULT_RULE, chunk_size: int = CHUNK) -> pd.DataFrame:
    """One row per customer open at as_of, indexed by customer_id.

    Columns: pd (0–1), exposure_fen and expected_loss_fen (int64), points and rating (the credit domain's grade
    where a rating frame is given, else the points rule's), reasons_zh and reasons_en (lists, strongest first).
    The features are built once for everyone; probabilities, contributions and reasons go chunk_size customers
    at a time, so the contributions matrix never holds more than one chunk.
    """
    frames = Frames.of(frames)
    features, positions = features_and_positions(frames, as_of, tz=tz)
    exposure = exposure_fen(positions).reindex(features.index)
    points = credit_points(features, frames.rating, as_of=as_of, rule=rule)
    rating = grades(points, rule)
    if frames.rating is not None and "grade" in frames.rating.columns and not frames.rating.empty:
        given = frames.rating
        if "rated_on" in given.columns:
            given = given.loc[pd.to_datetime(given["rated_on"]) <= pd.Timestamp(as_of)].sort_values("rated_on")
        given = given.drop_duplicates("customer_id", keep="last").set_index("customer_id")["grade"]
        rating = given.reindex(features.index).fillna(rating)
    probability, why = [], []
    for start in range(0, max(len(features), 1), chunk_size):
        part = features.iloc[start:start + chunk_size]
        probability.append(model.predict_proba(part)[:, 1])
        why.append(reasons(model.contributions(part), part, top_k=top_k))
    probability = pd.Series(np.concatenate(probability), index=features.index, name="pd")
    why = pd.concat(why)
    return pd.DataFrame({
        "pd": probability, "exposure_fen": exposure, "expected_loss_fen": expected_loss_fen(probability, exposure),
        "points": points, "rating": rating, "reasons_zh": why["zh"], "reasons_en": why["en"],
    }, index=features.index)
