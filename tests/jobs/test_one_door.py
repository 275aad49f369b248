"""One door for nightly work: a command that does a job's work runs it through the job runner, under the job's
lock and into its history, as the scheduler and `recovery night` do."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from recovery.jobs import runner
from recovery.jobs.models import JobLock, JobRun
from recovery.jobs.table import job
from recovery.timeutil import now, today

DAY = dt.date(2026, 11, 22)


def _hold(session, job_id: str, day: dt.date) -> None:
    """The scheduler (another host) is running the job for the day."""
    session.add(JobLock(job_id=job_id, day=day, holder="scheduler-host:7", acquired_at=now(),
                        expires_at=now() + dt.timedelta(hours=1)))
    session.commit()


def test_every_command_doing_a_jobs_work_is_refused_while_the_job_runs_and_changes_nothing(session, recovery):
    d, now_day = DAY.isoformat(), today()
    cases = [  # the job whose lock the command takes, for which day, and the command
        ("billing.penalties", DAY, ["penalties", "accrue", "--date", d]),
        ("credit.ratings", DAY, ["credit", "rate", "--as-of", d]),
        ("reconcile.daily", DAY, ["reconcile", "run", "--date", d]),
        ("collections.dunning", DAY, ["collections", "dunning", "--date", d]),
        ("collections.promises", DAY, ["collections", "promises", "--date", d]),
        ("collections.worklist", DAY, ["worklist", "build", "--date", d]),
        ("collections.worklist", DAY, ["segments", "refresh", "--date", d]),
        ("credit.terms_review", DAY, ["credit", "terms", "review", "--as-of", d]),
        ("credit.split_settlement", DAY, ["credit", "terms", "settle", "--date", d]),
        ("payments.debit_batch", DAY, ["debit", "batch", "--date", d]),
        ("risk.score", DAY, ["model", "score", "--as-of", d]),
        ("notifications.send", now_day, ["notices", "send"]),
        ("assessment.close", now_day, ["assessment", "--month", "2026-10", "--close"]),
    ]
    held = {(job_id, day) for job_id, day, _ in cases}
    for job_id, day in held:
        _hold(session, job_id, day)
    for job_id, day, args in cases:
        result = recovery(*args)
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr == f"error: job {job_id} for {day.isoformat()} is already running (scheduler-host:7)\n"
    assert session.scalar(select(func.count()).select_from(JobRun)) == 0
    assert session.scalar(select(func.count()).select_from(JobLock)) == len(held) == 12  # still their holder's


def test_a_run_by_hand_is_in_the_job_history_and_the_scheduler_finds_the_day_done(session, recovery):
    result = recovery("penalties", "accrue", "--date", DAY.isoformat())
    assert result.exit_code == 0, result.output
    run = session.scalars(select(JobRun)).one()
    assert (run.job_id, run.day, run.trigger, run.status) == ("billing.penalties", DAY, "cli", "succeeded")
    assert run.actor.startswith("cli:") and "scope" not in run.summary
    assert session.scalar(select(func.count()).select_from(JobLock)) == 0
    history = recovery("jobs", "history", "--job", "billing.penalties").output.splitlines()
    assert len(history) == 1 and " billing.penalties 2026-11-22 succeeded (cli, cli:" in history[0]
    assert runner.run(session, job("billing.penalties"), DAY, trigger="schedule", actor="system", force=False) is None


def test_a_narrower_run_by_hand_is_in_the_history_but_leaves_the_day_to_the_scheduler(session, recovery):
    result = recovery("reconcile", "run", "--date", DAY.isoformat(), "--channel", "agent")
    assert result.exit_code == 0, result.output
    run = session.scalars(select(JobRun)).one()
    assert (run.job_id, run.trigger, run.status, run.summary["scope"]) == ("reconcile.daily", "cli", "succeeded",
                                                                          "channel agent")
    assert not runner.already_succeeded(session, job("reconcile.daily"), DAY)


def test_a_refused_input_leaves_no_run_in_the_history(session, recovery):
    future = today() + dt.timedelta(days=3)
    result = recovery("penalties", "accrue", "--date", future.isoformat())
    assert result.exit_code == 1
    assert result.stderr == f"error: cannot accrue penalties for {future.isoformat()}: it lies in the future\n"
    assert session.scalar(select(func.count()).select_from(JobRun)) == 0
    assert session.scalar(select(func.count()).select_from(JobLock)) == 0
