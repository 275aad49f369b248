"""`recovery worklist …` and `recovery segments show`, and the nightly job in the jobs table."""

from __future__ import annotations

import json

from sqlalchemy import select

from recovery.collections.models import WorkItem
from recovery.extensions import db
from recovery.jobs.table import job
from tests.worklist.helpers import customer, day, load, monthly_bills, officers


def test_worklist_commands_build_assign_report_coverage_and_show_segments(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1", "G1"), customer("C2", "G2")],
         bills=[*monthly_bills("C1", [("300.00", "200")], last_issued=-60),
                *monthly_bills("C2", [("100.00", "200")], last_issued=-60)])
    officers(("li", "officer", ["G1"]))
    db.session.commit()

    assigned = recovery("worklist", "assign", "--grid", "G1")
    assert assigned.exit_code == 0, assigned.output
    assert json.loads(assigned.output)["assigned"] == 1

    built = recovery("worklist", "build", "--date", day().isoformat())
    assert built.exit_code == 0, built.output
    summary = json.loads(built.output)
    assert summary["segment_call"] == 2 and summary["coverage"]["orphans"] == 1  # C2's grid has no officer
    assert db.session.scalar(select(WorkItem.assigned_to).where(WorkItem.reason == "segment_call")
                             .order_by(WorkItem.priority_fen.desc()).limit(1)) == "li"
    assert json.loads(recovery("worklist", "build", "--date", day().isoformat()).output)["created"] == 0

    report = recovery("worklist", "coverage")
    assert report.exit_code == 0 and "orphan C2 (G2): unassigned" in report.output
    assert "li: 1 customers" in report.output
    shown = recovery("segments", "show")
    assert shown.exit_code == 0 and "high_value" in shown.output
    assert recovery("worklist", "assign", "--grid", "NOPE").exit_code == 1

    nightly = job("collections.worklist")
    assert (nightly.at, nightly.day_offset, nightly.func) == ("05:00", 0, "recovery.worklist.build:nightly")
