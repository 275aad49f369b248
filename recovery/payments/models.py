"""Payments and their allocations to bills."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import ClassVar

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
    deposit = "deposit"  # internal: a customer's deposit applied against arrears (never imported)
    guarantee = "guarantee"  # internal: a guarantee called against arrears (never imported)


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


class _RequestKey:
    """The columns of a request key, whoever's key space it lives in (recovery.payments.idempotency)."""

    key: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12))  # in_flight | done
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class IdempotencyKey(_RequestKey, db.Model):
    """One agent request key: claimed before the work, completed with the response in the same
    transaction as the payment, so a retry replays the answer and never posts twice."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("agent_id", "key"),)
    owner_column: ClassVar[str] = "agent_id"  # whose key space (recovery.payments.idempotency)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))


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


# ---------------------------------------------------------------- kiosks, receipts, cards, counters, prepayment


class Tender(StrEnum):
    cash = "cash"
    card = "card"


class KioskStatus(StrEnum):
    active = "active"
    retired = "retired"


class Kiosk(db.Model):
    """A self-service terminal (自助终端): takes cash and bank cards, signs its postings like an agent."""

    __tablename__ = "kiosks"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    location: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default=KioskStatus.active)
    # Written first by every posting: the row lock that numbers the kiosk's receipts without gaps.
    last_payment_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class KioskSecret(db.Model):
    """A kiosk's API secret, encrypted at rest (as agents' are)."""

    __tablename__ = "kiosk_secrets"

    id: Mapped[int] = mapped_column(primary_key=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"), index=True)
    secret_encrypted: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class KioskIdempotencyKey(_RequestKey, db.Model):
    """A kiosk's request key: the agents' rules (recovery.payments.idempotency) in the kiosk's own key space."""

    __tablename__ = "kiosk_idempotency_keys"
    __table_args__ = (UniqueConstraint("kiosk_id", "key"),)
    owner_column: ClassVar[str] = "kiosk_id"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"))


class KioskCollection(db.Model):
    """Cash taken out of a kiosk and counted: what the nightly balancing sets against its cash payments."""

    __tablename__ = "kiosk_collections"
    __table_args__ = (UniqueConstraint("kiosk_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"), index=True)
    collected_on: Mapped[dt.date]
    collected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    counted_fen: Mapped[int] = mapped_column(BigInteger)
    collected_by: Mapped[str] = mapped_column(String(100))
    reference: Mapped[str] = mapped_column(String(64))  # the cash bag's seal number
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class Receipt(db.Model):
    """The receipt of a kiosk, counter or card payment: numbered per channel account per day, without gaps."""

    __tablename__ = "receipts"
    __table_args__ = (UniqueConstraint("channel", "channel_account", "issued_on", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    channel_account: Mapped[str] = mapped_column(String(40))
    issued_on: Mapped[dt.date]
    seq: Mapped[int]
    receipt_no: Mapped[str] = mapped_column(String(80), unique=True)
    tender: Mapped[str | None] = mapped_column(String(8))  # cash | card; None where the source did not say


class CardStatus(StrEnum):
    issued = "issued"
    sold = "sold"
    redeemed = "redeemed"
    void = "void"


class Distributor(db.Model):
    """A distributor buys recharge cards from the utility and sells them on to customers."""

    __tablename__ = "distributors"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Who hears when the distributor's stock runs out (phone, e-mail or a user name).
    manager_contact: Mapped[str] = mapped_column(String(200))
    # Cards sold to it and not yet redeemed or voided. Changed only by conditional UPDATEs, so that
    # concurrent redemptions see each other and exactly one of them crosses the alert threshold.
    stock: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class CardBatch(db.Model):
    """A batch of recharge cards (充值卡) of one face value."""

    __tablename__ = "card_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    face_value_fen: Mapped[int] = mapped_column(BigInteger)
    count: Mapped[int]
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class CardSale(db.Model):
    """Cards of one batch sold to a distributor in one go."""

    __tablename__ = "card_sales"
    __table_args__ = (UniqueConstraint("distributor_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_id: Mapped[int] = mapped_column(ForeignKey("distributors.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("card_batches.id"), index=True)
    count: Mapped[int]
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    sold_on: Mapped[dt.date]
    sold_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sold_by: Mapped[str] = mapped_column(String(100))
    reference: Mapped[str] = mapped_column(String(64))


class DistributorRemittance(db.Model):
    """Money a distributor paid for the cards it bought; the nightly reconciliation holds it against its sales."""

    __tablename__ = "distributor_remittances"
    __table_args__ = (UniqueConstraint("distributor_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    distributor_id: Mapped[int] = mapped_column(ForeignKey("distributors.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    remitted_on: Mapped[dt.date]
    reference: Mapped[str] = mapped_column(String(64))
    recorded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class Card(db.Model):
    """One recharge card: issued -> sold (to a distributor) -> redeemed (by a customer), or void.

    The PIN is stored only as a salted scrypt hash (recovery.payments.channels.cards)."""

    __tablename__ = "cards"
    __table_args__ = (Index("ix_cards_redeemed_on", "redeemed_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("card_batches.id"), index=True)
    serial: Mapped[str] = mapped_column(String(40), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default=CardStatus.issued)
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("card_sales.id"), index=True)
    distributor_id: Mapped[int | None] = mapped_column(ForeignKey("distributors.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    redeemed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    redeemed_on: Mapped[dt.date | None]
    voided_on: Mapped[dt.date | None]


class DrawerStatus(StrEnum):
    open = "open"
    closed = "closed"


class CashierDrawer(db.Model):
    """A cashier's drawer for one business day: opening float, takings, counted cash at close."""

    __tablename__ = "cashier_drawers"
    __table_args__ = (UniqueConstraint("user_id", "business_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    cashier: Mapped[str] = mapped_column(String(64))  # the user name: the payments' channel_account
    business_day: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(12), default=DrawerStatus.open)
    opening_float_fen: Mapped[int] = mapped_column(BigInteger)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    opened_by: Mapped[str] = mapped_column(String(100))
    # Bumped first by every counter payment: refuses a closed drawer and numbers receipts without gaps.
    payments_count: Mapped[int] = mapped_column(default=0)
    counted_fen: Mapped[int | None] = mapped_column(BigInteger)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(100))


class PrepaidStatus(StrEnum):
    active = "active"
    stopped = "stopped"


class PrepaidAccount(db.Model):
    """A customer on prepayment (预购电): the balance is their credit on the ledger; this holds the state."""

    __tablename__ = "prepaid_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    opened_on: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(12), default=PrepaidStatus.active)
    # The day the current low-balance episode was warned of; cleared when the balance recovers.
    warned_on: Mapped[dt.date | None]
    stopped_since: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class AgentForfeiture(db.Model):
    """Part of an agent's deposit the utility kept after a breach (approved by a supervisor)."""

    __tablename__ = "agent_forfeitures"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    deposit_after_fen: Mapped[int] = mapped_column(BigInteger)
    limit_after_fen: Mapped[int] = mapped_column(BigInteger)
    forfeited_on: Mapped[dt.date]
    reason: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[str] = mapped_column(String(100))
    approved_by: Mapped[str] = mapped_column(String(100))
    approval_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
