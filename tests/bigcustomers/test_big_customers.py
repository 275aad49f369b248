"""Big customers: a monthly bill over 3,000 yuan or a strategic flag; a new one is called within 24 hours (first
on the officer's day), named contacts at the enterprise, and a ladder that starts with the manager's call before
the due date."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from recovery import policy
from recovery.audit.models import AuditEntry
from recovery.auth.models import User
from recovery.auth.service import create_user
from recovery.bigcustomers import service
from recovery.bigcustomers.models import BigCustomer, EnterpriseContact
from recovery.collections import dunning
from recovery.collections.models import DunningState, WorkItem
from recovery.extensions import db
from recovery.timeutil import today
from recovery.worklist import day as workday
from recovery.worklist.models import AccountManager
from tests.credit.security_helpers import cust, monthly_bills
from tests.factories import bill, customer, load, write_csv
from tests.web.data import PASSWORD, cheap_password_hashing


@pytest.fixture
def firms(app, recovery, tmp_path, monkeypatch):
    """K1: bills of 3,500.00 and 2,600.00 in the last year (3,050.00 a month); K2: two of 3,000.00 (3,000.00 a
    month: not over it); K3 small. Officer li (G1) manages K1; supervisor zhao."""
    cheap_password_hashing(monkeypatch)
    load(recovery, tmp_path,
         customers=[customer(c, "G1", customer_class="commercial") for c in ("K1", "K2", "K3")],
         bills=[*monthly_bills("K1", ["3500.00", "2600.00"]), *monthly_bills("K2", ["3000.00", "3000.00"]),
                *monthly_bills("K3", ["120.00"])])
    create_user(db.session, "li", role="officer", password=PASSWORD, grids=["G1"])
    create_user(db.session, "zhao", role="supervisor", password=PASSWORD)
    li = db.session.scalar(select(User.id).where(User.username == "li"))
    db.session.add(AccountManager(customer_id=cust("K1").id, manager_id=li, assigned_on=today(), assigned_by="zhao"))
    db.session.commit()
    return li


def sign_in(client, username: str) -> None:
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def test_a_new_big_customer_gets_a_call_due_within_24_hours_first_on_the_managers_day(app, firms):
    summary = service.refresh(db.session, today())
    db.session.commit()
    assert (summary["big"], summary["new"], summary["calls"]) == (1, 1, 1)
    k1 = db.session.get(BigCustomer, cust("K1").id)
    assert (k1.reason, k1.monthly_bill_fen, k1.contact_by - k1.since_at) == ("bill", 305_000, dt.timedelta(hours=24))
    item = db.session.scalar(select(WorkItem).where(WorkItem.reason == service.NEW))
    assert (item.customer_id, item.kind, item.assigned_to, item.due_on, item.priority_fen) == (
        k1.customer_id, "call", "li", today(), 305_000)
    again = service.refresh(db.session, today())
    assert (again["new"], again["calls"]) == (0, 0)

    # A day of one call: the new big customer's call goes first, ahead of a larger routine call (carried).
    db.session.add(WorkItem(customer_id=cust("K3").id, due_on=today(), kind="call", reason="segment_call",
                            priority_fen=1_000_000, assigned_to="li", status="open"))
    db.session.commit()
    app.config["POLICY_IN_FORCE"] = {**app.config["POLICY_IN_FORCE"], "worklist": policy.section(
        "worklist", {"worklist": {"capacity": {"calls": 1, "visits": 0, "hours": "1"}}})}
    li = db.session.scalar(select(User).where(User.username == "li"))
    planned = workday.day_list(db.session, li, today())
    assert [r["customer_id"] for r in planned["rows"]] == ["K1"] and planned["progress"]["carried"] == 1

    workday.complete_customer(db.session, li, "K1", today(), outcome="contacted", note="财务王会计接听")
    after = service.refresh(db.session, today())
    db.session.commit()
    assert after["contacted"] == 1
    db.session.refresh(k1)
    assert k1.contact_by > k1.contacted_at >= k1.since_at


def test_a_strategic_customer_has_named_contacts_and_a_ladder_starting_with_the_managers_call(firms, client,
                                                                                                recovery, tmp_path):
    sign_in(client, "li")
    put = client.put("/api/v1/customers/K1/contacts/finance", json={"name": "王会计", "phone": "0571-88886666"})
    assert put.status_code == 200 and put.get_json()["name"] == "王会计"
    assert client.put("/api/v1/customers/K1/contacts/boss", json={"name": "x", "phone": "123"}).status_code == 404
    assert client.put("/api/v1/customers/K1/contacts/manager", json={"name": "x", "phone": "=1+1"}).status_code == 422
    assert client.post("/api/v1/customers/K3/strategic", json={"reason": "重点招商企业"}).status_code == 403

    contacts = write_csv(tmp_path / "contacts.csv", ["customer_id", "role", "name", "phone"],
                         [{"customer_id": "K1", "role": "electrician", "name": "李电工", "phone": "13900000002"},
                          {"customer_id": "K9", "role": "manager", "name": "赵总", "phone": "13900000003"}])
    refused = recovery("big-customers", "import-contacts", contacts)
    assert refused.exit_code == 1 and f"{contacts}:3: customer_id: unknown customer K9" in refused.output
    good = write_csv(tmp_path / "good.csv", ["customer_id", "role", "name", "phone"],
                     [{"customer_id": "K1", "role": "electrician", "name": "李电工", "phone": "13900000002"},
                      {"customer_id": "K1", "role": "finance", "name": "王会计", "phone": "0571-88886666"}])
    assert "2 rows, 1 new" in recovery("big-customers", "import-contacts", good).output
    assert db.session.scalar(select(func.count()).select_from(EnterpriseContact)) == 2

    sign_in(client, "zhao")
    flagged = client.post("/api/v1/customers/K3/strategic", json={"reason": "重点招商企业"})
    assert flagged.status_code == 201 and (flagged.get_json()["reason"], flagged.get_json()["monthly_bill"]) == (
        "strategic", "120.00")
    assert db.session.scalar(select(AuditEntry.actor).where(AuditEntry.action == "big_customer.strategic")) == "zhao"
    page = client.get("/customers/K1?lang=en").get_data(as_text=True)
    assert '<dd data-field="contact-finance">王会计' in page and '<dd data-field="contact-manager">–' in page
    listing = client.get("/big-customers?lang=en").get_data(as_text=True)
    assert re.findall(r'<tr data-key="(\w+)"', listing) == ["K3"]  # K1 becomes one at the night's refresh

    # K5 (strategic, managed by li) and K6 each owe one bill falling due in four days: only K5 reaches a step,
    # the manager's call five days before; three days before, both get the reminder.
    due = today() + dt.timedelta(days=4)
    load(recovery, tmp_path, customers=[customer("K5", "G1", customer_class="industrial"),
                                        customer("K6", "G1", customer_class="industrial")],
         bills=[bill(f"B-{c}", c, "800.00", f"{today():%Y-%m}", (today() - dt.timedelta(days=1)).isoformat(),
                     due.isoformat()) for c in ("K5", "K6")])
    db.session.add(AccountManager(customer_id=cust("K5").id, manager_id=firms, assigned_on=today(), assigned_by="zhao"))
    service.set_strategic(db.session, cust("K5"), reason="重点保供企业", by="zhao", day=today())
    summary = dunning.nightly(db.session, today())
    db.session.commit()
    assert summary["big_customer_steps"] == {"manager_call": 1}
    k5, k6 = cust("K5").id, cust("K6").id
    states = dict(db.session.execute(select(DunningState.customer_id, DunningState.step)
                                     .where(DunningState.customer_id.in_([k5, k6]))).all())
    assert states == {k5: "manager_call"}
    call = db.session.scalar(select(WorkItem).where(WorkItem.reason == "manager_call"))
    assert (call.customer_id, call.kind, call.assigned_to, call.priority_fen) == (k5, "call", "li", 80_000)

    dunning.nightly(db.session, today() + dt.timedelta(days=1))
    states = dict(db.session.execute(select(DunningState.customer_id, DunningState.step)
                                     .where(DunningState.customer_id.in_([k5, k6]))).all())
    assert states == {k5: "reminder_sms", k6: "reminder_sms"}
