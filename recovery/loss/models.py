"""Transformer areas (台区) and their meter readings, the monthly suspect list, inspections and tip-offs."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class Area(db.Model):
    """A transformer area (台区): the customers behind one area meter, on one feeder line (线路)."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    # The feeder the area hangs on, as the customers import names it; unknown until a row names it.
    line: Mapped[str | None] = mapped_column(String(32), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class AreaReading(db.Model):
    """The energy the area meter measured going into the area in one month."""

    __tablename__ = "area_readings"
    __table_args__ = (UniqueConstraint("area_id", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    period: Mapped[str] = mapped_column(String(7))
    # Energy, not money: a float is fine here (as bills.kwh).
    kwh_delivered: Mapped[float] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class AreaMonth(db.Model):
    """An area's delivered and billed kWh for a month as the latest screening read them: what the dashboard draws
    over many customers instead of summing every bill again on each visit."""

    __tablename__ = "loss_area_months"
    __table_args__ = (UniqueConstraint("area_id", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id"))
    period: Mapped[str] = mapped_column(String(7))
    kwh_delivered: Mapped[float | None] = mapped_column(Float)
    kwh_billed: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class Suspect(db.Model):
    """One row of a month's suspect list as last screened: rank, score and its reasons."""

    __tablename__ = "loss_suspects"
    __table_args__ = (Index("ix_loss_suspects_period_rank", "period", "rank"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    rank: Mapped[int]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    # Points in tenths: 765 is a score of 76.5 (a score is a sum of evidence points, shown with one decimal).
    score_tenths: Mapped[int]
    reasons: Mapped[str] = mapped_column(String(200))
    computed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class InspectionSource(StrEnum):
    suspect = "suspect"  # taken from the month's suspect list
    tip = "tip"          # a tip-off
    manual = "manual"    # anything else (a load alarm, a meter reader's note)


class InspectionStatus(StrEnum):
    open = "open"                   # assigned, not yet inspected
    theft_pending = "theft_pending"  # theft found; its charges wait for a supervisor
    done = "done"                   # outcome recorded (and, for theft, charged)


class Outcome(StrEnum):
    no_finding = "no_finding"
    violation = "violation"
    theft_confirmed = "theft_confirmed"


class Inspection(db.Model):
    """An inspection task (用电检查) of one customer, assigned to an inspector, and what it found."""

    __tablename__ = "inspections"
    __table_args__ = (
        # One inspection of a customer open at a time: two inspectors are never sent to the same door.
        Index("uq_inspections_open_customer", "customer_id", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    source: Mapped[str] = mapped_column(String(12))
    period: Mapped[str | None] = mapped_column(String(7))  # the suspect list it came from
    tip_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("tip_offs.id"), index=True)
    assigned_to: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_by: Mapped[str] = mapped_column(String(100))
    due_on: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(16), default=InspectionStatus.open)
    note: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    # The outcome, as the inspector records it.
    outcome: Mapped[str | None] = mapped_column(String(20))
    inspected_on: Mapped[dt.date | None]
    finding: Mapped[str | None] = mapped_column(String(2000))
    recorded_by: Mapped[str | None] = mapped_column(String(100))
    recorded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Confirmed theft: the stolen energy and the tariff on the inspection form, and what they come to.
    stolen_kwh: Mapped[int | None] = mapped_column(BigInteger)
    tariff_e4: Mapped[int | None] = mapped_column(BigInteger)  # yuan per kWh x 10,000 (0.5383 -> 5383)
    backbill_fen: Mapped[int | None] = mapped_column(BigInteger)
    penalty_fen: Mapped[int | None] = mapped_column(BigInteger)
    approval_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("approval_requests.id"))
    # What the approved charge posted.
    backbill_bill_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("bills.id"))
    penalty_bill_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("bills.id"))
    event_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("events.id"))
    charged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class TipStatus(StrEnum):
    open = "open"
    confirmed = "confirmed"  # an inspection found a violation or theft: the reward is paid
    unfounded = "unfounded"  # the inspection found nothing


class TipOff(db.Model):
    """A tip-off (举报) about a customer, and the reward paid when an inspection confirms it."""

    __tablename__ = "tip_offs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    received_on: Mapped[dt.date]
    channel: Mapped[str] = mapped_column(String(12))
    # Who to pay the reward to (a name, a phone number, a reference the tipster keeps); may stay anonymous.
    tipster: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(String(2000))
    recorded_by: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12), default=TipStatus.open)
    reward_fen: Mapped[int | None] = mapped_column(BigInteger)
    reward_paid_on: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
