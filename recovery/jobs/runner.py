"""Running one job for one business day, under its lock, with its run recorded."""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
import traceback
from collections.abc import Callable
from importlib import import_module
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recovery.errors import Conflict, DomainError
from recovery.extensions import db
from recovery.jobs.models import JobLock, JobRun
from recovery.jobs.table import Job
from recovery.ops import metrics
from recovery.timeutil import now
from recovery.unitofwork import unit_of_work


class JobBusy(Conflict):
    code = "job_busy"


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire(session: Session, job: Job, day: dt.date) -> None:
    """Take the job's lock for the day in its own committed transaction, or raise JobBusy."""
    moment = now()
    try:
        with unit_of_work(session):
            # A lapsed lock (its holder crashed) is cleared first; a live one stays and the INSERT fails.
            session.execute(delete(JobLock).where(JobLock.job_id == job.id, JobLock.day == day,
                                                  JobLock.expires_at < moment))
            session.add(JobLock(job_id=job.id, day=day, holder=_holder(), acquired_at=moment,
                                expires_at=moment + dt.timedelta(minutes=job.lease_minutes)))
    except IntegrityError:
        holder = session.scalar(select(JobLock.holder).where(JobLock.job_id == job.id, JobLock.day == day))
        raise JobBusy(f"job {job.id} for {day.isoformat()} is already running ({holder})") from None


def release(session: Session, job: Job, day: dt.date) -> None:
    with unit_of_work(session):
        session.execute(delete(JobLock).where(JobLock.job_id == job.id, JobLock.day == day,
                                              JobLock.holder == _holder()))


def refresh_statistics(session: Session) -> None:
    """After a job has rewritten its tables, give SQLite's query planner current statistics: a sampled ANALYZE,
    milliseconds even at a million customers. SQLite keeps none by itself (PostgreSQL's autovacuum does), and
    without them it walks an unselective index: an officer's worklist read every open item of the utility's
    instead of looking up the officer's own few thousand."""
    if session.get_bind().dialect.name != "sqlite":
        return
    with unit_of_work(session):
        session.execute(text("PRAGMA analysis_limit = 1000"))  # rows sampled per index
        session.execute(text("ANALYZE"))


def already_succeeded(session: Session, job: Job, day: dt.date) -> bool:
    """A run of the whole job succeeded for the day (a run with a narrower scope does not count)."""
    summaries = session.scalars(select(JobRun.summary).where(JobRun.job_id == job.id, JobRun.day == day,
                                                             JobRun.status == "succeeded")).all()
    return any(not (summary or {}).get("scope") for summary in summaries)


def run(session: Session, job: Job, day: dt.date, *, trigger: str, actor: str, force: bool = True,
        work: Callable[[Session, dt.date], dict[str, Any] | None] | None = None,
        scope: str | None = None, record_refusals: bool = True) -> JobRun | None:
    """Run `job` for `day`: lock, call, commit the work with its run record, unlock.

    The scheduler passes force=False: a day the job already finished is skipped, so two scheduler
    processes never do a night's work twice. The CLI reruns a day on purpose (force=True); every job
    is written so that a rerun gives the same result. Returns None when the run was skipped.

    A command that does the job's work passes it as `work` (default: the job's function), so that it
    runs under the same lock and lands in the same history. `scope` names a narrower run (one customer,
    one channel): it is recorded in the run's summary and does not count as the day's job done. A command
    passes record_refusals=False: when the service refuses its input (a DomainError: a bad file, a day in the
    future) nothing ran and nothing changes, not even the history.
    """
    acquire(session, job, day)
    started = time.perf_counter()
    try:
        if not force and already_succeeded(session, job, day):
            metrics.job_finished(job.id, "skipped", time.perf_counter() - started)
            return None
        record = JobRun(job_id=job.id, day=day, trigger=trigger, actor=actor, status="running", started_at=now())
        if work is None:
            module, _, name = job.func.partition(":")
            work = getattr(import_module(module), name)
        try:
            summary: dict[str, Any] = work(session, day) or {}
            if scope:
                summary = {"scope": scope, **summary}
        except BaseException as e:
            session.rollback()
            if isinstance(e, DomainError) and not record_refusals:
                raise
            failed = JobRun(job_id=job.id, day=day, trigger=trigger, actor=actor, status="failed",
                            started_at=record.started_at, finished_at=now(), summary={"scope": scope} if scope else {},
                            error="".join(traceback.format_exception_only(e)).strip()[:4000])
            with unit_of_work(session):
                session.add(failed)
            metrics.job_finished(job.id, "failed", time.perf_counter() - started)
            raise
        record.status, record.finished_at, record.summary = "succeeded", now(), summary
        with unit_of_work(session):
            session.add(record)  # committed with the work it records
        refresh_statistics(session)
        metrics.job_finished(job.id, "succeeded", time.perf_counter() - started)
        return record
    finally:
        release(session, job, day)


def run_by_hand(job_id: str, day: dt.date, work: Callable[[], dict[str, Any]], *,
                scope: str | None = None) -> dict[str, Any]:
    """A command doing a nightly job's work, through this runner as the scheduler does it: under the job's lock
    for `day` (JobBusy, the command's one-line error, while another run holds it), committed with its run in the
    job history (`recovery jobs history`), or rolled back and recorded as failed; input the service refuses
    changes nothing. `scope` names a narrower run (one customer, one channel) that does not count as the day's
    job done. Returns what `work` returned."""
    from recovery.audit.service import current_actor
    from recovery.jobs.table import job

    done: list[dict[str, Any]] = []

    def call(_session: Session, _day: dt.date) -> dict[str, Any]:
        done.append(work())
        return done[0]

    run(db.session, job(job_id), day, trigger="cli", actor=current_actor(), force=True, work=call, scope=scope,
        record_refusals=False)
    return done[0]
