"""Disconnection orders (停电通知单). The prepaid monitor files them; later collection work extends them."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class OrderStatus(StrEnum):
    open = "open"
    cancelled = "cancelled"  # the customer paid (or the order was withdrawn) before it was carried out
    executed = "executed"


class DisconnectionOrder(db.Model):
    __tablename__ = "disconnection_orders"
    __table_args__ = (
        # Never two open orders for one customer, whatever files them and however often.
        Index("uq_disconnection_orders_open_customer", "customer_id", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    reason: Mapped[str] = mapped_column(String(60))
    ordered_on: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(12), default=OrderStatus.open)
    source: Mapped[str] = mapped_column(String(20))  # prepaid | collections | …
    closed_on: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
