"""The credit pages and API: a customer's rating, history chart and reasons; overrides; terms proposals."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from recovery.approvals.models import ApprovalRequest
from recovery.credit.models import CreditOverride, SettlementTerms
from recovery.credit.rating.ratings import rate
from recovery.extensions import db
from recovery.timeutil import today
from tests.factories import load
from tests.web.data import PASSWORD, cheap_password_hashing, load_district


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def district(recovery, tmp_path, session):
    load_district(recovery, tmp_path)
    load(recovery, tmp_path, events=[{"customer_id": "C3", "kind": "theft", "occurred_on": "2025-06-01",
                                      "amount": "500.00"}])
    rate(session, dt.date(2025, 3, 1))
    rate(session, dt.date(2025, 7, 1))
    session.commit()


def sign_in(client, username: str) -> None:
    r = client.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 302, r.data


def test_credit_page_shows_grade_history_chart_and_reasons(client, district):
    sign_in(client, "li")
    r = client.get("/customers/C3/credit?lang=en")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert 'data-field="grade">C<' in html
    assert "<svg" in html and 'class="points"' in html and "<circle" in html  # the server-drawn chart
    assert 'data-kind="theft"' in html and "2025-06-01" in html
    assert "at most grade C" in html
    assert "Override the grade" not in html  # officers do not override


def test_customer_page_links_to_the_credit_page(client, district):
    sign_in(client, "li")
    assert "/customers/C1/credit" in client.get("/customers/C1").get_data(as_text=True)


def test_officer_cannot_open_the_credit_page_of_another_grid(client, district):
    sign_in(client, "li")
    assert client.get("/customers/C4/credit").status_code == 404
    assert client.get("/api/v1/customers/C4/rating").status_code == 404


def test_supervisor_overrides_a_grade_from_the_credit_page(client, district, session):
    sign_in(client, "zhao")
    until = (today() + dt.timedelta(days=30)).isoformat()
    r = client.post("/customers/C3/credit/override", data={"grade": "B", "reason": "meter fault", "expires_on": until})
    assert r.status_code == 302
    html = client.get("/customers/C3/credit?lang=en").get_data(as_text=True)
    assert 'data-field="grade">B<' in html and "meter fault" in html
    assert client.get("/api/v1/customers/C3/rating").get_json()["overridden"] is True


def test_officer_cannot_override_a_grade(client, district, session):
    sign_in(client, "li")
    until = (today() + dt.timedelta(days=30)).isoformat()
    assert client.post("/customers/C3/credit/override",
                       data={"grade": "A", "reason": "x", "expires_on": until}).status_code == 403
    r = client.post("/api/v1/customers/C3/rating-overrides", json={"grade": "A", "reason": "x", "expires_on": until})
    assert r.status_code == 403
    assert db.session.scalar(select(CreditOverride.id)) is None


def test_override_without_a_valid_expiry_is_refused_with_a_message(client, district):
    sign_in(client, "zhao")
    r = client.post("/customers/C3/credit/override?lang=en", data={"grade": "B", "reason": "x", "expires_on": "soon"},
                    follow_redirects=True)
    assert "as a date" in r.get_data(as_text=True)
    r = client.post("/api/v1/customers/C3/rating-overrides", json={"grade": "Q", "reason": "x",
                                                                   "expires_on": today().isoformat()})
    assert r.status_code == 422 and "grade must be one of" in r.get_json()["message"]


def test_rating_api_gives_grade_and_reasons(client, district):
    sign_in(client, "li")
    doc = client.get("/api/v1/customers/C3/rating").get_json()
    assert (doc["grade"], doc["overridden"], doc["terms"]) == ("C", False, "postpaid")
    assert doc["computed"]["reasons"]["rules"][0]["rule"] == "theft_within_24m"
    history = client.get("/api/v1/customers/C3/rating-history").get_json()
    assert [h["rated_on"] for h in history] == ["2025-03-01", "2025-07-01"]


def test_rating_api_needs_sign_in(client, district):
    assert client.get("/api/v1/customers/C3/rating").status_code == 401


def test_recompute_on_demand_for_one_customer(client, district, recovery, tmp_path):
    load(recovery, tmp_path, events=[{"customer_id": "C1", "kind": "returned_payment",
                                      "occurred_on": (today() - dt.timedelta(days=1)).isoformat(), "amount": ""}])
    sign_in(client, "li")
    before = client.get("/api/v1/customers/C1/rating").get_json()["computed"]
    doc = client.post("/api/v1/customers/C1/rating/recompute", json={}).get_json()
    assert doc["computed"]["rated_on"] == today().isoformat()
    assert doc["computed"]["points"] == before["points"] - 8
    # Nothing changed since: a second recompute stores no new row.
    client.post("/api/v1/customers/C1/rating/recompute", json={})
    assert len(client.get("/api/v1/customers/C1/rating-history").get_json()) == 3


def test_terms_proposal_from_the_page_and_approval_on_the_supervisor_page(client, district):
    sign_in(client, "li")
    r = client.post("/customers/C3/credit/terms", data={"terms": "prepayment", "reason": "theft last year"})
    assert r.status_code == 302
    req = db.session.scalar(select(ApprovalRequest))
    assert (req.kind, req.subject_id, req.requested_by) == ("terms.change", "C3", "li")
    client.post("/logout")
    sign_in(client, "zhao")
    page = client.get("/credit/supervisor?lang=en").get_data(as_text=True)
    assert "theft last year" in page
    assert client.post(f"/credit/proposals/{req.id}", data={"decision": "approve"}).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(SettlementTerms.terms)) == "prepayment"
    assert client.get("/api/v1/customers/C3/terms").get_json()["terms"] == "prepayment"


def test_supervisor_page_is_for_supervisors(client, district):
    sign_in(client, "li")
    assert client.get("/credit/supervisor").status_code == 403


def test_supervisor_page_lists_overrides_in_force_and_revokes_them(client, district):
    sign_in(client, "zhao")
    until = (today() + dt.timedelta(days=5)).isoformat()
    client.post("/credit/overrides",
                data={"customer_id": "C1", "grade": "C", "reason": "bankrupt", "expires_on": until})
    page = client.get("/credit/supervisor").get_data(as_text=True)
    assert "bankrupt" in page
    oid = db.session.scalar(select(CreditOverride.id))
    # The form's way back must stay on the site: another host is replaced by the supervisor page.
    answer = client.post(f"/credit/overrides/{oid}/revoke", data={"reason": "paid up", "back": "//evil.example/x"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/credit/supervisor"
    assert "bankrupt" not in client.get("/credit/supervisor").get_data(as_text=True)
    assert client.post("/credit/proposals/999", data={"back": "/customers/C1/credit"}).headers["Location"] == \
        "/customers/C1/credit"


def test_credit_pages_are_in_chinese_by_default(client, district):
    sign_in(client, "li")
    html = client.get("/customers/C3/credit").get_data(as_text=True)
    assert 'lang="zh-CN"' in html


def test_api_is_documented_in_openapi(client):
    spec = client.get("/api/openapi.json").get_json()
    for path in ("/api/v1/customers/{code}/rating", "/api/v1/customers/{code}/rating-history",
                 "/api/v1/customers/{code}/rating-overrides", "/api/v1/customers/{code}/terms"):
        assert path in spec["paths"], path
