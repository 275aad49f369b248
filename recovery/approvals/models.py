"""Approval requests."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class ApprovalStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"
    cancelled = "cancelled"


class ApprovalRequest(db.Model):
    """An action waiting for a supervisor: what (kind and payload), on what, why, who asked, who decided."""

    __tablename__ = "approval_requests"
    __table_args__ = (Index("ix_approval_requests_status_kind", "status", "kind"),
                      Index("ix_approval_requests_subject", "subject_type", "subject_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), default=ApprovalStatus.pending)
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(String(500))
    # What carrying out the action produced (ids of the entries it posted, …).
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
