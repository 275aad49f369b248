"""Scores written by each scoring run: one row per customer, as of a date, by a model version."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String, func, select
from sqlalchemy.orm import Mapped, aliased, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class RiskScore(db.Model):
    __tablename__ = "risk_scores"
    __table_args__ = (
        Index("ix_risk_scores_asof_el", "as_of", "expected_loss_fen"),
        Index("ix_risk_scores_customer_asof", "customer_id", "as_of"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    as_of: Mapped[dt.date]
    model_version: Mapped[str] = mapped_column(String(80))
    # A probability, not money.
    pd: Mapped[float] = mapped_column(Float)
    exposure_fen: Mapped[int] = mapped_column(BigInteger)
    expected_loss_fen: Mapped[int] = mapped_column(BigInteger)
    rating: Mapped[str] = mapped_column(String(8))
    reasons_zh: Mapped[list[str]] = mapped_column(JSON)
    reasons_en: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


def latest_run_keys():
    """The most recent scoring run's (as_of, model_version), as two scalar subqueries.

    A run replaces its rows (delete, then insert), so the newest row is the newest run's: found by the primary
    key instead of sorting every score by created_at (a full scan of a million rows for every page)."""
    newest = aliased(RiskScore, name="newest")
    last = select(func.max(newest.id)).scalar_subquery()
    return (select(newest.as_of).where(newest.id == last).scalar_subquery(),
            select(newest.model_version).where(newest.id == last).scalar_subquery())


def in_latest_run(query, scores=RiskScore):
    """Restrict a select over `scores` (RiskScore or an alias of its table) to the most recent scoring run."""
    as_of, version = latest_run_keys()
    return query.where(scores.as_of == as_of, scores.model_version == version)
