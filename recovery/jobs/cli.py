"""`recovery scheduler`, `recovery jobs list|run|history`, `recovery policy show`."""

from __future__ import annotations

import datetime as dt
import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from recovery.cliutil import date_param as _date
from recovery.extensions import db


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the nightly jobs at their times (its own process; stop it with Ctrl-C or SIGTERM)."""
    from recovery.jobs.scheduler import build, planned

    app = current_app._get_current_object()
    for job, at in planned(app):
        click.echo(f"{at}  {job.id}: {job.description}")
    scheduler = build(app)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)


@click.group("jobs")
def jobs_group() -> None:
    """The nightly jobs: list them, run one for any day, read their history."""


@jobs_group.command("list")
@with_appcontext
def jobs_list() -> None:
    """Every job, its time of day (after the policy) and what it does."""
    from recovery.jobs.scheduler import planned
    from recovery.jobs.table import JOBS

    times = {j.id: at for j, at in planned(current_app._get_current_object())}
    for job in sorted(JOBS, key=lambda j: times.get(j.id, "99:99")):
        click.echo(f"{times.get(job.id, 'disabled'):>8}  {job.id}: {job.description}")


@jobs_group.command("run")
@click.argument("job_id")
@click.option("--date", "day", callback=_date, help="Business day to run for (default: the job's usual day).")
@with_appcontext
def jobs_run(job_id: str, day: dt.date | None) -> None:
    """Run one job now, for any past day; rerunning a day gives the same result."""
    from recovery.audit.service import current_actor
    from recovery.errors import NotFound
    from recovery.jobs import runner
    from recovery.jobs.table import job
    from recovery.timeutil import today

    try:
        found = job(job_id)
    except KeyError as e:
        raise NotFound(str(e.args[0])) from None
    day = day or today() + dt.timedelta(days=found.day_offset)
    done = runner.run(db.session, found, day, trigger="cli", actor=current_actor(), force=True)
    click.echo(json.dumps({"job": found.id, "day": day.isoformat(), "summary": done.summary if done else None},
                          ensure_ascii=False))


@click.command("night")
@click.option("--date", "day", required=True, callback=_date, help="Business day the night's jobs run for.")
@click.option("--resume", is_flag=True, help="Leave out the jobs that already succeeded for the day.")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@with_appcontext
def night_command(day: dt.date, resume: bool, as_json: bool) -> None:
    """Run every nightly job for the day in the job table's order (locks, history); print each one's rows and
    seconds; exit non-zero if any failed."""
    from recovery.audit.service import current_actor
    from recovery.errors import DomainError
    from recovery.jobs.night import run_night, table
    from recovery.jobs.table import JOBS
    from recovery.progress import on_terminal, progress

    bar = progress(total=len(JOBS), desc=f"night {day.isoformat()}", unit="job")

    def on_step(job, step) -> None:
        if step is None:
            bar.set_postfix_str(job.id)
        else:
            bar.update(1)
            if step.error and on_terminal():
                bar.write(f"{job.id}: {step.status}: {step.error}", file=sys.stderr)

    try:
        steps = run_night(db.session, day, actor=current_actor(), resume=resume, on_step=on_step)
    finally:
        bar.close()
    if as_json:
        click.echo(json.dumps({"date": day.isoformat(), "jobs": [s.as_json() for s in steps],
                               "seconds": round(sum(s.seconds for s in steps), 3)}, ensure_ascii=False))
    else:
        click.echo(table(day, steps))
    failed = [f"{s.job} ({s.error})" for s in steps if s.status in ("failed", "busy")]
    if failed:
        raise DomainError(f"night {day.isoformat()}: {len(failed)} of {len(steps)} jobs failed: {'; '.join(failed)}; "
                          "see `recovery jobs history`")


@jobs_group.command("history")
@click.option("--job", "job_id")
@click.option("--limit", default=20, show_default=True, type=int)
@with_appcontext
def jobs_history(job_id: str | None, limit: int) -> None:
    """The latest runs, newest first."""
    from recovery.jobs.models import JobRun

    stmt = select(JobRun).order_by(JobRun.id.desc()).limit(limit)
    if job_id:
        stmt = stmt.where(JobRun.job_id == job_id)
    for r in db.session.scalars(stmt):
        click.echo(f"{r.started_at.isoformat(timespec='seconds')}  {r.job_id} {r.day.isoformat()} {r.status} "
                   f"({r.trigger}, {r.actor}) {r.error or json.dumps(r.summary, ensure_ascii=False)}")


@click.group("policy")
def policy_group() -> None:
    """The utility's policy (rating scales, rates, rules)."""


@policy_group.command("show")
@with_appcontext
def policy_show() -> None:
    """The policy in force, defaults filled in, as JSON."""
    click.echo(json.dumps(current_app.config["POLICY_IN_FORCE"], ensure_ascii=False, indent=2, default=str))
