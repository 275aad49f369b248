"""Customers and events imports."""

from __future__ import annotations

import json

from sqlalchemy import select

from recovery.customers.models import Customer, Grid
from tests.factories import CUSTOMER_COLUMNS, EVENT_COLUMNS, customer, load, write_csv

RESIDENT_ID = "11010519491231002X"  # a valid 18-character resident ID (check character X)
CREDIT_CODE = "91110000600037341L"  # a valid unified social credit code


def test_customers_import_creates_grids_and_keeps_identity_and_capital(recovery, tmp_path, session):
    load(recovery, tmp_path, customers=[
        customer("C1", grid="G-EAST", id_number=RESIDENT_ID, phone="13800138000"),
        customer("E1", grid="G-WEST", customer_class="industrial", id_number=CREDIT_CODE,
                 registered_capital="5000000.00", name="华东机械有限公司"),
    ])
    assert sorted(session.scalars(select(Grid.code))) == ["G-EAST", "G-WEST"]
    firm = session.scalar(select(Customer).where(Customer.code == "E1"))
    assert (firm.registered_capital_fen, firm.id_number, firm.grid.code) == (500_000_000, CREDIT_CODE, "G-WEST")


def test_identity_number_with_a_wrong_check_digit_is_refused(recovery, tmp_path):
    path = write_csv(tmp_path / "c.csv", CUSTOMER_COLUMNS, [
        customer("C1", id_number=RESIDENT_ID), customer("C2", id_number="110105194912310021"),
        customer("C3", id_number="91110000600037341M"),
    ])
    result = recovery("import", "customers", path)
    assert result.exit_code != 0
    assert f"{path}:3: id_number: not a valid resident ID or unified social credit code" in result.stderr
    assert f"{path}:4: id_number: not a valid resident ID or unified social credit code" in result.stderr
    assert json.loads(recovery("stats", "--json").stdout)["customers"] == 0


def test_unknown_customer_class_and_missing_name_are_reported(recovery, tmp_path):
    path = write_csv(tmp_path / "c.csv", CUSTOMER_COLUMNS,
                     [customer("C1", customer_class="shop"), customer("C2", name="")])
    result = recovery("import", "customers", path)
    assert "c.csv:2: customer_class: must be one of residential, commercial" in result.stderr
    assert "c.csv:3: name: required" in result.stderr


def test_customer_reimported_with_another_grid_is_a_conflict(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1", grid="G1")])
    path = write_csv(tmp_path / "moved.csv", CUSTOMER_COLUMNS, [customer("C1", grid="G2")])
    result = recovery("import", "customers", path)
    assert result.exit_code != 0
    assert f"{path}:2: customer_id: C1 already imported with different grid" in result.stderr


def test_events_reimport_is_a_noop_and_another_amount_is_a_conflict(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1")])
    rows = [{"customer_id": "C1", "kind": "theft", "occurred_on": "2026-03-01", "amount": "3000.00"},
            {"customer_id": "C1", "kind": "disconnection", "occurred_on": "2026-03-02", "amount": ""}]
    path = write_csv(tmp_path / "e.csv", EVENT_COLUMNS, rows)
    assert "2 new" in recovery("import", "events", path).stdout
    assert "0 new, 2 already present" in recovery("import", "events", path).stdout

    changed = write_csv(tmp_path / "e2.csv", EVENT_COLUMNS, [rows[0] | {"amount": "2999.00"}])
    result = recovery("import", "events", changed)
    assert result.exit_code != 0
    assert "e2.csv:2: occurred_on: C1 theft on 2026-03-01 already imported with different amount" in result.stderr
    assert json.loads(recovery("stats", "--json").stdout)["events"] == 2


def test_event_of_unknown_kind_is_refused(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1")])
    path = write_csv(tmp_path / "e.csv", EVENT_COLUMNS,
                     [{"customer_id": "C1", "kind": "flood", "occurred_on": "2026-03-01", "amount": ""}])
    result = recovery("import", "events", path)
    assert result.exit_code != 0
    assert "e.csv:2: kind: must be one of theft, violation, returned_payment" in result.stderr


def test_identity_check_accepts_credit_codes_that_also_look_like_resident_ids():
    from recovery.columns import valid_identity

    # A government body's credit code (registration authority 1, category 1): 18 digits, like an ID.
    assert valid_identity("113307820007052034")
    assert not valid_identity("113307820007052035")
    assert valid_identity(RESIDENT_ID) and valid_identity(CREDIT_CODE)
