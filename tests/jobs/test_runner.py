"""Jobs: one run per job and day under a database lock, recorded, rerunnable, failures rolled back."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from recovery.audit.models import AuditEntry
from recovery.audit.service import record
from recovery.extensions import db
from recovery.jobs import runner
from recovery.jobs.models import JobLock, JobRun
from recovery.jobs.table import JOBS, Job
from recovery.timeutil import now

DAY = dt.date(2026, 11, 22)


def count_day(session, day):
    """A job that writes one audit entry per run and says how many there are for the day."""
    record(session, "test.job", "day", day.isoformat(), actor="system")
    session.flush()
    n = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.subject_id == day.isoformat()))
    return {"entries": n}


def slow_count_day(session, day):
    import time

    time.sleep(0.3)
    return count_day(session, day)


def failing(session, day):
    record(session, "test.job", "day", day.isoformat(), actor="system")
    session.flush()
    raise RuntimeError("bank file missing")


COUNT = Job("test.count", func="tests.jobs.test_runner:count_day", at="01:00", description="count")
SLOW = Job("test.slow", func="tests.jobs.test_runner:slow_count_day", at="01:00", description="slow")
FAIL = Job("test.fail", func="tests.jobs.test_runner:failing", at="01:00", description="fails")


def entries(day=DAY) -> int:
    counted = select(func.count()).select_from(AuditEntry).where(AuditEntry.subject_id == day.isoformat())
    return db.session.scalar(counted)


def test_a_run_commits_its_work_with_its_record_and_releases_the_lock(session):
    done = runner.run(session, COUNT, DAY, trigger="cli", actor="cli:test")
    assert done.status == "succeeded" and done.summary == {"entries": 1}
    session.remove()
    assert entries() == 1
    assert db.session.scalar(select(func.count()).select_from(JobLock)) == 0
    run = db.session.scalars(select(JobRun)).one()
    assert (run.job_id, run.day, run.trigger, run.actor, run.status) == ("test.count", DAY, "cli", "cli:test",
                                                                          "succeeded")


def test_the_scheduler_skips_a_day_already_done_but_the_cli_reruns_it(session):
    runner.run(session, COUNT, DAY, trigger="schedule", actor="system", force=False)
    assert runner.run(session, COUNT, DAY, trigger="schedule", actor="system", force=False) is None
    assert entries() == 1
    runner.run(session, COUNT, DAY, trigger="cli", actor="cli:test", force=True)
    assert entries() == 2
    # Another day is another run.
    assert runner.run(session, COUNT, DAY + dt.timedelta(days=1), trigger="schedule", actor="system",
                      force=False) is not None


def test_a_live_lock_held_elsewhere_refuses_the_run_and_a_lapsed_one_is_taken_over(session):
    session.add(JobLock(job_id=COUNT.id, day=DAY, holder="other-host:1", acquired_at=now(),
                        expires_at=now() + dt.timedelta(hours=1)))
    session.commit()
    with pytest.raises(runner.JobBusy, match=r"already running \(other-host:1\)"):
        runner.run(session, COUNT, DAY, trigger="schedule", actor="system")
    assert entries() == 0
    session.execute(JobLock.__table__.delete())
    session.add(JobLock(job_id=COUNT.id, day=DAY, holder="crashed-host:9", acquired_at=now() - dt.timedelta(hours=5),
                        expires_at=now() - dt.timedelta(hours=2)))
    session.commit()
    assert runner.run(session, COUNT, DAY, trigger="schedule", actor="system").status == "succeeded"
    assert entries() == 1


def test_a_failing_job_changes_nothing_records_the_failure_and_frees_the_day(session):
    with pytest.raises(RuntimeError, match="bank file missing"):
        runner.run(session, FAIL, DAY, trigger="schedule", actor="system")
    session.remove()
    assert entries() == 0
    run = db.session.scalars(select(JobRun)).one()
    assert run.status == "failed" and "bank file missing" in run.error
    assert db.session.scalar(select(func.count()).select_from(JobLock)) == 0


def test_two_schedulers_firing_at_once_do_the_nights_work_once(app):
    outcomes: list[str] = []

    def fire():
        with app.app_context():
            try:
                done = runner.run(db.session, SLOW, DAY, trigger="schedule", actor="system", force=False)
                outcomes.append("ran" if done else "skipped")
            except runner.JobBusy:
                outcomes.append("busy")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=fire) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ran") == 1 and len(outcomes) == 4
    assert entries() == 1


def test_every_declared_job_names_an_importable_function_and_a_valid_time():
    from importlib import import_module

    assert len({j.id for j in JOBS}) == len(JOBS)
    for job in JOBS:
        module, _, name = job.func.partition(":")
        assert callable(getattr(import_module(module), name)), job.id
        hour, minute = map(int, job.at.split(":"))
        assert 0 <= hour < 24 and 0 <= minute < 60


def test_jobs_run_for_an_unknown_job_fails_with_one_line(recovery):
    result = recovery("jobs", "run", "no.such.job", "--date", "2026-11-22")
    assert result.exit_code == 1
    assert "no job 'no.such.job'" in result.output
