"""The nightly scoring job: trains a first model when none is active, stores one run per day, reruns the same."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from recovery.extensions import db
from recovery.jobs.models import JobRun
from recovery.risk.models import RiskScore

AS_OF = "2026-11-23"


def test_first_night_trains_then_scores_everyone_and_a_rerun_replaces_the_days_run(app, recovery, tmp_path):
    app.config["MODELS_DIR"] = str(tmp_path / "models")
    assert recovery("demo", "--customers", "400", "--months", "24", "--as-of", AS_OF).exit_code == 0

    first = recovery("jobs", "run", "risk.score", "--date", AS_OF)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)["summary"]
    assert summary["trained"] == summary["model_version"] and summary["scored"] == 400
    stored = db.session.scalar(select(func.count()).select_from(RiskScore))
    assert stored == 400

    again = json.loads(recovery("jobs", "run", "risk.score", "--date", AS_OF).stdout)["summary"]
    assert again["trained"] is None and again["model_version"] == summary["model_version"]
    assert db.session.scalar(select(func.count()).select_from(RiskScore)) == 400
    runs = db.session.scalars(select(JobRun.status).where(JobRun.job_id == "risk.score")).all()
    assert runs == ["succeeded", "succeeded"]
