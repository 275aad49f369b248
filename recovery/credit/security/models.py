"""Security held against credit risk: cash deposits (a liability, never income), non-cash guarantees,
qualification reviews, the nightly shortfall review and the officers' security tasks."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class DepositStatus(StrEnum):
    requested = "requested"  # asked of the customer, nothing received yet
    held = "held"  # money received and (some of it) still held
    closed = "closed"  # everything applied, refunded or released
    cancelled = "cancelled"  # the request was withdrawn before anything was received


class DepositEntryKind(StrEnum):
    requested = "requested"  # informational: what was asked; not money held
    received = "received"
    applied = "applied"  # used against arrears (a Payment with channel `deposit` settles the bills)
    refunded = "refunded"
    released = "released"  # returned after good behaviour
    interest = "interest"
    forfeited = "forfeited"


# Every kind but `requested` moves money: the held amount is the sum of these entries.
MONEY_KINDS = tuple(k.value for k in DepositEntryKind if k != DepositEntryKind.requested)


class Deposit(db.Model):
    """One deposit asked of and paid by a customer (a top-up is a deposit of its own)."""

    __tablename__ = "deposits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=DepositStatus.requested)
    requested_fen: Mapped[int] = mapped_column(BigInteger)
    requested_on: Mapped[dt.date]
    # The first receipt: the good-behaviour window for release counts from it.
    received_on: Mapped[dt.date | None]
    # Always the sum of the deposit's money entries (tested). Lowered only by a conditional UPDATE
    # ... WHERE held_fen >= amount, so two approvals at once can never pay out more than is held.
    held_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class DepositEntry(db.Model):
    """One movement of a deposit: positive adds to what is held, negative takes from it. Append-only."""

    __tablename__ = "deposit_entries"
    __table_args__ = (
        # A receipt reference is recorded once per customer; interest once per deposit and month
        # (its reference is "<deposit id>:<YYYY-MM>").
        UniqueConstraint("customer_id", "kind", "reference"),
        Index("ix_deposit_entries_customer_effective", "customer_id", "effective_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    deposit_id: Mapped[int] = mapped_column(ForeignKey("deposits.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(12))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    effective_on: Mapped[dt.date]
    # A receipt number, the approval request that authorised the movement, an interest month …
    reference: Mapped[str | None] = mapped_column(String(64))
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approval_requests.id"))
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("deposit_entries.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(100))
    posted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class GuaranteeKind(StrEnum):
    bank_guarantee = "bank_guarantee"  # 银行保函
    letter_of_credit = "letter_of_credit"  # 信用证
    surety = "surety"  # 保证 by a third party
    mortgage = "mortgage"  # 抵押
    pledge = "pledge"  # 质押


class GuaranteeStatus(StrEnum):
    active = "active"
    expiring = "expiring"  # within the notice period before its end of validity
    expired = "expired"
    called = "called"  # cashed against the customer's debt
    released = "released"  # handed back


LIVE_GUARANTEE = (GuaranteeStatus.active.value, GuaranteeStatus.expiring.value)


class Guarantee(db.Model):
    """Non-cash security: a guarantor answers for the customer up to an amount, for a period."""

    __tablename__ = "guarantees"
    __table_args__ = (UniqueConstraint("guarantor", "reference"),
                      Index("ix_guarantees_status_valid_until", "status", "valid_until"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    guarantor: Mapped[str] = mapped_column(String(200))
    # The letter's or contract's number at the guarantor.
    reference: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    valid_from: Mapped[dt.date]
    valid_until: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(12), default=GuaranteeStatus.active)
    # What calling it recovered, and the payment that brought it onto the customer's account.
    called_fen: Mapped[int | None] = mapped_column(BigInteger)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class QualificationReview(db.Model):
    """One qualification review (资质审核): identity check digits, registered capital, the outcome."""

    __tablename__ = "qualification_reviews"
    __table_args__ = (Index("ix_qualification_reviews_customer_reviewed", "customer_id", "reviewed_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    reviewed_on: Mapped[dt.date]
    identity_valid: Mapped[bool]
    registered_capital_fen: Mapped[int | None] = mapped_column(BigInteger)
    threshold_fen: Mapped[int | None] = mapped_column(BigInteger)
    # none | deposit | guarantee | prepayment: what the customer must provide.
    outcome: Mapped[str] = mapped_column(String(12))
    findings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reviewed_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class SecurityReviewRow(db.Model):
    """One line of a day's shortfall list; the nightly review replaces the day's lines when rerun."""

    __tablename__ = "security_reviews"
    __table_args__ = (UniqueConstraint("day", "customer_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[dt.date]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    grade: Mapped[str | None] = mapped_column(String(8))
    cash_only: Mapped[bool]
    recommended_fen: Mapped[int] = mapped_column(BigInteger)
    required_fen: Mapped[int] = mapped_column(BigInteger)
    held_cash_fen: Mapped[int] = mapped_column(BigInteger)
    held_guarantees_fen: Mapped[int] = mapped_column(BigInteger)
    shortfall_fen: Mapped[int] = mapped_column(BigInteger)


class TaskStatus(StrEnum):
    open = "open"
    done = "done"


class SecurityTask(db.Model):
    """Work for the customer's officer about their security (a guarantee about to expire, …)."""

    __tablename__ = "security_tasks"
    # One task per guarantee and end of validity: the nightly job may run any number of times.
    __table_args__ = (UniqueConstraint("kind", "guarantee_id", "due_on"),
                      Index("ix_security_tasks_officer_status", "officer_id", "status"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # guarantee_expiry
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    guarantee_id: Mapped[int | None] = mapped_column(ForeignKey("guarantees.id"))
    due_on: Mapped[dt.date]
    # The first officer of the customer's grid when the task was raised (none if the grid has none).
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(8), default=TaskStatus.open)
    created_on: Mapped[dt.date]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
