"""Complaints and bill disputes: the hold on dunning while open, an upheld dispute's correction or credit
through the ledger, the overdue list and the worklist, and what complaints cost an officer's assessment."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from sqlalchemy import select

from recovery.assessment import service as assessment
from recovery.audit.models import AuditEntry
from recovery.auth.service import create_user
from recovery.billing.models import Bill
from recovery.collections import dunning
from recovery.collections.models import BillHold, DunningState, WorkItem
from recovery.customers.models import Customer
from recovery.disputes import service
from recovery.errors import Conflict, Invalid
from recovery.extensions import db
from recovery.ledger.correction_models import BillCorrection
from recovery.ledger.models import Allocation, LedgerEntry
from recovery.timeutil import now, today
from recovery.worklist import build
from tests.factories import BILL_COLUMNS, bill, customer, load, payment, write_csv
from tests.web.data import cheap_password_hashing

PASSWORD = "correct horse battery"
D = dt.date
CST = dt.timezone(dt.timedelta(hours=8))
BILLS = [bill("B1", "C1", "100.00", "2026-02", "2026-03-01", "2026-03-20"),
         bill("B2", "C2", "100.00", "2026-02", "2026-03-01", "2026-03-20"),
         bill("B3", "C3", "100.00", "2026-02", "2026-03-01", "2026-03-20")]


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def district(recovery, tmp_path):
    """C1 and C2 (grid G1) and C3 (G2) each billed 100.00 due on 20 March 2026; C1 paid 30.00 of it, C3 all of
    it. Officers li (G1) and wang (G2), supervisor zhao."""
    load(recovery, tmp_path, customers=[customer("C1", "G1"), customer("C2", "G1"), customer("C3", "G2")],
         bills=BILLS,
         payments=[payment("P1", "C1", "30.00", paid_at="2026-03-10T10:00:00+08:00"),
                   payment("P3", "C3", "100.00", paid_at="2026-03-15T10:00:00+08:00")])
    create_user(db.session, "li", role="officer", password=PASSWORD, display_name="李明", grids=["G1"])
    create_user(db.session, "wang", role="officer", password=PASSWORD, display_name="王芳", grids=["G2"])
    create_user(db.session, "zhao", role="supervisor", password=PASSWORD, display_name="赵主任")
    db.session.commit()
    return {c: db.session.scalar(select(Customer).where(Customer.code == c)) for c in ("C1", "C2", "C3")}


def sign_in(client, username: str) -> None:
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def register(customer: Customer, *bills: str, at: dt.datetime, by: str = "li", **kw):
    dispute = service.register(db.session, customer, kind=kw.pop("kind", "meter_reading"),
                               channel=kw.pop("channel", "phone"), description="the reading is too high",
                               bill_codes=bills, registered_by=by, at=at, **kw)
    db.session.commit()
    return dispute


def reasons(day: dt.date) -> set[tuple[str, str]]:
    rows = db.session.execute(select(Customer.code, WorkItem.reason).join(Customer, Customer.id == WorkItem.customer_id)
                              .where(WorkItem.due_on == day)).all()
    return {tuple(r) for r in rows}


def step(c: Customer) -> str | None:
    db.session.expire_all()
    state = db.session.get(DunningState, c.id)
    return state.step if state else None


def test_an_open_dispute_holds_its_bill_from_dunning_and_the_worklist_until_it_is_answered(district):
    c1, c2 = district["C1"], district["C2"]
    dispute = register(c1, "B1", at=dt.datetime(2026, 3, 21, 10, tzinfo=CST))
    # The grid's officer owns it; 48 hours from when the customer raised it.
    assert dispute.owner == "li" and dispute.due_at == dt.datetime(2026, 3, 23, 2, tzinfo=dt.UTC)

    build.build(db.session, D(2026, 3, 22))
    db.session.commit()
    # C2 owes the same 100.00 undisputed: a first-late warning and a call for arrears; C1's 70.00 is disputed.
    assert reasons(D(2026, 3, 22)) == {("C2", "early_warning_first_late"), ("C2", "segment_call")}
    dunning.nightly(db.session, D(2026, 4, 19))
    db.session.commit()
    assert step(c2) == "disconnection_order" and step(c1) is None

    hold = db.session.scalar(select(BillHold).where(BillHold.dispute_id == dispute.id))
    with pytest.raises(Conflict, match=f"belongs to dispute #{dispute.id}"):
        dunning.release_hold(db.session, c1, hold.id, by="li")
    with pytest.raises(Conflict, match="already on hold"):
        register(c1, "B1", at=now())
    db.session.rollback()

    service.resolve(db.session, dispute, outcome="rejected", reason="the meter was tested: it reads right", by="li")
    db.session.commit()
    assert hold.released_on == today() and dispute.status == "rejected" and dispute.remedy is None
    dunning.nightly(db.session, today())
    db.session.commit()
    assert step(c1) == "disconnection_order"  # the bill counts again, from its due date
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.subject_id == str(dispute.id))))
    assert actions == {"dispute.register", "dispute.resolve"}


def test_upheld_dispute_corrects_the_bill_through_the_ledger_and_a_credit_leaves_a_credit_on_the_account(
        district, client, recovery, tmp_path):
    c1 = district["C1"]
    dispute = register(c1, "B1", at=now(), kind="wrong_amount")
    service.resolve(db.session, dispute, outcome="upheld", reason="the tariff was misapplied: 80.00 is right",
                    by="li", remedy="corrected_bill", amount_fen=8000)
    db.session.commit()
    b1 = db.session.scalar(select(Bill).where(Bill.code == "B1"))
    billed = db.session.scalar(select(LedgerEntry).where(LedgerEntry.bill_id == b1.id, LedgerEntry.kind == "bill"))
    fix = db.session.scalar(select(LedgerEntry).where(LedgerEntry.bill_id == b1.id, LedgerEntry.kind == "adjustment"))
    assert (fix.amount_fen, fix.corrects_id, fix.effective_on) == (-2000, billed.id, D(2026, 3, 1))
    assert b1.amount_fen == 8000
    correction = db.session.get(BillCorrection, dispute.correction_id)
    assert (correction.before_fen, correction.after_fen, correction.entry_id) == (10000, 8000, fix.id)
    balance = db.session.scalar(select(db.func.sum(LedgerEntry.amount_fen)).where(LedgerEntry.customer_id == c1.id))
    assert balance == 10000 - 3000 - 2000
    assert db.session.scalar(select(db.func.sum(Allocation.amount_fen)).where(Allocation.bill_id == b1.id)) == 3000
    # The billing system's file, sent again as it was first billed, is still the same bills.
    result = recovery("import", "bills", write_csv(tmp_path / "again.csv", BILL_COLUMNS, BILLS))
    assert result.exit_code == 0 and "0 new" in result.output, result.output

    # C3 paid its 100.00 bill in full; an outage complaint upheld through the API with a credit of 25.00.
    c3 = district["C3"]
    outage = register(c3, "B3", at=now(), by="zhao", kind="outage", channel="counter")
    assert outage.owner == "wang"
    sign_in(client, "wang")
    answer = client.post(f"/api/v1/disputes/{outage.id}/resolve", json={
        "outcome": "upheld", "reason": "a 30-hour outage on 5 March", "remedy": "credit", "amount": "25.00"})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["correction"] == {"bill_id": "B3", "kind": "credit", "before": "100.00", "after": "75.00",
                                               "entry_id": answer.get_json()["correction"]["entry_id"]}
    balance = db.session.scalar(select(db.func.sum(LedgerEntry.amount_fen)).where(LedgerEntry.customer_id == c3.id))
    assert balance == -2500  # 75.00 billed, 100.00 paid: 25.00 in the customer's favour
    assert client.post(f"/api/v1/disputes/{outage.id}/resolve", json={
        "outcome": "rejected", "reason": "again"}).status_code == 409


def test_supervisors_see_what_is_overdue_officers_what_is_theirs_in_the_worklist(district, client, recovery):
    c1, c2, c3 = district["C1"], district["C2"], district["C3"]
    late = register(c1, "B1", at=now() - dt.timedelta(hours=72))
    theirs = register(c2, at=now() - dt.timedelta(hours=1), kind="service", owner="zhao", against="li")
    other = register(c3, at=now() - dt.timedelta(hours=50), by="zhao", kind="outage")

    sign_in(client, "zhao")
    overdue = client.get("/api/v1/disputes?status=overdue").get_json()
    assert [(d["id"], d["owner"], d["overdue"]) for d in overdue] == [(late.id, "li", True), (other.id, "wang", True)]
    page = client.get("/worklist").get_data(as_text=True)
    section = page[page.index('data-section="overdue-disputes"'):]
    assert f'data-dispute="{late.id}"' in section and f'data-dispute="{other.id}"' in section
    assert 'data-count="overdue"><strong>2<' in client.get("/disputes?status=overdue").get_data(as_text=True)
    client.post("/logout")

    sign_in(client, "li")
    mine = client.get("/api/v1/disputes?status=open&owner=me").get_json()
    assert [(d["id"], d["bills"], d["hours_left"]) for d in mine] == [(late.id, ["B1"], -24.0)]
    page = client.get("/worklist").get_data(as_text=True)
    assert f'data-dispute="{late.id}"' in page and 'data-section="overdue-disputes"' not in page
    assert client.get(f"/api/v1/disputes/{other.id}").status_code == 404  # another grid's customer
    answer = client.post(f"/api/v1/disputes/{theirs.id}/resolve", json={"outcome": "rejected", "reason": "no"})
    assert answer.status_code == 403 and answer.get_json()["code"] == "not_owner"
    answer = client.post("/api/v1/customers/C2/disputes", json={
        "kind": "wrong_amount", "channel": "online", "description": "x", "bills": ["B1"]})
    assert answer.status_code == 404  # B1 is C1's bill
    answer = client.post("/api/v1/customers/C2/disputes", json={
        "kind": "wrong_amount", "channel": "online", "description": "x", "raised_at": "2099-01-01T00:00:00+08:00"})
    assert answer.status_code == 422
    answer = client.post("/customers/C2/disputes", data={"kind": "wrong_amount", "channel": "counter",
                                                         "description": "twice last month's", "bills": "B2"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/customers/C2#disputes-h")
    page = client.get("/customers/C2", headers={"Accept-Language": "en"}).get_data(as_text=True)
    section = page[page.index('data-section="disputes"'):]
    assert "Wrong amount" in section and "B2" in section and "48 h left" in section

    result = recovery("disputes", "resolve", str(late.id), "--outcome", "upheld", "--reason", "misread",
                      "--remedy", "corrected_bill", "--amount", "90.00", "--kwh", "180")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["correction"]["after"] == "90.00"
    listed = json.loads(recovery("disputes", "list", "--status", "overdue").output)
    assert [d["id"] for d in listed] == [other.id]


def test_complaints_upheld_against_an_officer_and_answered_late_come_off_the_assessment(district, recovery,
                                                                                         tmp_path):
    c1, c2 = district["C1"], district["C2"]
    # Every G1 bill paid in March before its due date: li's measures earn full points (100 % recovered).
    load(recovery, tmp_path, payments=[payment("P1b", "C1", "70.00", paid_at="2026-03-12T11:00:00+08:00"),
                                       payment("P2", "C2", "100.00", paid_at="2026-03-12T10:00:00+08:00")])
    with time_machine.travel(dt.datetime(2026, 3, 11, 10, tzinfo=CST), tick=False):
        rude = register(c1, at=now(), by="zhao", kind="service", owner="zhao", against="li")
        service.resolve(db.session, rude, outcome="upheld", reason="the officer was rude", by="zhao")
        slow = register(c2, at=dt.datetime(2026, 3, 2, 9, tzinfo=CST))  # li's, due on 4 March at 09:00
        db.session.commit()
    with time_machine.travel(dt.datetime(2026, 3, 25, 10, tzinfo=CST), tick=False):
        service.resolve(db.session, slow, outcome="rejected", reason="the reading was right", by="li")
        db.session.commit()

    officers = assessment.monthly(db.session, "officers", "2026-03")
    li = officers.loc["li"]
    assert (li["complaints_upheld"], li["complaints_late"], li["complaint_points"]) == (1, 1, -7.0)
    assert li["recovery"] == 100.0 and li["score"] == 93.0 and li["pay_factor"] == 0.93  # 100 − 5 − 2
    assert officers.loc["wang", "complaint_points"] == 0.0 and officers.loc["wang", "score"] == 100.0
    assert assessment.monthly(db.session, "officers", "2026-04").loc["li", "complaint_points"] == 0.0
    with pytest.raises(Invalid, match="only an upheld complaint"):
        service.resolve(db.session, register(c1, at=now()), outcome="rejected", reason="x", by="li", against="li")
