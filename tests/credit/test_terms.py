"""Settlement terms by risk: proposals approved by a supervisor, the nightly review, split settlement."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from recovery.approvals.models import ApprovalRequest
from recovery.approvals.service import decide
from recovery.audit.models import AuditEntry
from recovery.billing.models import Bill
from recovery.credit.models import InterimBill, SettlementTerms, Terms
from recovery.credit.rating.ratings import rate
from recovery.credit.terms import current_terms, issue_interim_bills, propose_terms, review, true_up
from recovery.customers.models import Customer
from recovery.errors import Conflict, Forbidden, Invalid
from recovery.ledger.models import Allocation, EntryKind, LedgerEntry
from tests.factories import bill, customer, load, payment

DAY = dt.date(2026, 11, 30)


def cid(session, code: str) -> int:
    return session.scalar(select(Customer.id).where(Customer.code == code))


def pending(session) -> list[ApprovalRequest]:
    return list(session.scalars(select(ApprovalRequest).where(ApprovalRequest.status == "pending")
                                .order_by(ApprovalRequest.id)))


@pytest.fixture
def thief_and_big(recovery, tmp_path, session):
    """C1 stole electricity (grade C); C2 is a large industrial customer; C3 is ordinary."""
    load(recovery, tmp_path,
         customers=[customer("C1"), customer("C2", customer_class="industrial"), customer("C3")],
         bills=[bill(f"B2-{m}", "C2", amount="250000.00", period=f"2026-{m:02d}", issued_on=f"2026-{m + 1:02d}-03",
                     due_on=f"2026-{m + 1:02d}-13") for m in (7, 8, 9)],
         payments=[payment(f"R2-{m}", "C2", amount="250000.00", paid_at=f"2026-{m + 1:02d}-10T10:00:00+08:00")
                   for m in (7, 8, 9)],
         events=[{"customer_id": "C1", "kind": "theft", "occurred_on": "2026-05-10", "amount": "300.00"}])
    rate(session, DAY)


def test_terms_default_to_postpaid(session, thief_and_big):
    assert set(current_terms(session)["terms"]) == {"postpaid"}


def test_proposed_terms_change_only_when_a_supervisor_approves(session, thief_and_big):
    req = propose_terms(session, cid(session, "C3"), "prepayment", "officer's judgement", "officer01")
    assert req.kind == "terms.change" and current_terms(session, [cid(session, "C3")]).iloc[0]["terms"] == "postpaid"
    with pytest.raises(Forbidden):
        decide(session, req.id, approve=True, decided_by="officer01", role="supervisor")  # not one's own
    with pytest.raises(Forbidden):
        decide(session, req.id, approve=True, decided_by="officer02", role="officer")
    decide(session, req.id, approve=True, decided_by="boss", role="supervisor")
    row = session.scalar(select(SettlementTerms).where(SettlementTerms.customer_id == cid(session, "C3")))
    assert (row.terms, row.basis, row.approved_by) == ("prepayment", "manual", "boss")


def test_proposing_the_terms_in_force_or_unknown_terms_is_refused(session, thief_and_big):
    with pytest.raises(Invalid, match="already on postpaid"):
        propose_terms(session, cid(session, "C3"), "postpaid", "x", "officer01")
    with pytest.raises(Invalid, match="terms must be"):
        propose_terms(session, cid(session, "C3"), "barter", "x", "officer01")
    propose_terms(session, cid(session, "C3"), "split", "x", "officer01")
    with pytest.raises(Conflict):
        propose_terms(session, cid(session, "C3"), "prepayment", "y", "officer01")


def test_review_proposes_prepayment_for_grade_c_and_split_for_large_customers(session, thief_and_big):
    summary = review(session, DAY)
    assert (summary["to_prepayment"], summary["to_split"], summary["proposed"]) == (1, 1, 2)
    got = {(r.subject_id, r.payload["terms"], r.payload["basis"]) for r in pending(session)}
    assert got == {("C1", "prepayment", "rating"), ("C2", "split", "size")}
    audited = session.execute(select(AuditEntry.subject_id, AuditEntry.actor).where(
        AuditEntry.action == "approval.requested")).all()
    assert sorted(audited) == [("C1", "system:credit.terms_review"), ("C2", "system:credit.terms_review")]


def test_review_never_files_a_duplicate_pending_proposal(session, thief_and_big):
    review(session, DAY)
    again = review(session, DAY + dt.timedelta(days=1))
    assert again["proposed"] == 0 and again["already_pending"] == 2
    assert len(pending(session)) == 2


def test_review_does_not_refile_a_proposal_rejected_recently(session, thief_and_big):
    review(session, DAY)
    for req in pending(session):
        decide(session, req.id, approve=False, decided_by="boss", role="supervisor")
    assert review(session, DAY)["proposed"] == 0


def test_review_relaxes_only_terms_it_set_itself(session, thief_and_big):
    c3 = cid(session, "C3")
    req = propose_terms(session, c3, "prepayment", "qualification review: capital", "officer01",
                        basis="qualification")
    decide(session, req.id, approve=True, decided_by="boss", role="supervisor")
    review(session, DAY)
    assert "C3" not in {r.subject_id for r in pending(session)}  # grade A, but qualification put it there
    session.get(SettlementTerms, session.scalar(select(SettlementTerms.id).where(
        SettlementTerms.customer_id == c3))).basis = "rating"
    session.flush()
    review(session, DAY)
    back = [r for r in pending(session) if r.subject_id == "C3"]
    assert [r.payload["terms"] for r in back] == ["postpaid"]


def test_terms_review_job_runs_through_the_job_table(recovery, session, thief_and_big):
    session.commit()
    result = recovery("jobs", "run", "credit.terms_review", "--date", DAY.isoformat())
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert len(pending(session)) == 2


# ---------------------------------------------------------------------------------------------- split settlement


@pytest.fixture
def split_customer(recovery, tmp_path, session):
    """C5 on split settlement; its recent month-end bills cost 100.00 yuan and 100 kWh a day."""
    load(recovery, tmp_path, customers=[customer("C5", customer_class="industrial")],
         bills=[bill("M06", "C5", amount="3000.00", kwh="3000", period="2026-06", issued_on="2026-07-03",
                     due_on="2026-07-13"),
                bill("M09", "C5", amount="3000.00", kwh="3000", period="2026-09", issued_on="2026-10-03",
                     due_on="2026-10-13")],
         payments=[payment("P06", "C5", amount="3000.00", paid_at="2026-07-10T10:00:00+08:00"),
                   payment("P09", "C5", amount="3000.00", paid_at="2026-10-10T10:00:00+08:00")])
    c5 = cid(session, "C5")
    req = propose_terms(session, c5, "split", "large customer", "officer01")
    decide(session, req.id, approve=True, decided_by="boss", role="supervisor")
    return c5


def test_interim_bill_on_each_settlement_day_is_a_real_bill_with_its_ledger_entry(session, split_customer):
    assert issue_interim_bills(session, dt.date(2026, 10, 9))["interim_bills"] == 0  # not a settlement day
    out = issue_interim_bills(session, dt.date(2026, 10, 10))
    assert out["interim_bills"] == 1 and out["seq"] == 1
    b = session.scalar(select(Bill).where(Bill.code == "SI-C5-2026-10-1"))
    assert (b.amount_fen, b.kwh, b.period, b.issued_on, b.due_on) == (100000, 1000, "2026-10", dt.date(2026, 10, 10),
                                                                      dt.date(2026, 10, 15))
    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.bill_id == b.id))
    assert (entry.kind, entry.amount_fen, entry.effective_on) == (EntryKind.bill, 100000, dt.date(2026, 10, 10))


def test_interim_bills_are_not_issued_twice_for_a_settlement(session, split_customer):
    issue_interim_bills(session, dt.date(2026, 10, 10))
    assert issue_interim_bills(session, dt.date(2026, 10, 10))["interim_bills"] == 0
    assert session.scalar(select(func.count()).select_from(InterimBill)) == 1


def test_metered_interim_bill_prices_the_reading_at_the_recent_unit_price(session, split_customer):
    issue_interim_bills(session, dt.date(2026, 10, 10), readings={split_customer: 1500})
    row = session.scalar(select(InterimBill))
    assert (row.basis, row.kwh, row.amount_fen) == ("metered", 1500, 150000)


def test_interim_amounts_are_exact_fractions_of_fen_rounded_half_up(recovery, tmp_path, session):
    # C6: 3 x 2000.17 yuan for 3 x 3000 kWh (Jul-Sep); a reading of 1500 kWh costs 1500 x 600051 / 9000
    # = 100008.5 fen -> 100009. Through a float unit price (600051 / 9000 = 66.67233...) the product is
    # 100008.49999999999 and rounds to 100008, a fen short.
    # C7: 3000.01 + 3000.02 yuan over 30 + 30 days (Jun, Sep); 10 days' estimate is 600003 x 10 / 60
    # = 100000.5 fen -> 100001 (half up, where rounding half to even gave 100000).
    load(recovery, tmp_path, customers=[customer("C6", customer_class="industrial"),
                                        customer("C7", customer_class="industrial")],
         bills=[*(bill(f"M{m:02d}", "C6", amount="2000.17", kwh="3000", period=f"2026-{m:02d}",
                       issued_on=f"2026-{m + 1:02d}-03", due_on=f"2026-{m + 1:02d}-13") for m in (7, 8, 9)),
                bill("N06", "C7", amount="3000.01", kwh="3000", period="2026-06", issued_on="2026-07-03",
                     due_on="2026-07-13"),
                bill("N09", "C7", amount="3000.02", kwh="3000", period="2026-09", issued_on="2026-10-03",
                     due_on="2026-10-13")])
    c6, c7 = cid(session, "C6"), cid(session, "C7")
    for c in (c6, c7):
        decide(session, propose_terms(session, c, "split", "large customer", "officer01").id, approve=True,
               decided_by="boss", role="supervisor")
    issue_interim_bills(session, dt.date(2026, 10, 10), readings={c6: 1500})
    rows = {r.customer_id: (r.basis, r.kwh, r.amount_fen) for r in session.scalars(select(InterimBill))}
    assert rows == {c6: ("metered", 1500, 100009), c7: ("estimated", 1000, 100001)}


def test_true_up_at_the_month_end_bill_reverses_interims_and_moves_their_payments(
        session, split_customer, recovery, tmp_path):
    issue_interim_bills(session, dt.date(2026, 10, 10))
    issue_interim_bills(session, dt.date(2026, 10, 20))
    session.commit()
    load(recovery, tmp_path, payments=[payment("PI1", "C5", amount="1000.00", paid_at="2026-10-12T10:00:00+08:00")])
    assert true_up(session, dt.date(2026, 11, 1))["trued_up"] == 0  # the month-end bill is not there yet
    session.commit()
    load(recovery, tmp_path, bills=[bill("M10", "C5", amount="3500.00", kwh="3500", period="2026-10",
                                         issued_on="2026-11-03", due_on="2026-11-13")])
    assert true_up(session, dt.date(2026, 11, 3))["trued_up"] == 2
    balance = session.scalar(select(func.sum(LedgerEntry.amount_fen)).where(LedgerEntry.customer_id == split_customer))
    assert balance == 350000 - 100000  # the period costs its month-end bill; the interim payment counts
    reversals = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == EntryKind.reversal)).all()
    assert sorted(r.amount_fen for r in reversals) == [-100000, -100000] and all(r.corrects_id for r in reversals)
    month_end = session.scalar(select(Bill.id).where(Bill.code == "M10"))
    paid = session.scalar(select(func.sum(Allocation.amount_fen)).where(Allocation.bill_id == month_end))
    assert paid == 100000
    assert set(session.scalars(select(InterimBill.month_end_bill_id))) == {month_end}
    assert true_up(session, dt.date(2026, 11, 4))["trued_up"] == 0  # once


def test_split_settlement_needs_at_least_three_settlements_a_month(app):
    from recovery import policy

    with pytest.raises(Invalid, match="interim_days"):
        policy.section("settlement", {"settlement": {"interim_days": [15]}})
    assert Terms.split == "split"


def test_settle_command_issues_the_days_interim_bills_from_a_readings_file(recovery, session, split_customer, tmp_path):
    session.commit()
    readings = tmp_path / "readings.csv"
    readings.write_text("customer_id,kwh\nC5,500\n", encoding="utf-8")
    result = recovery("credit", "terms", "settle", "--date", "2026-10-10", "--readings", readings)
    assert result.exit_code == 0, result.output
    assert '"interim_bills": 1' in result.output
    session.expire_all()
    assert session.scalar(select(InterimBill.amount_fen)) == 50000
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,kwh\nC404,1\n", encoding="utf-8")
    result = recovery("credit", "terms", "settle", "--date", "2026-10-20", "--readings", bad)
    assert result.exit_code != 0 and "unknown customer(s) C404" in result.output


def test_propose_command_files_a_request(recovery, session, thief_and_big):
    session.commit()
    result = recovery("credit", "terms", "propose", "C3", "prepayment", "--reason", "registered capital too low")
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert [r.payload["terms"] for r in pending(session)] == ["prepayment"]
