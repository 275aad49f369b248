"""Payments and their allocations to bills."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
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


class AgentStatus(StrEnum):
    active = "active"
    suspended = "suspended"


class Agent(db.Model):
    """A partner collection agent (代收点). Its unremitted takings are capped by its deposit."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    deposit_fen: Mapped[int] = mapped_column(BigInteger)
    # Derived from the deposit by configuration when the deposit is set; stored so that the
    # posting guard is one conditional UPDATE.
    limit_fen: Mapped[int] = mapped_column(BigInteger)
    # Takings posted and not yet remitted. Changed only by conditional UPDATEs (the race guard);
    # always equal to the agent's live payments less its remittances (tested).
    unremitted_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(12), default=AgentStatus.active)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class AgentSecret(db.Model):
    """An API secret, encrypted at rest. Two may be valid at once while an agent rotates."""

    __tablename__ = "agent_secrets"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    secret_encrypted: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    # None: valid until rotated; a rotation gives the previous secret a grace period.
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class IdempotencyKey(db.Model):
    """One agent request key: claimed before the work, completed with the response in the same
    transaction as the payment, so a retry replays the answer and never posts twice."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("agent_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    key: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12))  # in_flight | done
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class Remittance(db.Model):
    """Money an agent handed over; it lowers the agent's unremitted takings."""

    __tablename__ = "remittances"
    __table_args__ = (UniqueConstraint("agent_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    remitted_on: Mapped[dt.date]
    reference: Mapped[str] = mapped_column(String(64))
    recorded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
