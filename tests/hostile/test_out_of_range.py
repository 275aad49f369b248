"""Numbers and dates out of range, line breaks in a redirect target and deeply nested JSON: each is refused
with a 400 or 422 that names the field, never a 500, and nothing is written."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from recovery.auth.service import create_user
from recovery.extensions import db
from recovery.inputguard import MAX_JSON_DEPTH
from tests.web.data import PASSWORD, cheap_password_hashing, load_district

INT64_MAX = 2**63 - 1


@pytest.fixture
def district(app, recovery, tmp_path, monkeypatch):
    cheap_password_hashing(monkeypatch)
    load_district(recovery, tmp_path)
    create_user(db.session, "qian", role="clerk", password=PASSWORD)
    db.session.commit()


def _signed_in(client, username: str):
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def _rows() -> dict[str, int]:
    db.session.rollback()
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def _names(response, field: str, *statuses: int) -> None:
    """The answer is one of `statuses` and its text names `field`."""
    text = response.get_data(as_text=True)
    assert response.status_code in statuses, (response.status_code, text[:300])
    assert field in text, text[:300]


def test_a_page_number_of_two_to_the_63_minus_one_is_refused_naming_page(client, district):
    _signed_in(client, "zhao")
    _names(client.get(f"/customers?page={INT64_MAX}&lang=en"), "page", 400)
    api = client.get(f"/api/v1/customers?page={INT64_MAX}")
    assert api.status_code == 422 and "page" in api.get_json()["errors"]["query"]
    client.post("/logout")
    _signed_in(client, "qian")
    _names(client.get(f"/reconcile/breaks?page={INT64_MAX}&lang=en"), "page", 400)
    # The last page whose offset still fits 64 bits is an empty page, not an error.
    assert client.get(f"/reconcile/breaks?page={INT64_MAX // 100}").status_code == 200


def test_reconciliation_days_at_the_ends_of_the_calendar_are_refused_naming_date(client, district):
    _signed_in(client, "qian")
    for url in ("/reconcile?date=0001-01-01", "/reconcile/payments?date=9999-12-31",
                "/reconcile/payments.csv?date=9999-12-31", "/reconcile/breaks?date=0001-01-01"):
        _names(client.get(url + "&lang=en"), "date", 400)
    assert client.get("/reconcile?date=1900-01-01").status_code == 200
    assert client.get("/reconcile/payments.csv?date=2199-12-31").status_code == 200


def test_a_promise_on_a_visit_id_of_two_to_the_63_is_refused_naming_visit_id(client, district):
    _signed_in(client, "li")
    before = _rows()
    answer = client.post("/api/v1/customers/C1/promises",
                         json={"amount": "10.00", "promised_on": "2026-12-31", "visit_id": 2**63})
    assert answer.status_code == 422 and "visit_id" in answer.get_json()["errors"]["json"]
    for visit_id in ("１２", -1, 0, "9" * 4301):
        answer = client.post("/api/v1/customers/C1/promises",
                             json={"amount": "10.00", "promised_on": "2026-12-31", "visit_id": visit_id})
        assert answer.status_code == 422 and "visit_id" in answer.get_json()["errors"]["json"], visit_id
    assert _rows() == before


def test_a_visit_dated_year_one_is_refused_naming_at(client, district):
    _signed_in(client, "li")
    before = _rows()
    for at in ("0001-01-01T00:00:00+08:00", "0001-01-01T00:00:00-08:00", "9999-12-31T23:59:59-08:00"):
        answer = client.post("/api/v1/customers/C1/visits", json={"kind": "visit", "outcome": "contacted", "at": at})
        assert answer.status_code == 422 and "at" in answer.get_json()["errors"]["json"], at
    assert _rows() == before


def test_a_next_target_with_a_line_break_is_ignored_on_the_reconcile_and_direct_debit_forms(client, district):
    _signed_in(client, "qian")
    hostile = "/reconcile/breaks\r\nSet-Cookie: x=1"
    answer = client.post("/reconcile/breaks/1/assign", data={"next": hostile})
    assert answer.status_code == 302 and answer.headers["Location"] == "/reconcile/breaks"
    answer = client.post("/direct-debit/results", data={"next": "/direct-debit\r\nSet-Cookie: x=1", "format": "x"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/direct-debit"
    assert "x=1" not in answer.headers.get("Set-Cookie", "")


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/api/v1/customers/C1/visits", 400, "json_too_deep"), ("/no/such/path", 400, "json_too_deep"),
    ("/login", 400, "json_too_deep"),
    # A signed API checks the signature on the raw body first and parses only a signed one.
    ("/api/v1/payments", 401, "missing_signature"),
])
def test_deeply_nested_json_is_refused_with_400_on_any_path(client, district, path, status, code):
    _signed_in(client, "li")
    before = _rows()
    for depth in (MAX_JSON_DEPTH + 1, 3000):
        answer = client.post(path, data="[" * depth + "]" * depth, content_type="application/json")
        assert answer.status_code == status, (depth, answer.status_code)
        assert answer.get_json()["code"] == code
    nested: object = "x"
    for _ in range(MAX_JSON_DEPTH - 1):
        nested = [nested]
    shallow = client.post("/api/v1/customers/C1/visits", json={"kind": "visit", "outcome": "contacted",
                                                               "note": nested})
    assert shallow.status_code == 422  # deep enough to be parsed, and then refused by the schema
    assert _rows() == before


def test_a_command_given_a_date_at_the_ends_of_the_calendar_refuses_it_and_runs_nothing(app, recovery):
    before = _rows()
    for args in (("jobs", "run", "billing.penalties", "--date", "0001-01-01"),
                 ("reconcile", "report", "--date", "9999-12-31", "--json")):
        result = recovery(*args)
        assert result.exit_code == 2 and "expected a date from 1900-01-01 through 2199-12-31" in result.output, args
    assert _rows() == before


def test_the_api_document_publishes_the_anchored_patterns_as_ecma_regular_expressions(client):
    """Validation anchors with \\Z ("$" lets "1.00\\n" through in Python); the document speaks ECMA-262, where "$"
    already ends the input, so partners' validators read the same rule."""
    spec = client.get("/api/openapi.json").get_json()
    patterns = re.findall(r'"pattern":\s*"((?:[^"\\]|\\.)*)"', json.dumps(spec))
    assert patterns and not [p for p in patterns if p.endswith("\\\\Z")]
    amount = spec["components"]["schemas"]["AgentPaymentIn"]["properties"]["amount"]["pattern"]
    assert amount == r"^[0-9]{1,13}(\.[0-9]{1,2})?$"


def test_an_assessment_month_outside_the_calendar_or_with_a_line_break_is_refused(client, district):
    _signed_in(client, "zhao")
    for month in ("0001-01", "9999-12", "2026-01\n", "２０２６-01"):
        assert client.get("/assessment", query_string={"month": month}).status_code == 400, month
        api = client.get("/api/v1/assessment", query_string={"month": month})
        assert api.status_code == 422 and "month" in api.get_json()["errors"]["query"], month
