"""Scoring every customer at an as-of date: probability of default, expected loss, rating and reasons."""

from __future__ import annotations

import pandas as pd

from scoring.baseline import DEFAULT_RULE, PointsRule, credit_points, grades
from scoring.explain import reasons
from scoring.features import account_positions, build_features
from scoring.frames import DEFAULT_TZ, Frames
from scoring.loss import expected_loss_fen, exposure_fen
from scoring.model import ArrearsModel


def score_customers(model: ArrearsModel, frames: Frames | dict, as_of, *, top_k: int = 3, tz: str = DEFAULT_TZ,
                    rule: PointsRule = DEFAULT_RULE) -> pd.DataFrame:
    """One row per customer open at as_of, indexed by customer_id.

    Columns: pd (0–1), exposure_fen and expected_loss_fen (int64), points and rating (the credit domain's grade
    where a rating frame is given, else the points rule's), reasons_zh and reasons_en (lists, strongest first).
    """
    frames = Frames.of(frames)
    features = build_features(frames, as_of, tz=tz)
    probability = pd.Series(model.predict_proba(features)[:, 1], index=features.index, name="pd")
    exposure = exposure_fen(account_positions(frames, as_of, tz=tz)).reindex(features.index)
    points = credit_points(features, frames.rating, as_of=as_of, rule=rule)
    rating = grades(points, rule)
    if frames.rating is not None and "grade" in frames.rating.columns and not frames.rating.empty:
        given = frames.rating
        if "rated_on" in given.columns:
            given = given.loc[pd.to_datetime(given["rated_on"]) <= pd.Timestamp(as_of)].sort_values("rated_on")
        given = given.drop_duplicates("customer_id", keep="last").set_index("customer_id")["grade"]
        rating = given.reindex(features.index).fillna(rating)
    why = reasons(model.contributions(features), features, top_k=top_k)
    return pd.DataFrame({
        "pd": probability, "exposure_fen": exposure, "expected_loss_fen": expected_loss_fen(probability, exposure),
        "points": points, "rating": rating, "reasons_zh": why["zh"], "reasons_en": why["en"],
    }, index=features.index)
