"""The customer page's collection work: forms that record a visit and a promise, the API, grid access."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from recovery.collections.models import DisconnectionOrder, PayPlan, Promise, Visit
from recovery.customers.models import Customer
from recovery.extensions import db
from recovery.timeutil import today
from tests.web.data import PASSWORD, cheap_password_hashing, load_district


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def district(recovery, tmp_path):
    load_district(recovery, tmp_path)


def sign_in(client, username: str) -> None:
    r = client.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 302, r.data


def test_page_forms_record_a_visit_and_a_promise(client, district):
    sign_in(client, "li")
    client.post("/lang/en")  # flashed messages are written in the session's language
    page = client.get("/customers/C1?lang=en").get_data(as_text=True)
    assert 'data-form="visit"' in page and 'name="csrf_token"' in page

    r = client.post("/customers/C1/collections/visits",
                    data={"kind": "visit", "outcome": "promised", "note": "met the owner", "next_step": "call back",
                          "next_on": today().isoformat()})
    assert r.status_code == 302 and r.headers["Location"].endswith("/customers/C1#collection-work")
    visit = db.session.scalar(select(Visit))
    assert (visit.officer, visit.kind, visit.outcome, visit.next_step) == ("li", "visit", "promised", "call back")

    r = client.post("/customers/C1/collections/promises",
                    data={"amount": "500.00", "promised_on": today().isoformat(), "visit_id": str(visit.id)})
    assert r.status_code == 302
    promise = db.session.scalar(select(Promise))
    assert (promise.amount_fen, promise.visit_id, promise.recorded_by) == (50_000, visit.id, "li")

    page = client.get("/customers/C1?lang=en").get_data(as_text=True)
    assert "Promise recorded." in page and "met the owner" in page and "500.00" in page

    # A bad form comes back as a message, nothing stored; another grid's customer is not found.
    client.post("/customers/C1/collections/pay-plans", data={"total": "100.00", "installments": "2099-01-01 50.00"})
    assert db.session.scalar(select(PayPlan.id)) is None
    assert "add up to 50.00 yuan" in client.get("/customers/C1?lang=en").get_data(as_text=True)
    assert client.post("/customers/C4/collections/visits", data={"kind": "call", "outcome": "contacted"}) \
        .status_code == 404


def test_a_form_posted_without_its_csrf_token_is_refused(app, client, district):
    sign_in(client, "li")
    app.config["WTF_CSRF_ENABLED"] = True
    r = client.post("/customers/C1/collections/visits", data={"kind": "call", "outcome": "contacted"})
    assert r.status_code == 400
    assert db.session.scalar(select(Visit.id)) is None


def test_api_pay_plan_and_order_execution_respect_roles_and_grids(client, district):
    sign_in(client, "li")
    r = client.post("/api/v1/customers/C1/pay-plans",
                    json={"total": "1234.56", "installments": [{"due_on": "2099-01-15", "amount": "600.00"},
                                                               {"due_on": "2099-02-15", "amount": "634.56"}]})
    assert r.status_code == 201, r.json
    assert (r.json["total"], r.json["status"], len(r.json["installments"])) == ("1234.56", "active", 2)
    assert client.post("/api/v1/customers/C1/exemptions", json={"reason": "hospital"}).status_code == 403
    assert client.get("/api/v1/customers/C4/dunning").status_code == 404

    c1 = db.session.scalar(select(Customer).where(Customer.code == "C1"))
    order = DisconnectionOrder(customer_id=c1.id, reason="disconnection_order", ordered_on=today(),
                               status="open", source="collections")
    db.session.add(order)
    db.session.commit()
    assert [o["id"] for o in client.get("/api/v1/disconnection-orders").json] == [order.id]
    r = client.post(f"/api/v1/disconnection-orders/{order.id}/execute", json={"note": "no answer to three visits"})
    assert r.status_code == 200, r.json
    # Four eyes: the officer's request waits for a supervisor; supply is not cut yet.
    assert (r.json["outcome"], r.json["order"]["status"]) == ("awaiting_approval", "open")
    assert r.json["order"]["approval_request_id"] == r.json["request_id"] and r.json["order"]["requested_by"] == "li"
    assert client.get("/api/v1/customers/C1/dunning").json["orders"][0]["approval_request_id"] == r.json["request_id"]
    assert client.post(f"/api/v1/disconnection-orders/{order.id}/execute", json={}).status_code == 409  # one waits
    assert "/api/v1/disconnection-orders/{order_id}/execute" in client.get("/api/openapi.json").json["paths"]
