"""The scheduler process (`recovery scheduler`): APScheduler 3 firing the job table at business times.

It runs in its own process, never inside web workers. Several may run (a standby machine): the
job lock and the "already succeeded for this day" check make each night's work happen once.
"""

from __future__ import annotations

import datetime as dt
import logging

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask

from recovery import policy
from recovery.extensions import db
from recovery.jobs import runner
from recovery.jobs.table import JOBS, Job
from recovery.timeutil import business_tz, today

log = logging.getLogger("recovery.scheduler")


def planned(app: Flask) -> list[tuple[Job, str]]:
    """The jobs the scheduler will fire and their times of day, after the policy's overrides."""
    with app.app_context():
        settings = policy.section("jobs")
    return [(j, settings["at"].get(j.id, j.at)) for j in JOBS if j.id not in settings["disabled"]]


def fire(app: Flask, job: Job) -> None:
    """One scheduled firing: the business day it covers, run unless already done."""
    with app.app_context():
        day = today() + dt.timedelta(days=job.day_offset)
        try:
            done = runner.run(db.session, job, day, trigger="schedule", actor="system", force=False)
        except runner.JobBusy as e:
            log.info("%s", e.message)
            return
        except Exception:
            log.exception("job %s for %s failed", job.id, day)
            return
        finally:
            db.session.remove()
        log.info("job %s for %s: %s", job.id, day, "skipped (already done)" if done is None else done.summary)


def build(app: Flask) -> BlockingScheduler:
    """A scheduler with one cron trigger per planned job, in the business time zone."""
    with app.app_context():
        tz = business_tz()
    scheduler = BlockingScheduler(timezone=tz)
    for job, at in planned(app):
        hour, minute = at.split(":")
        # coalesce + max_instances=1: a late or slow night never stacks runs of the same job;
        # a misfire within six hours (a restart at night) still runs.
        scheduler.add_job(fire, CronTrigger(hour=int(hour), minute=int(minute), timezone=tz), args=[app, job],
                          id=job.id, name=job.description, coalesce=True, max_instances=1,
                          misfire_grace_time=6 * 3600)
    return scheduler
