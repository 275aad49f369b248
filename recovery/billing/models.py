"""Bills and the account ledger. The ledger is append-only; balances are sums of its entries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class Bill(db.Model):
    __tablename__ = "bills"
    # The amounts in the index: a position reads bills from it alone (migration 0018).
    __table_args__ = (Index("ix_bills_customer_due", "customer_id", "due_on", "issued_on", "amount_fen"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    period: Mapped[str] = mapped_column(String(7))
    # Energy, not money: a float is fine here.
    kwh: Mapped[float] = mapped_column(Float)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    issued_on: Mapped[dt.date]
    due_on: Mapped[dt.date]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
