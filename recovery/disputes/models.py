"""A customer's complaint or bill dispute, from registration to its outcome."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class DisputeKind(StrEnum):
    outage = "outage"  # the customer cites an outage (停电) to refuse the bill
    meter_reading = "meter_reading"  # the reading (抄表) is disputed
    wrong_amount = "wrong_amount"  # the amount (tariff, calculation) is disputed
    service = "service"  # a complaint about the service or an officer's conduct


class DisputeChannel(StrEnum):
    counter = "counter"  # at a service hall
    phone = "phone"  # the 95598 hotline or the office's phone
    online = "online"  # the website, the app, WeChat
    letter = "letter"  # a letter or a petition (信访)
    visit = "visit"  # raised with an officer on a visit


class DisputeStatus(StrEnum):
    open = "open"
    upheld = "upheld"  # the customer was right: the bill corrected, a credit, or an apology
    rejected = "rejected"  # the bill stands; the reason is given to the customer


class Remedy(StrEnum):
    corrected_bill = "corrected_bill"
    credit = "credit"
    none = "none"  # upheld without money (a service complaint answered with an apology, a warning)


class Dispute(db.Model):
    """One complaint: who, what, through which channel, who owns it and by when it must be answered; its
    disputed bills are the bill holds that name it (collections.models.BillHold.dispute_id)."""

    __tablename__ = "disputes"
    __table_args__ = (
        Index("ix_disputes_status_due", "status", "due_at"),
        Index("ix_disputes_owner_status", "owner", "status"),
        Index("ix_disputes_resolved", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # DisputeKind
    channel: Mapped[str] = mapped_column(String(20))  # DisputeChannel
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(64))  # username of who must answer it
    # The officer the complaint is about (a service complaint): an upheld one costs them assessment points.
    against_officer: Mapped[str | None] = mapped_column(String(64))
    # A complaint about a partner agent ("agent", its code) or a card distributor ("card", its code): counted
    # in their assessment's service part (recovery.assessment.complaints).
    against_channel: Mapped[str | None] = mapped_column(String(10))
    against_account: Mapped[str | None] = mapped_column(String(40))
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # when the customer raised it
    registered_by: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # the deadline for the answer
    status: Mapped[str] = mapped_column(String(10), default=DisputeStatus.open)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(Text)  # the reason given with the outcome
    remedy: Mapped[str | None] = mapped_column(String(20))  # Remedy, for an upheld dispute
    correction_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("bill_corrections.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
