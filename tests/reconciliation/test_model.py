"""The statement-line shape, its JSON (the contract's "Parsed statement JSON") and its frame."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from reconciliation.formats import FORMATS, Statement, StatementError, StatementLine, parse, to_frame, to_json
from reconciliation.formats.money import format_minor, to_minor

CONTRACT_STATEMENT_KEYS = {"account", "currency", "opening_balance", "closing_balance", "lines"}
CONTRACT_LINE_KEYS = {"booked_on", "value_on", "amount", "currency", "reference", "counterparty", "description"}


def _statement() -> Statement:
    return Statement(
        account="NL12ABNA0123456789", currency="EUR", opening_balance=100000, closing_balance=125000,
        statement_id="S1",
        lines=(
            StatementLine(dt.date(2026, 11, 22), dt.date(2026, 11, 22), 25050, "EUR", "R-1", "Li Si", "bill 11"),
            StatementLine(dt.date(2026, 11, 22), None, -50, "EUR", None, None, None),
        ),
    )


def test_to_json_has_the_contract_shape():
    doc = to_json([_statement()])
    (st,) = doc["statements"]
    assert set(st) >= CONTRACT_STATEMENT_KEYS
    assert (st["account"], st["currency"], st["opening_balance"], st["closing_balance"]) == (
        "NL12ABNA0123456789", "EUR", "1000.00", "1250.00")
    first, second = st["lines"]
    assert set(first) >= CONTRACT_LINE_KEYS
    assert {k: first[k] for k in CONTRACT_LINE_KEYS} == {
        "booked_on": "2026-11-22", "value_on": "2026-11-22", "amount": "250.50", "currency": "EUR",
        "reference": "R-1", "counterparty": "Li Si", "description": "bill 11"}
    assert (second["amount"], second["value_on"], second["reference"]) == ("-0.50", None, None)
    assert "raw" not in first
    assert json.loads(json.dumps(doc)) == doc


def test_missing_balances_are_null():
    st = dataclasses.replace(_statement(), opening_balance=None, closing_balance=None)
    out = to_json([st])["statements"][0]
    assert out["opening_balance"] is None and out["closing_balance"] is None


def test_csv_lines_carry_customer_fee_and_time_in_json():
    (st,) = parse(b"channel_ref,customer_id,amount,paid_at,fee\nR1,C1,120.5,2026-11-22T09:15:00+08:00,0.6\n", "csv")
    line = to_json([st])["statements"][0]["lines"][0]
    assert (line["amount"], line["fee"], line["customer_id"], line["paid_at"]) == (
        "120.50", "0.60", "C1", "2026-11-22T09:15:00+08:00")


def test_balance_gap():
    st = _statement()
    assert st.balance_gap == 125000 - 100000 - 25000
    assert dataclasses.replace(st, closing_balance=None).balance_gap is None


def test_lines_are_immutable_and_hashable():
    line = StatementLine(None, None, 1, "CNY", None, None, None, raw={"x": [1]})
    with pytest.raises(dataclasses.FrozenInstanceError):
        line.amount = 2
    assert hash(line) == hash(dataclasses.replace(line, raw={"other": 1}))


@pytest.mark.parametrize("minor, currency, text", [
    (123450, "CNY", "1234.50"), (-5, "EUR", "-0.05"), (0, "USD", "0.00"), (2700, "JPY", "2700.00"),
    (1234, "KWD", "1.234"), (2517063710, "HUF", "25170637.10"),
])
def test_format_minor(minor, currency, text):
    assert format_minor(minor, currency) == text


def test_to_minor_is_exact():
    assert to_minor(Decimal("8.850"), "EUR") == 885
    assert to_minor(Decimal("-1234.5"), "CNY") == -123450
    assert to_minor(Decimal("2700"), "JPY") == 2700
    with pytest.raises(ValueError, match="more decimals than EUR allows"):
        to_minor(Decimal("8.855"), "EUR")
    with pytest.raises(ValueError, match="more decimals than JPY allows"):
        to_minor(Decimal("1.5"), "JPY")


def test_to_frame_has_one_row_per_line_with_statement_ids_repeated():
    other = dataclasses.replace(_statement(), statement_id="S2", lines=_statement().lines[:1])
    frame = to_frame([_statement(), other])
    assert list(frame["statement_id"]) == ["S1", "S1", "S2"]
    assert list(frame["statement_index"]) == [0, 0, 1]
    assert list(frame["line_index"]) == [0, 1, 0]
    assert frame["amount"].dtype == "Int64" and list(frame["amount"]) == [25050, -50, 25050]
    assert frame["value_on"].isna().tolist() == [False, True, False]
    assert frame["booked_on"].iloc[0] == pd.Timestamp("2026-11-22")
    assert list(frame["transaction_count"]) == [1, 1, 1]


def test_to_frame_of_nothing_has_the_columns():
    frame = to_frame([])
    assert len(frame) == 0 and "amount" in frame and frame["amount"].dtype == "Int64"


def test_to_frame_keeps_paid_at_in_utc():
    (st,) = parse(b"channel_ref,customer_id,amount,paid_at\nR1,C1,1,2026-11-22T09:15:00+08:00\n", "csv")
    assert to_frame([st])["paid_at"].iloc[0] == pd.Timestamp("2026-11-22T01:15:00Z")


def test_unknown_format_is_an_error():
    assert FORMATS == ("csv", "mt940", "camt053", "camt054", "pain002")
    with pytest.raises(StatementError, match="unknown statement format 'bai2'"):
        parse(b"x", "bai2")


def test_the_engine_stays_pure():
    """reconciliation/ imports no web framework, database or service code."""
    forbidden = {"flask", "sqlalchemy", "psycopg", "psycopg2", "recovery", "flask_sqlalchemy"}
    root = Path(__file__).resolve().parents[2] / "reconciliation"
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"
