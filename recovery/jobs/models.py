"""Job runs (history) and job locks (one holder per job and business day)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class JobRun(db.Model):
    """One run of a job for one business day: who started it, how it ended, what it did."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_day", "job_id", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(60))
    day: Mapped[dt.date]
    # schedule (the scheduler process) or cli (someone asked for it, possibly for a past day).
    trigger: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12))  # running | succeeded | failed
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class JobLock(db.Model):
    """Held while a job runs for a day. The primary key is the lock: a second holder's INSERT fails.

    A crashed holder's lock lapses at `expires_at`, so a job is never blocked for good.
    """

    __tablename__ = "job_locks"

    job_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    acquired_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
