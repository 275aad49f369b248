"""Deposits and security through HTTP: the staff JSON API, the officer pages and the supervisors' page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from recovery.approvals.models import ApprovalRequest
from recovery.credit.security.models import Deposit
from recovery.extensions import db
from recovery.ledger.models import LedgerEntry
from recovery.timeutil import today
from tests.credit.security_helpers import PASSWORD, cust, load_customers, monthly_bills, rate, staff
from tests.factories import customer
from tests.web.data import cheap_password_hashing


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def district(recovery, tmp_path):
    """C1 in G1 (the officer li's grid), grade C, three bills of 500.00 past due; C9 in G9."""
    load_customers(recovery, tmp_path, customer("C1", "G1", customer_class="commercial"), customer("C9", "G9"),
                   bills=monthly_bills("C1", ["500.00"] * 3, last_issued=today() - dt.timedelta(days=40)))
    rate(cust("C1").id, "C")
    staff()


def sign_in(client, username: str) -> None:
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def test_the_api_needs_a_signed_in_user_and_keeps_officers_to_their_grids(client, district):
    assert client.get("/api/v1/customers/C1/security").status_code == 401
    sign_in(client, "li")
    assert client.get("/api/v1/customers/C9/deposits").status_code == 404
    assert client.get("/api/v1/customers/C1/security").status_code == 200


def test_required_versus_held_security_through_the_api(client, district):
    sign_in(client, "li")
    doc = client.get("/api/v1/customers/C1/security").get_json()
    assert {k: doc[k] for k in ("customer_id", "grade", "recommended", "required", "held_cash", "held_guarantees",
                                "shortfall", "within_tolerance")} == {
        "customer_id": "C1", "grade": "C", "recommended": "1000.00", "required": "1000.00", "held_cash": "0.00",
        "held_guarantees": "0.00", "shortfall": "1000.00", "within_tolerance": False}


def test_a_deposit_requested_received_and_applied_through_the_api(client, district):
    sign_in(client, "li")
    made = client.post("/api/v1/customers/C1/deposits", json={"reason": "grade C"})
    assert made.status_code == 201, made.get_json()
    deposit = made.get_json()
    assert (deposit["requested"], deposit["held"], deposit["status"]) == ("1000.00", "0.00", "requested")
    got = client.post(f"/api/v1/customers/C1/deposits/{deposit['id']}/receipts",
                      json={"amount": "1000.00", "reference": "POS-1"})
    assert got.status_code == 201, got.get_json()
    assert (got.get_json()["held"], [e["kind"] for e in got.get_json()["entries"]]) == ("1000.00",
                                                                                       ["requested", "received"])
    assert client.post(f"/api/v1/customers/C1/deposits/{deposit['id']}/receipts",
                       json={"amount": "1000.00", "reference": "POS-1"}).status_code == 409
    bad = client.post(f"/api/v1/customers/C1/deposits/{deposit['id']}/receipts", json={"amount": "1.234",
                                                                                       "reference": "X"})
    assert bad.status_code == 422 and "amount" in bad.get_json()["errors"]["json"]
    asked = client.post(f"/api/v1/customers/C1/deposits/{deposit['id']}/applications", json={"reason": "arrears"})
    assert asked.status_code == 202, asked.get_json()
    assert (asked.get_json()["kind"], asked.get_json()["amount"], asked.get_json()["status"]) == (
        "deposit.apply", "1000.00", "pending")
    c1 = cust("C1").id
    assert db.session.scalar(select(func.sum(LedgerEntry.amount_fen)).where(LedgerEntry.customer_id == c1)) == 150_000


def test_a_clerk_may_record_a_receipt_but_not_ask_for_a_refund(client, district):
    from recovery.auth.service import create_user

    create_user(db.session, "sun", role="clerk", password=PASSWORD, display_name="孙会计")
    db.session.commit()
    sign_in(client, "sun")
    assert client.post("/api/v1/customers/C1/deposits", json={"reason": "x"}).status_code == 403
    got = client.post("/api/v1/customers/C1/deposits/999/receipts", json={"amount": "1.00", "reference": "R"})
    assert got.status_code == 404


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_the_security_page_and_the_supervisors_decision_apply_a_deposit(client, district):
    sign_in(client, "li")
    html = client.get("/customers/C1/security").get_data(as_text=True)
    assert 'data-field="security-shortfall">1,000.00<' in html
    assert client.get("/customers/C9/security").status_code == 404
    assert client.post("/customers/C1/security/deposits", data={"amount": "600.00", "reason": "grade C"}
                       ).status_code == 302
    d = db.session.scalar(select(Deposit))
    client.post(f"/customers/C1/security/deposits/{d.id}/receipts", data={"amount": "600.00", "reference": "R-1"})
    page = client.get("/customers/C1/security").get_data(as_text=True)
    assert 'data-field="security-cash">600.00<' in page
    client.post(f"/customers/C1/security/deposits/{d.id}/applications", data={"reason": "three months unpaid"})
    req = db.session.scalar(select(ApprovalRequest).where(ApprovalRequest.kind == "deposit.apply"))
    assert req is not None and req.requested_by == "li"
    assert client.get("/security/approvals").status_code == 403  # officers do not decide

    client.post("/logout")
    sign_in(client, "zhao")
    listing = client.get("/security/approvals").get_data(as_text=True)
    assert f'data-request="{req.id}"' in listing and "600.00" in listing
    assert client.post(f"/security/approvals/{req.id}", data={"decision": "approve"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(ApprovalRequest, req.id).status == "approved"
    assert db.session.get(Deposit, d.id).held_fen == 0
    c1 = cust("C1").id
    assert db.session.scalar(select(func.sum(LedgerEntry.amount_fen)).where(LedgerEntry.customer_id == c1)) == 90_000


def test_a_refused_form_says_why_and_changes_nothing(client, district):
    sign_in(client, "li")
    response = client.post("/customers/C1/security/deposits/12345/receipts", data={"amount": "5.00",
                                                                                   "reference": "R"},
                           follow_redirects=True)
    assert "no deposit #12345" in response.get_data(as_text=True)
    response = client.post("/customers/C1/security/deposits", data={"amount": "abc", "reason": "x"},
                           follow_redirects=True)
    assert 'class="flash error"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Deposit)) == 0


def test_the_partial_renders_from_the_part_its_page_read_before_rendering(app, district):
    from flask import render_template

    from recovery.credit.security.views import security_summary

    with app.test_request_context("/"):
        html = render_template("credit/_security.html", customer=cust("C1"),
                               parts={"security": security_summary(cust("C1"))})
    assert 'data-field="security-required">1,000.00<' in html
