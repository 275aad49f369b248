"""Events in a customer's history: theft, violations, returned payments, disconnections."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class EventKind(StrEnum):
    theft = "theft"
    violation = "violation"
    returned_payment = "returned_payment"
    disconnection = "disconnection"
    reconnection = "reconnection"
    broken_pay_plan = "broken_pay_plan"  # a pay plan that became broken; costs rating points


class Event(db.Model):
    __tablename__ = "events"
    # One event of a kind per customer per day: the natural key that makes re-imports no-ops.
    __table_args__ = (UniqueConstraint("customer_id", "kind", "occurred_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    occurred_on: Mapped[dt.date]
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
