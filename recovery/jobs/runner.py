"""Running one job for one business day, under its lock, with its run recorded."""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
import traceback
from importlib import import_module
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recovery.errors import Conflict
from recovery.jobs.models import JobLock, JobRun
from recovery.jobs.table import Job
from recovery.ops import metrics
from recovery.timeutil import now


class JobBusy(Conflict):
    code = "job_busy"


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire(session: Session, job: Job, day: dt.date) -> None:
    """Take the job's lock for the day in its own committed transaction, or raise JobBusy."""
    moment = now()
    # A lapsed lock (its holder crashed) is cleared first; a live one stays and the INSERT fails.
    session.execute(delete(JobLock).where(JobLock.job_id == job.id, JobLock.day == day, JobLock.expires_at < moment))
    session.add(JobLock(job_id=job.id, day=day, holder=_holder(), acquired_at=moment,
                        expires_at=moment + dt.timedelta(minutes=job.lease_minutes)))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        holder = session.scalar(select(JobLock.holder).where(JobLock.job_id == job.id, JobLock.day == day))
        raise JobBusy(f"job {job.id} for {day.isoformat()} is already running ({holder})") from None


def release(session: Session, job: Job, day: dt.date) -> None:
    session.execute(delete(JobLock).where(JobLock.job_id == job.id, JobLock.day == day, JobLock.holder == _holder()))
    session.commit()


def already_succeeded(session: Session, job: Job, day: dt.date) -> bool:
    return session.scalar(select(JobRun.id).where(JobRun.job_id == job.id, JobRun.day == day,
                                                   JobRun.status == "succeeded").limit(1)) is not None


def run(session: Session, job: Job, day: dt.date, *, trigger: str, actor: str, force: bool = True) -> JobRun | None:
    """Run `job` for `day`: lock, call, commit the work with its run record, unlock.

    The scheduler passes force=False: a day the job already finished is skipped, so two scheduler
    processes never do a night's work twice. The CLI reruns a day on purpose (force=True); every job
    is written so that a rerun gives the same result. Returns None when the run was skipped.
    """
    acquire(session, job, day)
    started = time.perf_counter()
    try:
        if not force and already_succeeded(session, job, day):
            metrics.job_finished(job.id, "skipped", time.perf_counter() - started)
            return None
        record = JobRun(job_id=job.id, day=day, trigger=trigger, actor=actor, status="running", started_at=now())
        module, _, name = job.func.partition(":")
        func = getattr(import_module(module), name)
        try:
            summary: dict[str, Any] = func(session, day) or {}
        except BaseException as e:
            session.rollback()
            failed = JobRun(job_id=job.id, day=day, trigger=trigger, actor=actor, status="failed",
                            started_at=record.started_at, finished_at=now(),
                            error="".join(traceback.format_exception_only(e)).strip()[:4000])
            session.add(failed)
            session.commit()
            metrics.job_finished(job.id, "failed", time.perf_counter() - started)
            raise
        record.status, record.finished_at, record.summary = "succeeded", now(), summary
        session.add(record)
        session.commit()
        metrics.job_finished(job.id, "succeeded", time.perf_counter() - started)
        return record
    finally:
        release(session, job, day)
