"""Big customers, the strategic flag and enterprise contacts."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class BigReason(StrEnum):
    bill = "bill"  # the monthly bill is over [big_customers] monthly_bill
    strategic = "strategic"  # flagged by a supervisor
    both = "both"


class BigCustomer(db.Model):
    """A customer who is (or was, `ended_on` set) a big customer, as the nightly refresh found it.

    `since_at` is when it became one (again); the first contact is due by `contact_by` and was made at
    `contacted_at` (the first call or visit logged from `since_at` on)."""

    __tablename__ = "big_customers"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True, autoincrement=False)
    reason: Mapped[str] = mapped_column(String(12))  # BigReason
    monthly_bill_fen: Mapped[int] = mapped_column(BigInteger)
    since_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    contact_by: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    contacted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_on: Mapped[dt.date | None]
    updated_on: Mapped[dt.date]


class StrategicCustomer(db.Model):
    """A customer a supervisor flagged as strategic: a big customer whatever its bill."""

    __tablename__ = "strategic_customers"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True, autoincrement=False)
    reason: Mapped[str] = mapped_column(String(500))
    flagged_by: Mapped[str] = mapped_column(String(100))
    flagged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class ContactRole(StrEnum):
    finance = "finance"  # 财务: who pays the bills
    electrician = "electrician"  # 电工: who runs the supply on site
    manager = "manager"  # 负责人: who decides


class EnterpriseContact(db.Model):
    """A named contact at an enterprise customer, one per role."""

    __tablename__ = "enterprise_contacts"
    __table_args__ = (UniqueConstraint("customer_id", "role"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    role: Mapped[str] = mapped_column(String(12))  # ContactRole
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32))
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
