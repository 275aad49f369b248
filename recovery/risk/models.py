"""Scores written by each scoring run: one row per customer, as of a date, by a model version."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

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
