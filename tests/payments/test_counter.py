"""Counter payments: a cashier's drawer per day, receipts, and the drawer's figures for balancing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from recovery.auth.service import create_user
from recovery.extensions import db
from recovery.payments.channels import counter
from recovery.payments.models import CashierDrawer, Payment
from recovery.timeutil import today
from tests.factories import bill, customer, load

PASSWORD = "correct horse battery"


@pytest.fixture
def hall(app, recovery, tmp_path):
    """Cashiers wang and zhao, officer li; customer C1 owes 100 + 80 yuan."""
    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "100.00", "2026-01", "2026-02-03", "2026-02-20"),
                bill("B2", "C1", "80.00", "2026-02", "2026-03-03", "2026-03-20")])
    create_user(db.session, "wang", role="cashier", password=PASSWORD)
    create_user(db.session, "zhao", role="cashier", password=PASSWORD)
    create_user(db.session, "li", role="officer", password=PASSWORD, grids=["G1"])
    db.session.commit()


def _sign_in(client, username: str) -> None:
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def test_a_cashiers_day_opening_payments_and_close_add_up_in_the_drawer(client, hall):
    _sign_in(client, "wang")
    opened = client.post("/api/v1/counter/drawer", json={"opening_float": "200.00"})
    assert opened.status_code == 201, opened.json
    assert (opened.json["status"], opened.json["opening_float"]) == ("open", "200.00")

    cash = client.post("/api/v1/counter/payments", json={"customer_id": "C1", "amount": "120.00", "tender": "cash"})
    assert cash.status_code == 201, cash.json
    assert (cash.json["status"], cash.json["balance"], cash.json["cashier"]) == ("settled", "60.00", "wang")
    assert cash.json["allocations"] == [{"bill_id": "B1", "amount": "100.00"}, {"bill_id": "B2", "amount": "20.00"}]
    card = client.post("/api/v1/counter/payments", json={"customer_id": "C1", "amount": "30.00", "tender": "card"})
    assert (card.json["status"], card.json["tender"]) == ("provisional", "card")
    assert [cash.json["receipt_no"], card.json["receipt_no"]] == [
        f"Cwang-{today():%Y%m%d}-00001", f"Cwang-{today():%Y%m%d}-00002"]

    closed = client.post("/api/v1/counter/drawer/close", json={"counted": "318.50"})
    assert (closed.status_code, closed.json["status"], closed.json["counted"]) == (200, "closed", "318.50")
    late = client.post("/api/v1/counter/payments", json={"customer_id": "C1", "amount": "1.00", "tender": "cash"})
    assert (late.status_code, late.json["code"]) == (409, "drawer_closed")

    row = counter.drawers_day(db.session, today()).to_dict("records")[0]
    assert {k: row[k] for k in ("cashier", "status", "opening_float_fen", "cash_count", "cash_fen", "card_count",
                                "card_fen", "expected_cash_fen", "counted_fen", "difference_fen")} == {
        "cashier": "wang", "status": "closed", "opening_float_fen": 20_000, "cash_count": 1, "cash_fen": 12_000,
        "card_count": 1, "card_fen": 3_000, "expected_cash_fen": 32_000, "counted_fen": 31_850,
        "difference_fen": -150}
    assert (row["opened_by"], row["closed_by"]) == ("wang", "wang")
    assert row["opened_at"] <= row["closed_at"]


def test_no_counter_payment_without_an_open_drawer_and_one_drawer_a_day(client, hall):
    _sign_in(client, "wang")
    refused = client.post("/api/v1/counter/payments", json={"customer_id": "C1", "amount": "1.00", "tender": "cash"})
    assert (refused.status_code, refused.json["code"]) == (404, "drawer_not_open")
    assert client.post("/api/v1/counter/drawer", json={"opening_float": "0.00"}).status_code == 201
    again = client.post("/api/v1/counter/drawer", json={"opening_float": "0.00"})
    assert (again.status_code, again.json["code"]) == (409, "drawer_exists")
    assert db.session.scalar(select(Payment.id)) is None


def test_a_retried_counter_reference_is_not_posted_twice(client, hall):
    _sign_in(client, "wang")
    client.post("/api/v1/counter/drawer", json={"opening_float": "0.00"})
    payload = {"customer_id": "C1", "amount": "10.00", "tender": "cash", "channel_ref": "FORM-1"}
    assert client.post("/api/v1/counter/payments", json=payload).status_code == 201
    twice = client.post("/api/v1/counter/payments", json=payload)
    assert (twice.status_code, twice.json["code"]) == (409, "channel_ref_already_posted")


def test_only_cashiers_work_the_counter(client, hall):
    _sign_in(client, "li")
    response = client.post("/api/v1/counter/drawer", json={"opening_float": "0.00"})
    assert (response.status_code, response.json["code"]) == (403, "role_not_allowed")
    bad = client.post("/api/v1/counter/payments", json={"customer_id": "C1", "amount": "1", "tender": "cheque"})
    assert bad.status_code == 403  # roles are checked before the body


def test_each_cashier_numbers_their_own_receipts(client, hall):
    for name in ("wang", "zhao"):
        _sign_in(client, name)
        client.post("/api/v1/counter/drawer", json={"opening_float": "0.00"})
        answer = client.post("/api/v1/counter/payments", json={"customer_id": "C1", "amount": "5.00", "tender": "cash"})
        assert answer.json["receipt_no"] == f"C{name}-{today():%Y%m%d}-00001"
        client.post("/logout")


def test_the_counter_commands_open_and_close_a_drawer(recovery, hall, session):
    assert recovery("counter", "open", "li", "--float", "100.00").exit_code != 0  # not a cashier
    result = recovery("counter", "open", "zhao", "--float", "100.00")
    assert result.exit_code == 0, result.output
    counter.post_counter_payment(session, "zhao", customer_code="C1", amount_fen=5_000, tender="cash")
    session.commit()
    result = recovery("counter", "close", "zhao", "--counted", "150.00")
    assert result.exit_code == 0, result.output
    drawer = session.scalar(select(CashierDrawer).where(CashierDrawer.cashier == "zhao"))
    session.refresh(drawer)
    assert (drawer.status, drawer.counted_fen, drawer.payments_count) == ("closed", 15_000, 1)
    assert recovery("counter", "close", "zhao", "--counted", "150.00").exit_code != 0


def test_user_create_accepts_the_cashier_role(recovery):
    result = recovery("user", "create", "sun", "--role", "cashier", "--password", PASSWORD)
    assert result.exit_code == 0, result.output


def test_a_day_without_drawers_gives_an_empty_frame_with_the_columns(app, session):
    frame = counter.drawers_day(session, today())
    assert frame.empty and list(frame.columns) == counter.DRAWERS_DAY_COLUMNS
