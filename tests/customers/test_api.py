"""The staff JSON API: customers, bills, payments and ledger behind sign-in, documented in OpenAPI."""

from __future__ import annotations

import pytest

from recovery.auth.service import create_user
from recovery.extensions import db
from tests.factories import bill, customer, load, payment

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(recovery, tmp_path):
    load(recovery, tmp_path,
         customers=[customer("C1", grid="G1"), customer("C2", grid="G1"), customer("X1", grid="G2")],
         bills=[bill("B1", "C1", "100.00", "2026-01", "2026-02-03", "2026-02-20"),
                bill("B2", "C1", "80.00", "2026-02", "2026-03-03", "2026-03-20"),
                bill("B3", "X1", "10.00")],
         payments=[payment("R1", "C1", "130.00", "2026-03-10T09:15:00+08:00")])
    create_user(db.session, "li", role="officer", password=PASSWORD, grids=["G1"])
    create_user(db.session, "boss", role="supervisor", password=PASSWORD)
    db.session.commit()


def _sign_in(client, username: str) -> None:
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302


def test_api_refuses_anonymous_callers_with_a_json_401(client, accounts):
    response = client.get("/api/v1/customers")
    assert response.status_code == 401
    assert response.json["code"] == "not_signed_in"
    assert response.json["message"]


def test_officer_lists_only_customers_of_their_grids_most_overdue_first(client, accounts):
    _sign_in(client, "li")
    body = client.get("/api/v1/customers").json
    assert body["total"] == 2
    assert [c["customer_id"] for c in body["items"]] == ["C1", "C2"]
    c1 = body["items"][0]
    assert (c1["balance"], c1["overdue"], c1["oldest_due_on"]) == ("50.00", "50.00", "2026-03-20")
    assert c1["days_overdue"] > 200


def test_officer_gets_404_for_a_customer_of_another_grid(client, accounts):
    _sign_in(client, "li")
    for path in ("/api/v1/customers/X1", "/api/v1/customers/X1/bills", "/api/v1/customers/X1/ledger"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json["code"] == "customer_not_found"


def test_supervisor_sees_every_grid(client, accounts):
    _sign_in(client, "boss")
    assert client.get("/api/v1/customers").json["total"] == 3
    assert client.get("/api/v1/customers/X1").status_code == 200


def test_bills_payments_and_ledger_tell_the_same_story(client, accounts):
    _sign_in(client, "li")
    bills = client.get("/api/v1/customers/C1/bills").json
    assert [(b["bill_id"], b["amount"], b["paid"]) for b in bills] == [("B2", "80.00", "30.00"), ("B1", "100.00",
                                                                                                 "100.00")]
    assert bills[1]["settled_at"] == "2026-03-10T09:15:00+08:00"
    assert bills[0]["settled_at"] is None

    payments = client.get("/api/v1/customers/C1/payments").json
    assert payments[0]["paid_at"] == "2026-03-10T09:15:00+08:00"
    assert payments[0]["allocations"] == [{"bill_id": "B1", "amount": "100.00"}, {"bill_id": "B2", "amount": "30.00"}]

    ledger = client.get("/api/v1/customers/C1/ledger").json
    assert [(e["kind"], e["amount"], e["balance"]) for e in ledger] == [
        ("bill", "100.00", "100.00"), ("bill", "80.00", "180.00"), ("payment", "-130.00", "50.00")]
    assert client.get("/api/v1/customers/C1").json["balance"] == ledger[-1]["balance"]


def test_bad_query_arguments_answer_422_with_the_field(client, accounts):
    _sign_in(client, "li")
    response = client.get("/api/v1/customers?page=0&sort=shoe_size")
    assert response.status_code == 422
    assert set(response.json["errors"]["query"]) == {"page", "sort"}


def test_openapi_document_and_its_page_are_served_by_the_app_itself(client, accounts):
    spec = client.get("/api/openapi.json").json  # public: partner agents never sign in
    assert "/api/v1/customers/{code}/ledger" in spec["paths"]
    unsigned = client.get("/api/docs")
    assert unsigned.status_code == 302 and "/login" in unsigned.headers["Location"]
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 302
    _sign_in(client, "li")
    page = client.get("/api/docs").get_data(as_text=True)
    assert "/api/docs/assets/swagger-ui-bundle.js" in page
    assert "//cdn" not in page and "unpkg" not in page
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_customers_sort_by_grid(client, accounts):
    _sign_in(client, "boss")
    items = client.get("/api/v1/customers?sort=grid&order=desc").json["items"]
    assert [c["grid"] for c in items] == ["G2", "G1", "G1"]
