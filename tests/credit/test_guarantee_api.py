"""Guarantees through HTTP: registered, listed, called (for a supervisor), handed back; documented."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from recovery.approvals.models import ApprovalRequest
from recovery.credit.security.models import Guarantee
from recovery.extensions import db
from recovery.timeutil import today
from tests.credit.test_deposit_api import district, sign_in  # noqa: F401  (fixture and helper)
from tests.web.data import cheap_password_hashing


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_password_hashing(monkeypatch)


def _letter(**kw) -> dict:
    return {"kind": "bank_guarantee", "guarantor": "中国银行", "reference": "LG-1", "amount": "800.00",
            "valid_from": today().isoformat(), "valid_until": (today() + dt.timedelta(days=365)).isoformat()} | kw


def test_a_guarantee_registered_through_the_api_counts_as_held_security(client, district):  # noqa: F811
    sign_in(client, "li")
    made = client.post("/api/v1/customers/C1/guarantees", json=_letter())
    assert made.status_code == 201, made.get_json()
    assert (made.get_json()["status"], made.get_json()["amount"]) == ("active", "800.00")
    assert [g["reference"] for g in client.get("/api/v1/customers/C1/guarantees").get_json()] == ["LG-1"]
    doc = client.get("/api/v1/customers/C1/security").get_json()
    assert (doc["held_guarantees"], doc["shortfall"]) == ("800.00", "200.00")
    bad = client.post("/api/v1/customers/C1/guarantees", json=_letter(kind="promise", reference="LG-2"))
    assert bad.status_code == 422 and "kind" in bad.get_json()["errors"]["json"]


def test_calling_a_guarantee_through_the_api_files_a_request_for_a_supervisor(client, district):  # noqa: F811
    sign_in(client, "li")
    gid = client.post("/api/v1/customers/C1/guarantees", json=_letter()).get_json()["id"]
    asked = client.post(f"/api/v1/customers/C1/guarantees/{gid}/calls", json={"reason": "arrears"})
    assert asked.status_code == 202, asked.get_json()
    assert (asked.get_json()["kind"], asked.get_json()["amount"]) == ("guarantee.call", "800.00")
    again = client.post(f"/api/v1/customers/C1/guarantees/{gid}/calls", json={"reason": "arrears"})
    assert again.status_code == 409
    client.post("/logout")
    sign_in(client, "zhao")
    req = db.session.scalar(select(ApprovalRequest).where(ApprovalRequest.kind == "guarantee.call"))
    assert client.post(f"/security/approvals/{req.id}", data={"decision": "approve"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Guarantee, gid).status == "called"


def test_handing_back_a_guarantee_through_the_api(client, district):  # noqa: F811
    sign_in(client, "li")
    gid = client.post("/api/v1/customers/C1/guarantees", json=_letter()).get_json()["id"]
    done = client.post(f"/api/v1/customers/C1/guarantees/{gid}/release", json={"reason": "renewed elsewhere"})
    assert (done.status_code, done.get_json()["status"]) == (200, "released")


def test_the_security_endpoints_are_documented(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path in ("/api/v1/customers/{code}/security", "/api/v1/customers/{code}/deposits",
                 "/api/v1/customers/{code}/deposits/{deposit_id}/receipts",
                 "/api/v1/customers/{code}/deposits/{deposit_id}/applications",
                 "/api/v1/customers/{code}/deposits/{deposit_id}/refunds",
                 "/api/v1/customers/{code}/guarantees", "/api/v1/customers/{code}/guarantees/{guarantee_id}/calls",
                 "/api/v1/customers/{code}/qualification"):
        assert path in paths, path
    assert paths["/api/v1/customers/{code}/deposits/{deposit_id}/refunds"]["post"]["summary"] == (
        "Ask a supervisor to refund the deposit to the customer.")
