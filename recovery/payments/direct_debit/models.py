"""Direct debit (代扣): customers' mandates, the daily debit batches and their items."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class MandateStatus(StrEnum):
    active = "active"
    revoked = "revoked"


class BatchStatus(StrEnum):
    open = "open"  # created, items may still be added by a rerun of its day
    sent = "sent"  # handed to the bank: items posted as provisional payments
    closed = "closed"  # every item has its result


class ItemStatus(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    returned = "returned"


class DebitMandate(db.Model):
    """A customer's signed authority to debit a bank account."""

    __tablename__ = "debit_mandates"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    bank_code: Mapped[str] = mapped_column(String(40))
    account: Mapped[str] = mapped_column(String(40))  # account number or IBAN-like string, kept verbatim
    reference: Mapped[str] = mapped_column(String(35), unique=True)  # the mandate id (pain.008 MndtId)
    signed_on: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(12), default=MandateStatus.active)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class DebitBatch(db.Model):
    """The debits for the bills falling due on one day: one batch per collection day."""

    __tablename__ = "debit_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(35), unique=True)  # pain.008 MsgId
    created_for: Mapped[dt.date] = mapped_column(unique=True)  # the collection (due) day
    status: Mapped[str] = mapped_column(String(12), default=BatchStatus.open)
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    succeeded_count: Mapped[int] = mapped_column(Integer, default=0)
    returned_count: Mapped[int] = mapped_column(Integer, default=0)
    returned_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class DebitItem(db.Model):
    """One customer's debit in a batch: the unpaid part of the bills it covers."""

    __tablename__ = "debit_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("debit_batches.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    mandate_id: Mapped[int] = mapped_column(ForeignKey("debit_mandates.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    end_to_end_id: Mapped[str] = mapped_column(String(35), unique=True)
    status: Mapped[str] = mapped_column(String(12), default=ItemStatus.pending)
    return_reason: Mapped[str | None] = mapped_column(String(35))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    result_on: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class DebitItemBill(db.Model):
    """A bill an item covers. `live` while the item is pending or succeeded: a bill is in at most one
    live item, guarded by a partial unique index (a returned item's bills may be debited again)."""

    __tablename__ = "debit_item_bills"
    __table_args__ = (
        Index("ix_debit_item_bills_live_bill", "bill_id", unique=True,
              sqlite_where=text("live"), postgresql_where=text("live")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("debit_items.id"), index=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bills.id"), index=True)
    live: Mapped[bool] = mapped_column(Boolean, default=True)
