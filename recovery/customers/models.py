"""Customers and the grids (网格) they belong to."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import UTCDateTime


class CustomerClass(StrEnum):
    residential = "residential"
    commercial = "commercial"
    industrial = "industrial"
    property_mgmt = "property_mgmt"
    government = "government"
    agricultural = "agricultural"


class Grid(db.Model):
    __tablename__ = "grids"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))

    customers: Mapped[list[Customer]] = relationship(back_populates="grid", lazy="raise")


class Customer(db.Model):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The source system's identifier, kept verbatim (`customer_id` in files and the API).
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    customer_class: Mapped[str] = mapped_column(String(20))
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    id_number: Mapped[str | None] = mapped_column(String(18))
    registered_capital_fen: Mapped[int | None] = mapped_column(BigInteger)
    opened_on: Mapped[dt.date]
    phone: Mapped[str | None] = mapped_column(String(32))
    # The transformer area (台区) and feeder line (线路) the customer is supplied through (recovery.loss).
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    line: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)

    grid: Mapped[Grid] = relationship(back_populates="customers", lazy="joined")
