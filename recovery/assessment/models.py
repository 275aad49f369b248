"""A closed assessment month: each kind's table as it stood when the month was closed (the figures pay
is reckoned on; read by the page instead of computing the month again)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import UTCDateTime


class ClosedAssessment(db.Model):
    """One month's table of one kind (officers, grids, agents), as pandas' table-oriented JSON."""

    __tablename__ = "closed_assessments"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    table_json: Mapped[str] = mapped_column(Text)
    closed_by: Mapped[str] = mapped_column(String(100))
    closed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
