"""Customer segments (recomputed nightly) and account managers (a manager and a named deputy per customer)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import UTCDateTime


class ValueSegment(StrEnum):
    high_value = "high_value"
    potential = "potential"
    medium = "medium"
    low = "low"


class RiskSegment(StrEnum):
    high = "high"
    medium = "medium"
    low = "low"
    unscored = "unscored"


class CustomerSegment(db.Model):
    """A customer's value and risk segment as of the last segmentation run, with the contact frequencies
    the value segment sets (None: no contact by frequency)."""

    __tablename__ = "customer_segments"
    __table_args__ = (Index("ix_customer_segments_value", "value_segment"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True, autoincrement=False)
    as_of: Mapped[dt.date]
    monthly_bill_fen: Mapped[int] = mapped_column(BigInteger)  # average bill of the last 12 months
    value_rank: Mapped[int]  # 1: the largest customer
    value_segment: Mapped[str] = mapped_column(String(12))  # ValueSegment
    pd: Mapped[float | None] = mapped_column(Float)  # a probability, from the latest scoring run
    risk_segment: Mapped[str] = mapped_column(String(10))  # RiskSegment
    visit_every_days: Mapped[int | None]
    call_every_days: Mapped[int | None]


class AccountManager(db.Model):
    """Who looks after a customer, and the named deputy who takes over when the manager is away or leaves."""

    __tablename__ = "account_managers"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True, autoincrement=False)
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_on: Mapped[dt.date]
    assigned_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
