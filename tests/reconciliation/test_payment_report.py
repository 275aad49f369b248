"""The daily payment report (缴费日报表) from the command line, on both databases: per channel account,
collected, settled and outstanding, beside the statement; provisional payments count as outstanding."""

from __future__ import annotations

from recovery.extensions import db
from recovery.payments.models import Payment
from tests.reconciliation.test_breaks import DAY, agent_day  # noqa: F401  (the fixture)

HEADER = ("date,channel,channel_account,collected_count,collected,settled_count,settled,outstanding_count,"
          "outstanding,statement_total,open_breaks")


def test_the_report_counts_collected_settled_and_outstanding(recovery, agent_day, tmp_path):  # noqa: F811
    # R3 was never on the agent's statement: make it provisional, as an agent's posting is until settled.
    db.session.execute(Payment.__table__.update().where(Payment.channel_ref == "R3").values(state="provisional"))
    db.session.commit()
    out = tmp_path / "daily.csv"
    result = recovery("reconcile", "payments", "--date", DAY, "--out", out)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").splitlines() == [
        HEADER, f"{DAY},agent,AG01,4,1000.00,3,700.00,1,300.00,750.00,4"]


def test_a_day_without_payments_has_only_the_header(recovery):
    result = recovery("reconcile", "payments", "--date", "2026-01-01")
    assert result.exit_code == 0 and result.stdout.splitlines() == [HEADER]
