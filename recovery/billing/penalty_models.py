"""What payments settled of each bill's late-payment penalty (the penalty itself is ledger entries)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.types import BigId, UTCDateTime


class PenaltyAllocation(db.Model):
    """The part of a payment that settled a bill's penalty; rebuilt with the bill allocations."""

    __tablename__ = "penalty_allocations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    allocated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
