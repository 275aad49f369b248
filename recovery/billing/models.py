"""Bills and the account ledger. The ledger is append-only; balances are sums of its entries."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

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


class EntryKind(StrEnum):
    bill = "bill"
    payment = "payment"
    penalty = "penalty"
    reversal = "reversal"
    adjustment = "adjustment"
    # Uncollectable debt written off with a supervisor's approval: a credit that lowers the balance but is
    # no payment (never collected revenue); a later payment recovers it (recovery.collections.writeoff).
    write_off = "write_off"


class LedgerEntry(db.Model):
    """One movement on a customer's account: positive owes the utility more, negative less."""

    __tablename__ = "ledger_entries"
    # Kind and amount in the index: a balance is summed from it alone (migration 0018).
    __table_args__ = (Index("ix_ledger_customer_effective", "customer_id", "effective_on", "kind", "amount_fen"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # The business date the entry counts from (a bill's issue date, a payment's local date).
    effective_on: Mapped[dt.date]
    posted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    # A correction points at the entry it corrects.
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
