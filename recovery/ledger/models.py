"""What the ledger package owns: the account ledger (append-only) and what payments settled of bills and
their penalties. Only recovery.ledger writes these tables (tests/ledger/test_ownership.py holds it)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class EntryKind(StrEnum):
    bill = "bill"
    payment = "payment"
    penalty = "penalty"
    reversal = "reversal"
    adjustment = "adjustment"
    # Uncollectable debt written off with a supervisor's approval: a credit that lowers the balance but is
    # no payment (never collected revenue); a later payment recovers it (recovery.collections.writeoff.service).
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


class Allocation(db.Model):
    """The part of a payment that settled a bill; rebuilt oldest-bill-first whenever history changes."""

    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # When this part of the bill was paid: the later of the payment and the bill's issue.
    allocated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PenaltyAllocation(db.Model):
    """The part of a payment that settled a bill's penalty; rebuilt with the bill allocations."""

    __tablename__ = "penalty_allocations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    allocated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
