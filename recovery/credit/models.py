"""Credit ratings (compact history with reasons), supervisors' overrides and settlement terms."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class CreditRating(db.Model):
    """A customer's rating from the day it was computed until the next row (only changes are stored).

    `points_grade` is what the points alone give; `grade` is after the hard rules (theft caps,
    upgrade blocks). An override is not part of the history: it lives in credit_overrides.
    """

    __tablename__ = "credit_ratings"
    __table_args__ = (
        # One row per customer per day: a rerun of the day replaces it, never adds a second.
        UniqueConstraint("customer_id", "rated_on"),
        Index("ix_credit_ratings_rated_on", "rated_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    rated_on: Mapped[dt.date]
    points: Mapped[int]
    points_grade: Mapped[str] = mapped_column(String(8))
    grade: Mapped[str] = mapped_column(String(8))
    cash_only: Mapped[bool]
    upgrade_blocked: Mapped[bool]
    # {"start": 100, "demerits": [{kind, on, points, expires_on, ...}], "rules": [{rule, ...}]}
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class CreditOverride(db.Model):
    """A supervisor's grade for a customer, with a reason, in force until it expires or is revoked."""

    __tablename__ = "credit_overrides"
    __table_args__ = (Index("ix_credit_overrides_customer", "customer_id", "expires_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    grade: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(500))
    starts_on: Mapped[dt.date]
    # The last day the override is in force.
    expires_on: Mapped[dt.date]
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(String(500))


class Terms(StrEnum):
    postpaid = "postpaid"
    prepayment = "prepayment"
    split = "split"


class TermsBasis(StrEnum):
    """Why a customer is on their terms; the nightly review only relaxes terms it set itself."""

    rating = "rating"
    size = "size"
    qualification = "qualification"
    manual = "manual"


class SettlementTerms(db.Model):
    """A customer's settlement terms. No row: ordinary post-paid. Changed only by an approved request."""

    __tablename__ = "settlement_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    terms: Mapped[str] = mapped_column(String(12))
    basis: Mapped[str] = mapped_column(String(16))
    since: Mapped[dt.date]
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approval_requests.id"))
    approved_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class InterimBill(db.Model):
    """One split-settlement interim bill (a real row in `bills`), and its true-up at the month-end reading.

    The original amount is kept here: at the true-up the interim bill is reversed in the ledger and
    its amount in `bills` becomes 0, so that what the customer paid on it moves to the month-end bill.
    """

    __tablename__ = "interim_bills"
    __table_args__ = (UniqueConstraint("customer_id", "period", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), unique=True)
    period: Mapped[str] = mapped_column(String(7))
    seq: Mapped[int]
    settle_on: Mapped[dt.date]
    # metered | estimated
    basis: Mapped[str] = mapped_column(String(12))
    kwh: Mapped[float]
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    trued_up_on: Mapped[dt.date | None]
    month_end_bill_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
