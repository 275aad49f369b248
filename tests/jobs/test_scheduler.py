"""The scheduler process fires each job at its business time; the policy moves or disables jobs."""

from __future__ import annotations

import datetime as dt

from recovery import create_app
from recovery.jobs.scheduler import build, planned
from recovery.jobs.table import JOBS


def _app(tmp_path, policy=None):
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/s.sqlite", "SECRET_KEY": "t",
                       "RECOVERY_TZ": "Asia/Shanghai", "POLICY": policy or {}})


def test_every_job_gets_a_cron_trigger_at_its_time_in_the_business_time_zone(tmp_path):
    scheduler = build(_app(tmp_path))
    scheduled = {j.id: j for j in scheduler.get_jobs()}
    assert set(scheduled) == {j.id for j in JOBS}
    job = JOBS[0]
    hour, minute = map(int, job.at.split(":"))
    trigger = scheduled[job.id].trigger
    start = dt.datetime(2026, 11, 22, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    fires = trigger.get_next_fire_time(None, start)
    assert (fires.hour, fires.minute, fires.utcoffset()) == (hour, minute, dt.timedelta(hours=8))


def test_the_policy_moves_a_job_and_disables_another(tmp_path):
    first = JOBS[0].id
    app = _app(tmp_path, {"jobs": {"at": {first: "05:45"}}})
    assert dict((j.id, at) for j, at in planned(app))[first] == "05:45"
    disabled = _app(tmp_path, {"jobs": {"disabled": [first]}})
    assert first not in {j.id for j in build(disabled).get_jobs()}
