"""`recovery night --date D`: every nightly job for D in the job table's order, through the runner's locks and
history, a table of rows and seconds, and a non-zero exit when a job fails (both databases, through the CLI)."""

from __future__ import annotations

import json

from sqlalchemy import select

from recovery.extensions import db
from recovery.jobs.models import JobRun
from recovery.jobs.table import JOBS
from tests.factories import bill, customer, load, payment

DAY = "2026-11-22"


def _utility(recovery, tmp_path) -> None:
    """C1 owes a bill due a month ago; C2 paid theirs on time."""
    load(recovery, tmp_path, customers=[customer("C1"), customer("C2")],
         bills=[bill("B1", "C1", "100.00", "2026-09", "2026-10-03", "2026-10-20"),
                bill("B2", "C2", "80.00", "2026-09", "2026-10-03", "2026-10-20")],
         payments=[payment("R1", "C2", "80.00", "2026-10-15T10:00:00+08:00")])


def test_the_night_runs_every_job_in_table_order_and_reports_rows_and_seconds(recovery, tmp_path):
    _utility(recovery, tmp_path)
    result = recovery("night", "--date", DAY, "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # piped: no progress bar
    night = json.loads(result.stdout)
    assert [j["job"] for j in night["jobs"]] == [j.id for j in JOBS]
    assert {j["status"] for j in night["jobs"]} == {"succeeded"}
    rows = {j["job"]: j["rows"] for j in night["jobs"]}
    assert (rows["billing.penalties"], rows["credit.ratings"]) == (1, 2)  # B1 is overdue; both customers rated
    assert all(j["seconds"] >= 0 for j in night["jobs"])
    runs = db.session.execute(select(JobRun.job_id, JobRun.trigger, JobRun.status).order_by(JobRun.id)).all()
    assert runs == [(j.id, "night", "succeeded") for j in JOBS]

    table = recovery("night", "--date", DAY, "--resume")  # every job done already: nothing runs twice
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["job", "status", "rows", "seconds"]
    assert [ln.split()[:2] for ln in lines[1:-1]] == [[j.id, "done_already"] for j in JOBS]
    assert lines[-1].split()[:3] == ["night", DAY, "succeeded"]
    assert db.session.scalar(select(JobRun.id).order_by(JobRun.id.desc()).limit(1)) == len(JOBS)


def test_a_failing_job_fails_the_night_after_the_others_ran(recovery, tmp_path, monkeypatch):
    import recovery.collections.writeoff.service as writeoff

    _utility(recovery, tmp_path)

    def broken(session, day):
        raise RuntimeError("writeoff ledger unreadable")

    monkeypatch.setattr(writeoff, "recover", broken)
    result = recovery("night", "--date", DAY)
    assert result.exit_code == 1
    assert result.stderr == (f"error: night {DAY}: 1 of {len(JOBS)} jobs failed: collections.writeoff_recovery "
                             "(RuntimeError: writeoff ledger unreadable); see `recovery jobs history`\n")
    statuses = dict(db.session.execute(select(JobRun.job_id, JobRun.status)).all())
    assert statuses.pop("collections.writeoff_recovery") == "failed"
    assert set(statuses) == {j.id for j in JOBS} - {"collections.writeoff_recovery"}
    assert set(statuses.values()) == {"succeeded"}
