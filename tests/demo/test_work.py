"""The demo stages recent work through the product's own paths, so that every role has work on first sign-in."""

from __future__ import annotations

from sqlalchemy import func, select

from recovery.approvals.models import ApprovalRequest
from recovery.assessment.models import ClosedAssessment
from recovery.collections.models import DunningState, PayPlan, Promise
from recovery.disputes.models import Dispute
from recovery.jobs.models import JobRun
from recovery.reconcile.models import ReconBreak, StatementFile


def test_demo_stages_statements_promises_dunning_requests_and_a_closed_month(recovery, session, monkeypatch):
    monkeypatch.setenv("RECOVERY_DEMO_PASSWORD", "demo-password-123")
    result = recovery("demo", "--customers", "300", "--months", "15", "--as-of", "2026-11-23")
    assert result.exit_code == 0, result.output
    assert "recent work staged" in result.output

    # Statements of the three days before, taken in as files and reconciled by the nightly job.
    assert session.scalar(select(func.count()).select_from(StatementFile)) >= 3
    assert {d.isoformat() for d in session.scalars(select(JobRun.day).where(JobRun.job_id == "reconcile.daily"))} \
        == {"2026-11-20", "2026-11-21", "2026-11-22"}
    kinds = set(session.scalars(select(ReconBreak.kind).where(ReconBreak.status == "open")))
    assert {"missing_in_ledger", "amount_mismatch", "duplicate"} <= kinds
    # Promises found kept and broken by the night; a pay plan; customers on the dunning ladder.
    assert set(session.scalars(select(Promise.status))) >= {"kept", "broken", "open"}
    assert session.scalar(select(func.count()).select_from(PayPlan)) == 1
    assert session.scalar(select(func.count()).select_from(DunningState)) > 0
    # A write-off, a disconnection and a confirmed theft's charges wait for a supervisor; October is closed for
    # the assessment.
    assert set(session.scalars(select(ApprovalRequest.kind).where(ApprovalRequest.status == "pending"))) == {
        "debt.write_off", "disconnection.execute", "theft.charge"}
    assert set(session.scalars(select(ClosedAssessment.month))) == {"2026-10"}
    # Complaints: four open (past their deadline, the demo's today being behind the clock), four answered.
    assert dict(session.execute(select(Dispute.status, func.count()).group_by(Dispute.status)).all()) == {
        "open": 4, "upheld": 3, "rejected": 1}

    again = recovery("demo", "--customers", "300", "--months", "15", "--as-of", "2026-11-23")
    assert again.exit_code == 0 and "recent work staged" not in again.output
    assert session.scalar(select(func.count()).select_from(Promise)) == 13
