"""Writing off uncollectable debt (four eyes), recovering it from a later payment, and referring debt to
a collection agency."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from recovery.approvals import service as approvals
from recovery.audit.models import AuditEntry
from recovery.collections.writeoff import service as writeoff
from recovery.collections.writeoff.models import Referral, WriteOff
from recovery.errors import Forbidden, Invalid
from recovery.extensions import db
from recovery.ledger.models import Allocation, LedgerEntry
from recovery.portfolio import service as customers
from recovery.timeutil import start_of_day, today
from tests.credit.security_helpers import PASSWORD, cust, staff
from tests.factories import bill, customer, load, payment
from tests.web.data import cheap_password_hashing


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def owing(recovery, tmp_path):
    """C1 (grid G1) owes 1,000.00 on a bill long past due; officer li, supervisors zhao and qian."""
    load(recovery, tmp_path, customers=[customer("C1", "G1"), customer("C9", "G9")],
         bills=[bill("B1", "C1", "1000.00", "2025-02", "2025-02-03", "2025-02-20")])
    staff()
    return cust("C1")


def _actions(subject_id: str) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == subject_id)
                                   .order_by(AuditEntry.id)))


def sign_in(client, username: str) -> None:
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def test_write_off_needs_a_second_person_posts_a_write_off_entry_reduces_the_balance_and_is_audited(session, owing):
    req = writeoff.request_write_off(session, owing, amount_fen=60000, reason="debtor bankrupt",
                                     evidence="court ruling (2025) 京01破12号", requested_by="zhao")
    session.commit()
    with pytest.raises(Forbidden):
        approvals.decide(session, req.id, approve=True, decided_by="zhao", role="supervisor")
    session.rollback()
    with pytest.raises(Forbidden):  # an officer may ask, never approve
        approvals.decide(session, req.id, approve=True, decided_by="li", role="officer")
    session.rollback()
    approvals.decide(session, req.id, approve=True, decided_by="qian", role="supervisor")
    session.commit()

    entry = session.scalar(select(LedgerEntry).where(LedgerEntry.kind == "write_off"))
    assert entry.amount_fen == -60000 and entry.effective_on == today()
    wo = session.scalar(select(WriteOff))
    assert (wo.amount_fen, wo.requested_by, wo.approved_by, wo.entry_id) == (60000, "zhao", "qian", entry.id)
    position = customers.position(session, owing, today())
    assert position["balance_fen"] == 40000 and position["overdue_fen"] == 40000
    # Not a payment: nothing was collected on the bill.
    assert session.scalars(select(Allocation)).all() == []
    assert _actions("C1") == ["approval.requested", "debt.written_off", "approval.approved"]


def test_write_off_cannot_exceed_the_overdue_balance(session, client, owing):
    with pytest.raises(Invalid, match="overdue balance"):
        writeoff.request_write_off(session, owing, amount_fen=100001, reason="gone", evidence="no trace",
                                   requested_by="li")
    sign_in(client, "li")
    answer = client.post("/api/v1/customers/C1/write-offs",
                         json={"amount": "1000.01", "reason": "gone", "evidence": "no trace"})
    assert answer.status_code == 422
    answer = client.post("/api/v1/customers/C1/write-offs",
                         json={"amount": "1000.00", "reason": "gone", "evidence": "no trace"})
    assert answer.status_code == 202 and answer.get_json()["kind"] == "debt.write_off"
    assert client.post("/api/v1/customers/C9/write-offs",
                       json={"amount": "1.00", "reason": "x", "evidence": "y"}).status_code == 404


def test_a_payment_after_write_off_is_taken_as_recovery_of_the_written_off_debt(session, recovery, tmp_path, owing):
    req = writeoff.request_write_off(session, owing, amount_fen=100000, reason="moved away", evidence="no trace",
                                     requested_by="li")
    approvals.decide(session, req.id, approve=True, decided_by="zhao", role="supervisor")
    session.commit()
    paid_at = start_of_day(today()).isoformat()  # today, and never in the future (a run just after midnight)
    load(recovery, tmp_path, payments=[payment("R1", "C1", "400.00", paid_at=paid_at)])
    assert customers.position(session, owing, today())["balance_fen"] == -40000  # a credit, until recovered

    summary = writeoff.recover(session, today())
    session.commit()
    assert summary["recovered_fen"] == 40000
    assert session.scalar(select(WriteOff.recovered_fen)) == 40000
    assert customers.position(session, owing, today())["balance_fen"] == 0
    assert writeoff.outstanding_fen(session, owing.id) == 60000
    assert writeoff.recover(session, today())["recovered_fen"] == 0  # rerunnable
    assert "debt.write_off_recovered" in _actions(today().isoformat())


def test_referral_to_a_collection_agency_is_for_supervisors_and_audited(client, owing):
    sign_in(client, "li")
    refused = client.post("/api/v1/customers/C1/referrals", json={"agency": "华信催收", "amount": "500.00"})
    assert refused.status_code == 403
    client.post("/logout")
    sign_in(client, "zhao")
    made = client.post("/api/v1/customers/C1/referrals", json={"agency": "华信催收", "amount": "500.00"})
    assert made.status_code == 201 and made.get_json()["status"] == "referred"
    again = client.post("/api/v1/customers/C1/referrals", json={"agency": "其他", "amount": "1.00"})
    assert again.status_code == 409
    closed = client.post(f"/api/v1/customers/C1/referrals/{made.get_json()['id']}/close",
                         json={"status": "recovered", "recovered": "300.00"})
    assert closed.status_code == 200 and closed.get_json()["recovered"] == "300.00"
    assert db.session.scalar(select(Referral.status)) == "recovered"
    assert _actions("C1") == ["debt.referred", "debt.referral_recovered"]


def test_customer_page_offers_the_write_off_form_and_files_the_request(client, owing):
    sign_in(client, "li")
    client.post("/lang/en")
    page = client.get("/customers/C1").get_data(as_text=True)
    assert 'data-section="writeoff"' in page and 'name="evidence"' in page and "csrf_token" in page
    assert "Refer to a collection agency" not in page  # supervisors only
    done = client.post("/customers/C1/write-offs", data={"amount": "200.00", "reason": "bankrupt",
                                                         "evidence": "court ruling"})
    assert done.status_code == 302
    page = client.get("/customers/C1", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'data-field="write-off-pending"' in page
    client.post("/logout")
    sign_in(client, "zhao")
    client.post("/lang/en")
    approvals_page = client.get("/approvals").get_data(as_text=True)
    assert "Write off uncollectable debt" in approvals_page and "200.00" in approvals_page


def test_penalties_stop_accruing_on_written_off_debt_from_the_day_it_was_written_off(session, owing, recovery,
                                                                                    tmp_path):
    import datetime as dt

    from recovery.billing.penalties import accrue, penalties_as_of

    # C2 owes the same bill and paid 600.00 of it on 30 June 2025: C1's write-off of 600.00 that day must
    # stop its penalty exactly as that payment stopped C2's.
    load(recovery, tmp_path, customers=[customer("C2", "G1")],
         bills=[bill("B2", "C2", "1000.00", "2025-02", "2025-02-03", "2025-02-20")],
         payments=[payment("P2", "C2", "600.00", paid_at="2025-06-30T10:00:00+08:00")])
    req = writeoff.request_write_off(session, owing, amount_fen=60000, reason="debtor bankrupt", evidence="ruling",
                                     requested_by="zhao")
    session.commit()
    approvals.decide(session, req.id, approve=True, decided_by="qian", role="supervisor")
    session.commit()
    session.execute(WriteOff.__table__.update().values(written_off_on=dt.date(2025, 6, 30)))  # approved then
    session.commit()

    for day in (dt.date(2025, 6, 1), dt.date(2025, 6, 30), dt.date(2025, 12, 31), dt.date(2026, 3, 1)):
        penalty = penalties_as_of(session, day).set_index("customer_id")["penalty_fen"]
        ids = {c: cust(c).id for c in ("C1", "C2")}
        assert penalty[ids["C1"]] == penalty[ids["C2"]] > 0, day
    # The accrual posts it the same way, and a rerun changes nothing.
    accrue(session, dt.date(2026, 3, 1))
    session.commit()
    assert accrue(session, dt.date(2026, 3, 1))["entries"] == 0
