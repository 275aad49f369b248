"""Write-offs of uncollectable debt (坏账核销) and referrals of a customer's debt to a collection agency."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class WriteOff(db.Model):
    """Debt written off with a supervisor's approval; what later payments recovered of it."""

    __tablename__ = "write_offs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # Raised by the nightly recovery as payments arrive after the write-off; never above amount_fen.
    recovered_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    written_off_on: Mapped[dt.date]
    reason: Mapped[str] = mapped_column(String(500))
    evidence: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(100))
    approved_by: Mapped[str] = mapped_column(String(100))
    approval_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("approval_requests.id"), unique=True)
    entry_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("ledger_entries.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class ReferralStatus(StrEnum):
    referred = "referred"  # with the agency
    returned = "returned"  # the agency gave it back uncollected
    recovered = "recovered"  # the agency collected (all or part of) it


class Referral(db.Model):
    """A customer's debt handed to an outside collection agency (委托催收)."""

    __tablename__ = "referrals"
    __table_args__ = (
        # One open referral per customer: the agencies must not chase the same debt twice.
        Index("uq_referrals_open_customer", "customer_id", unique=True,
              postgresql_where=text("status = 'referred'"), sqlite_where=text("status = 'referred'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    agency: Mapped[str] = mapped_column(String(200))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    referred_on: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(12), default=ReferralStatus.referred)
    closed_on: Mapped[dt.date | None]
    recovered_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # what the agency reported collected
    note: Mapped[str | None] = mapped_column(Text)
    referred_by: Mapped[str] = mapped_column(String(100))
    closed_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
