"""Payments and their allocations to bills."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class Channel(StrEnum):
    bank = "bank"
    direct_debit = "direct_debit"
    agent = "agent"
    card = "card"
    kiosk = "kiosk"
    counter = "counter"


class PaymentState(StrEnum):
    provisional = "provisional"
    settled = "settled"
    reversed = "reversed"


class Payment(db.Model):
    __tablename__ = "payments"
    __table_args__ = (
        # The channel's own reference is unique within its account: a retried posting finds it.
        UniqueConstraint("channel", "channel_account", "channel_ref"),
        Index("ix_payments_customer_paid", "customer_id", "paid_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(String(20))
    channel_account: Mapped[str] = mapped_column(String(40))
    channel_ref: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(12), default=PaymentState.settled)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


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
