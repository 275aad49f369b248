"""Property companies, buildings, their residents, who pays for a resident, and clearance flags."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class PropertyCompany(db.Model):
    """A property-management company (物业公司) that collects electricity fees from the residents of the
    buildings it manages and pays them on; `customer_id` is its own account, when it has one."""

    __tablename__ = "property_companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    # None while it collects; the day it stopped collecting (its residents were moved to direct billing).
    stopped_on: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class Building(db.Model):
    """A building (or an estate) in a grid, managed by a property company or by nobody."""

    __tablename__ = "buildings"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("property_companies.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class BuildingResident(db.Model):
    """A customer living in a building (one building per customer)."""

    __tablename__ = "building_residents"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True, autoincrement=False)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class PayerLink(db.Model):
    """A resident billed through a property company from `linked_on`; `ended_on` is the day the resident
    was moved to direct billing (the company stopped collecting, or the resident asked)."""

    __tablename__ = "payer_links"
    __table_args__ = (
        # At most one company pays for a resident at a time.
        Index("uq_payer_links_active_customer", "customer_id", unique=True,
              postgresql_where=text("ended_on IS NULL"), sqlite_where=text("ended_on IS NULL")),
        Index("ix_payer_links_company", "company_id", "ended_on"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    company_id: Mapped[int] = mapped_column(ForeignKey("property_companies.id"))
    linked_on: Mapped[dt.date]
    linked_by: Mapped[str] = mapped_column(String(100))
    ended_on: Mapped[dt.date | None]
    ended_by: Mapped[str | None] = mapped_column(String(100))
    end_reason: Mapped[str | None] = mapped_column(String(500))


class ClearanceKind(StrEnum):
    demolition = "demolition"  # 拆迁: the buildings come down
    clearance = "clearance"  # 清场: the site is cleared (tenants leave), the buildings may stay


class ClearanceFlag(db.Model):
    """A grid or a building flagged as a demolition or clearance site from `flagged_on` until the day before
    `lifted_on`: its customers accrue no late-payment penalty and leave the dunning ladder for the
    clearance track."""

    __tablename__ = "clearance_flags"
    __table_args__ = (Index("ix_clearance_flags_grid", "grid_id"), Index("ix_clearance_flags_building", "building_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))  # ClearanceKind
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))  # exactly one of grid and building
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    flagged_on: Mapped[dt.date]
    reason: Mapped[str] = mapped_column(String(500))
    flagged_by: Mapped[str] = mapped_column(String(100))
    lifted_on: Mapped[dt.date | None]
    lifted_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
