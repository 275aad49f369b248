"""Bill corrections: a bill re-stated after a complaint was upheld (or credited), with the ledger entry
that carries the change and the amount first billed, which a re-import of the billing system's file is
still checked against."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class CorrectionKind(StrEnum):
    corrected_bill = "corrected_bill"  # the bill was wrong: it is re-stated at the right amount (and kWh)
    credit = "credit"  # the bill stands, part of it is credited back (an outage, a service failure)


class BillCorrection(db.Model):
    """One change of a bill's amount: before and after, and the `adjustment` ledger entry that made it."""

    __tablename__ = "bill_corrections"
    __table_args__ = (Index("ix_bill_corrections_bill", "bill_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    bill_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("bills.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(20))  # CorrectionKind
    before_fen: Mapped[int] = mapped_column(BigInteger)
    after_fen: Mapped[int] = mapped_column(BigInteger)
    # Energy, not money: a float is fine here. None: the kWh were not changed.
    before_kwh: Mapped[float | None] = mapped_column(Float)
    after_kwh: Mapped[float | None] = mapped_column(Float)
    entry_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("ledger_entries.id"))
    reason: Mapped[str] = mapped_column(String(500))
    corrected_on: Mapped[dt.date]
    corrected_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
