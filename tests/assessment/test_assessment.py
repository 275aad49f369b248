"""Assessment (考核): measures to points, weights, the yearly blend, the pay factor, agents, the page and
the CSV export."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
from sqlalchemy import select

from recovery.assessment import scoring, service
from recovery.auth.models import User
from recovery.auth.service import create_user
from recovery.collections.models import Promise, Visit
from recovery.csvexport import safe_cell
from recovery.errors import Invalid
from recovery.extensions import db
from recovery.payments.channels.agents import create_agent
from recovery.payments.models import Agent, Remittance
from recovery.reconcile.models import ReconBreak, ReconRun
from recovery.worklist.models import AccountManager
from tests.credit.security_helpers import PASSWORD, cust, set_policy
from tests.factories import bill, customer, load, payment
from tests.web.data import cheap_password_hashing

MONTH = "2026-03"


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def march(recovery, tmp_path):
    """March 2026: C1 (G1) paid 940.00 of a 1,000.00 bill, C4 (G2) all of 500.00; agent AG-1 took 100.00 on
    2 March (remitted the next day) and 200.00 on 5 March from C5 (G3) (remitted on the 9th, late) and caused one break.
    Officers li (G1) and wang (G1, G2), supervisor zhao."""
    load(recovery, tmp_path, customers=[customer("C1", "G1"), customer("C4", "G2"), customer("C5", "G3")],
         bills=[bill("B1", "C1", "1000.00", "2026-03", "2026-03-03", "2026-03-20"),
                bill("B4", "C4", "500.00", "2026-03", "2026-03-03", "2026-03-20")],
         payments=[payment("P1", "C1", "940.00", paid_at="2026-03-25T10:00:00+08:00"),
                   payment("P4", "C4", "500.00", paid_at="2026-03-15T10:00:00+08:00"),
                   payment("A1", "C5", "100.00", paid_at="2026-03-02T10:00:00+08:00", channel="agent",
                           account="AG-1"),
                   payment("A2", "C5", "200.00", paid_at="2026-03-05T10:00:00+08:00", channel="agent",
                           account="AG-1")])
    create_agent(db.session, "AG-1", name="=HYPERLINK(\"http://x\")", deposit_fen=3_000_000)
    agent_id = db.session.scalar(select(Agent.id).where(Agent.code == "AG-1"))
    db.session.add_all([Remittance(agent_id=agent_id, amount_fen=10000, remitted_on=dt.date(2026, 3, 3),
                                   reference="R1", recorded_by="zhao"),
                        Remittance(agent_id=agent_id, amount_fen=20000, remitted_on=dt.date(2026, 3, 9),
                                   reference="R2", recorded_by="zhao")])
    run = ReconRun(day=dt.date(2026, 3, 5), channel="agent", channel_account="AG-1", state="broken", matched=1,
                   statement_lines=1, ledger_payments=1, statement_total_fen=0, ledger_total_fen=0, run_by="job")
    db.session.add(run)
    db.session.flush()
    db.session.add(ReconBreak(run_id=run.id, day=run.day, channel="agent", channel_account="AG-1",
                              kind="amount_mismatch", fingerprint="f1"))
    create_user(db.session, "li", role="officer", password=PASSWORD, display_name="李明", grids=["G1"])
    create_user(db.session, "wang", role="officer", password=PASSWORD, display_name="王芳", grids=["G1", "G2"])
    create_user(db.session, "zhao", role="supervisor", password=PASSWORD, display_name="赵主任")
    db.session.commit()


def sign_in(client, username: str) -> None:
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def test_recovery_rate_earns_points_linearly_from_the_floor_to_the_grid_target(app, session, march):
    grids = service.monthly(session, "grids", MONTH)
    assert grids.loc["G1", "recovery"] == 94.0 and grids.loc["G1", "recovery_points"] == 25.0  # halfway 90 → 98
    assert grids.loc["G2", "recovery"] == 100.0 and grids.loc["G2", "recovery_points"] == 50.0  # capped
    # No promise fell due and no one was in arrears: the score is over what could be measured.
    assert grids.loc["G1", "score"] == round((25 + 20) * 100 / 70, 2)
    assert grids.loc["G2", "score"] == 100.0 and grids.loc["G2", "pay_factor"] == 1.0
    officers = service.monthly(session, "officers", MONTH)
    assert officers.loc["wang", "recovery"] == 96.0 and officers.loc["wang", "recovery_points"] == 37.5
    assert officers.loc["li", "recovery"] == 94.0 and officers.loc["wang", "grids"] == "G1 G2"

    set_policy(app, {"assessment": {"grid_targets": {"G1": "94"}}})
    assert service.monthly(session, "grids", MONTH).loc["G1", "recovery_points"] == 50.0


def test_weights_of_the_measures_must_sum_to_100(app):
    with pytest.raises(Invalid, match="add up to 110"):
        set_policy(app, {"assessment": {"officers": {"recovery": {"weight": 60, "floor": "90", "target": "98"}}}})
    with pytest.raises(Invalid, match="add up to 1"):
        set_policy(app, {"assessment": {"monthly_weight": "0.6"}})


def test_yearly_score_is_70_percent_monthly_mean_and_30_percent_quarterly_mean():
    monthly = pd.DataFrame({"key": ["li", "li", "wang"], "score": [80.0, 100.0, 50.0]})
    quarterly = pd.DataFrame({"key": ["li", "wang"], "score": [60.0, 50.0]})
    out = scoring.yearly(monthly, quarterly, Decimal("0.7"), Decimal("0.3"))
    assert out["li"] == 81.0 and out["wang"] == 50.0


def test_pay_factor_is_full_at_target_proportional_from_85_percent_and_40_percent_below():
    scheme = {"full_at": Decimal("100"), "proportional_from": Decimal("85"), "below": Decimal("0.4")}
    factors = scoring.pay_factor(pd.Series([100.0, 90.0, 85.0, 80.0, float("nan")]), scheme)
    assert factors.tolist()[:4] == [1.0, 0.9, 0.85, 0.4] and pd.isna(factors.iloc[4])


def test_agent_timeliness_counts_takings_remitted_within_the_days_and_breaks_per_100_payments(session, march):
    agents = service.monthly(session, "agents", MONTH)
    row = agents.loc["AG-1"]
    assert row["timeliness"] == 33.33  # 100.00 of 300.00 remitted within a day
    assert row["payments"] == 2 and row["breaks_count"] == 1 and row["breaks"] == 50.0
    assert row["breaks_points"] == 0.0 and row["completeness"] == 100.0


def test_yearly_table_blends_the_months_and_quarters_so_far(session, march):
    year = service.yearly(session, "grids", MONTH)
    # Only March had anything to measure: its score is the months' mean and the quarter's.
    assert year.loc["G2", "yearly_score"] == 100.0 and year.loc["G2", "pay_factor"] == 1.0


def test_csv_export_neutralises_a_formula(client, march):
    assert safe_cell("=1+1") == "'=1+1" and safe_cell("-3") == "'-3" and safe_cell("G1") == "G1"
    sign_in(client, "zhao")
    answer = client.get(f"/assessment.csv?month={MONTH}&kind=agents")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    text = answer.get_data(as_text=True)
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text


def test_officer_sees_only_their_own_row_and_their_grids(client, march):
    sign_in(client, "li")
    page = client.get(f"/assessment?month={MONTH}").get_data(as_text=True)
    assert 'data-key="li"' in page and 'data-key="wang"' not in page
    assert 'data-key="G1"' in page and 'data-key="G2"' not in page and 'data-kind="agents"' not in page
    assert client.get(f"/assessment.csv?month={MONTH}&kind=agents").status_code == 403
    rows = client.get(f"/api/v1/assessment?month={MONTH}&kind=officers").get_json()
    assert [r["key"] for r in rows] == ["li"]


def test_assessment_page_in_english_and_chinese(client, march):
    sign_in(client, "zhao")
    en = client.get(f"/assessment?month={MONTH}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Pay factor" in en and 'data-key="wang"' in en and 'data-kind="agents"' in en
    zh = client.get(f"/assessment?month={MONTH}&view=year",
                    headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in zh and 'data-field="yearly"' in zh


def test_assessment_command_writes_the_months_csv(recovery, march, tmp_path):
    result = recovery("assessment", "--month", MONTH, "--kind", "grids")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("key,name,recovery,recovery_points") and lines[1].startswith("G1,G1,94.0,25.0")
    out = tmp_path / "agents.csv"
    assert recovery("assessment", "--month", MONTH, "--kind", "agents", "--out", out).exit_code == 0
    assert "'=HYPERLINK" in out.read_text(encoding="utf-8-sig")
    assert recovery("assessment", "--month", "2026-13").exit_code == 1


def test_receivables_promises_and_visits_measure_a_grid_in_arrears(session, recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C7", "G7")],
         bills=[bill("B7-01", "C7", "100.00", "2026-01", "2026-01-03", "2026-01-20"),
                bill("B7-03", "C7", "500.00", "2026-03", "2026-03-03", "2026-03-20")],
         payments=[payment("P7", "C7", "500.00", paid_at="2026-03-10T10:00:00+08:00")])
    c7 = cust("C7").id
    session.add_all([
        Promise(customer_id=c7, amount_fen=100, promised_on=dt.date(2026, 3, 12), made_on=dt.date(2026, 3, 1),
                recorded_by="li", status="kept"),
        Promise(customer_id=c7, amount_fen=100, promised_on=dt.date(2026, 3, 20), made_on=dt.date(2026, 3, 1),
                recorded_by="li", status="broken"),
        Visit(customer_id=c7, kind="visit", officer="li", visited_at=dt.datetime(2026, 3, 2, 2, tzinfo=dt.UTC),
              outcome="promised")])
    session.commit()
    g7 = service.monthly(session, "grids", MONTH).loc["G7"]
    # The payment settled the January bill first: 500.00 of the 600.00 due came in; nothing old is left.
    assert (g7["recovery"], g7["old_receivables"], g7["promises"], g7["visits"]) == (83.33, 0.0, 50.0, 100.0)
    assert (g7["recovery_points"], g7["old_receivables_points"], g7["promises_points"], g7["visits_points"]) == (
        0.0, 20.0, 0.0, 15.0)
    assert g7["score"] == 35.0 and g7["pay_factor"] == 0.4


def test_an_account_managers_customer_counts_for_the_manager_not_the_grids_officers(session, march):
    li = session.scalar(select(User.id).where(User.username == "li"))
    session.add(AccountManager(customer_id=cust("C4").id, manager_id=li, assigned_on=dt.date(2026, 3, 1),
                               assigned_by="zhao"))
    session.commit()
    officers = service.monthly(session, "officers", MONTH)
    assert officers.loc["li", "recovery"] == 96.0 and officers.loc["wang", "recovery"] == 94.0


def test_the_ledger_read_once_for_the_year_gives_each_period_the_table_read_on_its_own(session, recovery, tmp_path,
                                                                                       march):
    """The year's table reads bills, allocations and write-offs once and filters them per month and quarter: every
    period must come out exactly as when it is read alone (bills issued later, payments after the period left out)."""
    from recovery.assessment import measures

    load(recovery, tmp_path, customers=[customer("C8", "G1")],
         bills=[bill("B8-01", "C8", "300.00", "2026-01", "2026-01-03", "2026-01-20"),
                bill("B8-02", "C8", "200.00", "2026-02", "2026-02-03", "2026-02-20"),
                bill("B8-04", "C8", "100.00", "2026-04", "2026-04-03", "2026-04-20")],
         payments=[payment("P8a", "C8", "250.00", paid_at="2026-02-27T23:30:00+08:00"),
                   payment("P8b", "C8", "150.00", paid_at="2026-04-02T10:00:00+08:00")])
    sources = measures.read_customer_sources(session, dt.date(2026, 6, 30))
    periods = [measures.month_bounds(f"2026-{m:02d}") for m in range(1, 7)] + [
        measures.quarter_bounds("2026-01"), measures.quarter_bounds("2026-04")]
    for kind in ("grids", "officers"):
        for start, end in periods:
            pd.testing.assert_frame_equal(service.period_table(session, kind, start, end, sources),
                                          service.period_table(session, kind, start, end))
    with pytest.raises(ValueError):
        measures.customer_frame(session, dt.date(2026, 7, 1), dt.date(2026, 7, 31), sources)


def test_a_closed_month_keeps_its_tables_and_the_page_reads_them(client, recovery, march, tmp_path):
    live = {kind: service.monthly(db.session, kind, MONTH) for kind in service.KINDS}
    assert recovery("assessment", "--month", MONTH, "--kind", "grids", "--close").exit_code == 0
    for kind in service.KINDS:
        pd.testing.assert_frame_equal(service.monthly(db.session, kind, MONTH), live[kind], check_dtype=False,
                                      check_index_type=False)
    # A late payment for March changes the books, not the closed month (the figures pay was reckoned on).
    load(recovery, tmp_path, payments=[payment("P1-LATE", "C1", "60.00", paid_at="2026-03-28T10:00:00+08:00")])
    assert service.monthly(db.session, "grids", MONTH).loc["G1", "recovery"] == 94.0
    start, end = dt.date(2026, 3, 1), dt.date(2026, 3, 31)
    assert service.period_table(db.session, "grids", start, end).loc["G1", "recovery"] == 100.0
    sign_in(client, "zhao")
    page = client.get(f"/assessment?month={MONTH}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'data-field="closed">Closed on' in page
    # The nightly job closes the month before on the close day, once.
    assert service.nightly_close(db.session, dt.date(2026, 5, 4))["reason"] == "before the close day"
    assert service.nightly_close(db.session, dt.date(2026, 5, 5))["closed"] is True
    assert service.nightly_close(db.session, dt.date(2026, 5, 6))["reason"] == "closed already"
