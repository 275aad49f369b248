"""Ratings on the database: one set-based pass, compact history with reasons, overrides, the nightly job."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from recovery.audit.models import AuditEntry
from recovery.credit.models import CreditOverride, CreditRating
from recovery.credit.rating import overrides
from recovery.credit.rating.ratings import current_ratings, history, rate
from recovery.customers.models import Customer
from recovery.errors import Forbidden, Invalid
from recovery.timeutil import today
from tests.factories import bill, customer, load, payment

DAY = dt.date(2026, 11, 30)


def ids(session) -> dict[str, int]:
    return dict(session.execute(select(Customer.code, Customer.id)).all())


@pytest.fixture
def district(recovery, tmp_path, session):
    """C1 pays on time; C2 paid two bills late (5 and 14 days); C3 stole electricity; C4 is new."""
    load(recovery, tmp_path,
         customers=[customer("C1"), customer("C2"), customer("C3"), customer("C4", opened_on="2026-08-01")],
         bills=[bill("B1", "C1", due_on="2026-10-20", issued_on="2026-10-03", period="2026-09"),
                bill("B2", "C2", due_on="2026-09-20", issued_on="2026-09-03", period="2026-08"),
                bill("B3", "C2", due_on="2026-10-20", issued_on="2026-10-03", period="2026-09")],
         payments=[payment("R1", "C1", paid_at="2026-10-15T10:00:00+08:00"),
                   payment("R2", "C2", paid_at="2026-09-25T10:00:00+08:00"),
                   payment("R3", "C2", paid_at="2026-11-03T10:00:00+08:00")],
         events=[{"customer_id": "C3", "kind": "theft", "occurred_on": "2026-05-10", "amount": "300.00"}])
    return ids(session)


def test_ratings_are_computed_for_every_customer_in_one_pass(session, district):
    summary = rate(session, DAY)
    assert summary["customers"] == 4 and summary["changed"] == 4
    got = {r.customer_id: (r.grade, r.points) for r in session.scalars(select(CreditRating))}
    assert got == {district["C1"]: ("A", 100), district["C2"]: ("A", 95), district["C3"]: ("C", 70),
                   district["C4"]: ("B", 80)}


def test_late_payment_is_measured_from_allocations_against_the_due_date(session, district):
    rate(session, DAY)
    row = session.scalar(select(CreditRating).where(CreditRating.customer_id == district["C2"]))
    late = [(d["days_late"], d["points"]) for d in row.reasons["demerits"] if d["kind"] == "late_payment"]
    assert sorted(late) == [(5, -2), (14, -3)]


def test_broken_pay_plan_event_costs_its_configured_points(session, district, recovery, tmp_path):
    load(recovery, tmp_path, events=[{"customer_id": "C1", "kind": "broken_pay_plan", "occurred_on": "2026-10-01",
                                      "amount": ""}])
    rate(session, DAY)
    row = session.scalar(select(CreditRating).where(CreditRating.customer_id == district["C1"]))
    assert row.points == 90 and row.reasons["demerits"][0]["kind"] == "broken_pay_plan"


def test_rerunning_a_day_replaces_that_days_ratings_and_never_duplicates(session, district):
    rate(session, DAY)
    rate(session, DAY)
    assert session.scalar(select(func.count()).select_from(CreditRating)) == 4


def test_history_stores_a_row_only_when_the_rating_changes(session, district, recovery, tmp_path):
    rate(session, DAY)
    rate(session, DAY + dt.timedelta(days=1))
    assert session.scalar(select(func.count()).select_from(CreditRating)) == 4
    load(recovery, tmp_path, events=[{"customer_id": "C1", "kind": "returned_payment", "occurred_on": "2026-12-01",
                                      "amount": ""}])
    summary = rate(session, DAY + dt.timedelta(days=2))
    assert summary["changed"] == 1
    rows = history(session, district["C1"])
    assert [(r.rated_on, r.points) for r in rows] == [(DAY, 100), (DAY + dt.timedelta(days=2), 92)]
    assert rows[-1].reasons["demerits"][0]["kind"] == "returned_payment"


def test_rating_one_customer_on_demand_leaves_the_others_alone(session, district):
    rate(session, DAY)
    summary = rate(session, DAY + dt.timedelta(days=5), [district["C3"]])
    assert summary["customers"] == 1
    assert {r.customer_id for r in session.scalars(select(CreditRating).where(CreditRating.rated_on > DAY))} <= {
        district["C3"]}


def test_upgrade_block_holds_the_previous_grade_across_runs(session, recovery, tmp_path):
    """Arrears at three month ends this year: the points recover to A, the grade stays at B."""
    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill(f"B{m}", "C1", amount="10.00", period=f"2026-{m - 1:02d}", issued_on=f"2026-{m:02d}-03",
                     due_on=f"2026-{m:02d}-20") for m in (2, 4, 6)],
         payments=[payment(f"R{m}", "C1", amount="10.00", paid_at=f"2026-{m + 1:02d}-05T10:00:00+08:00")
                   for m in (2, 4, 6)])
    cid = ids(session)["C1"]
    session.add(CreditRating(customer_id=cid, rated_on=dt.date(2026, 7, 31), points=75, points_grade="B", grade="B",
                             cash_only=False, upgrade_blocked=True, reasons={}))
    session.flush()
    rate(session, DAY)
    latest = history(session, cid)[-1]
    assert (latest.points_grade, latest.grade, latest.upgrade_blocked) == ("A", "B", True)
    assert any(r["rule"] == "arrears_months_this_year" for r in latest.reasons["rules"])


def test_never_rated_customers_get_the_starting_grade(session, district):
    frame = current_ratings(session)
    assert set(frame.columns) >= {"grade", "points", "cash_only", "overridden"}
    assert frame.loc[district["C1"], "grade"] == "B" and frame.loc[district["C1"], "points"] == 80
    assert not frame["overridden"].any()


def test_current_ratings_reads_the_latest_rating(session, district):
    rate(session, DAY)
    frame = current_ratings(session, [district["C3"], district["C1"]])
    assert sorted(frame.index) == sorted([district["C3"], district["C1"]])
    assert frame.loc[district["C3"], "grade"] == "C" and frame.loc[district["C1"], "grade"] == "A"


def test_supervisor_override_wins_until_it_expires(session, district):
    rate(session, DAY)
    c3 = session.get(Customer, district["C3"])
    overrides.set_override(session, c3, grade="B", reason="theft was a meter fault", role="supervisor",
                           expires_on=today() + dt.timedelta(days=30), set_by="boss")
    frame = current_ratings(session)
    assert frame.loc[c3.id, "grade"] == "B" and frame.loc[c3.id, "overridden"]
    # An override that ran out is no longer in force: the computed grade is back.
    session.add(CreditOverride(customer_id=district["C1"], grade="C", reason="old", starts_on=today() - dt.timedelta(
        days=20), expires_on=today() - dt.timedelta(days=1), set_by="boss"))
    session.flush()
    assert current_ratings(session).loc[district["C1"], "grade"] == "A"


def test_new_override_supersedes_the_one_in_force_and_both_are_audited(session, district):
    c1 = session.get(Customer, district["C1"])
    until = today() + dt.timedelta(days=10)
    first = overrides.set_override(session, c1, grade="C", reason="r1", expires_on=until, set_by="boss", role="admin")
    overrides.set_override(session, c1, grade="B", reason="r2", expires_on=until, set_by="boss", role="admin")
    assert first.revoked_at is not None and first.revoke_reason == "superseded"
    assert current_ratings(session, [c1.id]).loc[c1.id, "grade"] == "B"
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == "C1")).all()
    assert actions.count("credit.override") == 2


def test_override_needs_a_supervisor_a_known_grade_a_reason_and_a_bounded_expiry(session, district):
    c1 = session.get(Customer, district["C1"])
    until = today() + dt.timedelta(days=10)
    with pytest.raises(Forbidden):
        overrides.set_override(session, c1, grade="B", reason="x", expires_on=until, set_by="o", role="officer")
    with pytest.raises(Invalid, match="grade"):
        overrides.set_override(session, c1, grade="Z", reason="x", expires_on=until, set_by="b", role="supervisor")
    with pytest.raises(Invalid, match="reason"):
        overrides.set_override(session, c1, grade="B", reason=" ", expires_on=until, set_by="b", role="supervisor")
    with pytest.raises(Invalid, match="past"):
        overrides.set_override(session, c1, grade="B", reason="x", expires_on=today() - dt.timedelta(days=1),
                               set_by="b", role="supervisor")
    with pytest.raises(Invalid, match="at most"):
        overrides.set_override(session, c1, grade="B", reason="x", expires_on=today() + dt.timedelta(days=400),
                               set_by="b", role="supervisor")
    assert session.scalar(select(func.count()).select_from(CreditOverride)) == 0


def test_revoked_override_is_no_longer_in_force(session, district):
    c1 = session.get(Customer, district["C1"])
    o = overrides.set_override(session, c1, grade="C", reason="x", expires_on=today(), set_by="b", role="supervisor")
    overrides.revoke_override(session, o.id, reason="mistake", revoked_by="b2", role="supervisor")
    assert not current_ratings(session, [c1.id]).loc[c1.id, "overridden"]


def test_nightly_ratings_job_is_idempotent_for_a_day(recovery, session, district):
    for _ in range(2):
        result = recovery("jobs", "run", "credit.ratings", "--date", DAY.isoformat())
        assert result.exit_code == 0, result.output
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(CreditRating)) == 4


def test_rate_command_for_one_customer(recovery, session, district):
    result = recovery("credit", "rate", "--customer", "C2", "--as-of", DAY.isoformat())
    assert result.exit_code == 0, result.output
    assert '"customers": 1' in result.output
    shown = recovery("credit", "show", "C2")
    assert shown.exit_code == 0 and "grade A (95 points)" in shown.output
    bad = recovery("credit", "rate", "--customer", "NOPE")
    assert bad.exit_code != 0 and "no customer NOPE" in bad.output


def test_rating_policy_comes_from_configuration(app, backend, database_url, tmp_path):
    from recovery import create_app
    from recovery.extensions import db
    from tests.conftest import Runner, _settings

    other = create_app({**_settings(database_url, tmp_path), "POLICY": {"rating": {"preset": "letters"}}})
    with other.app_context():
        load(Runner(other), tmp_path, customers=[customer("C9")])
        assert rate(db.session, DAY)["grades"] == {"AAA": 1, "AA": 0, "A": 0, "B": 0, "C": 0}
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()


def test_override_command_sets_and_revokes_with_a_reason(recovery, session, district):
    until = (today() + dt.timedelta(days=7)).isoformat()
    result = recovery("credit", "override", "C1", "--grade", "C", "--reason", "court order", "--until", until)
    assert result.exit_code == 0, result.output
    session.expire_all()
    oid = session.scalar(select(CreditOverride.id))
    assert current_ratings(session, [district["C1"]]).loc[district["C1"], "grade"] == "C"
    assert recovery("credit", "revoke-override", str(oid), "--reason", "lifted").exit_code == 0
    session.expire_all()
    assert not current_ratings(session, [district["C1"]]).loc[district["C1"], "overridden"]
