"""Bills imports: atomic, every bad row named by line, re-imports no-ops, conflicts refused."""

from __future__ import annotations

import json

import pytest

from tests.factories import BILL_COLUMNS, bill, customer, load, write_csv


def _stats(recovery) -> dict:
    result = recovery("stats", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _ten_thousand_bills(bad_line: int | None = None) -> list[dict]:
    rows = []
    for i in range(10_000):
        # Line 1 is the header, so row i stands on line i + 2.
        amount = "12.345" if bad_line == i + 2 else f"{100 + i % 900}.{i % 100:02d}"
        rows.append(bill(f"B{i:05d}", customer_id=f"C{i % 50}", amount=amount, period="2026-01"))
    return rows


@pytest.fixture
def fifty_customers(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer(f"C{i}", grid=f"G{i % 3}") for i in range(50)])


def test_bills_file_with_one_bad_amount_is_refused_whole_naming_line_7777(recovery, tmp_path, fifty_customers):
    path = write_csv(tmp_path / "bills.csv", BILL_COLUMNS, _ten_thousand_bills(bad_line=7777))

    result = recovery("import", "bills", path)

    assert result.exit_code != 0
    assert f"{path}:7777: amount: not a non-negative yuan amount with at most two decimals: '12.345'" in result.stderr
    assert result.stderr.count(f"{path}:") == 1
    assert _stats(recovery)["bills"] == 0


def test_corrected_bills_file_imports_and_importing_it_again_changes_nothing(recovery, tmp_path, fifty_customers):
    path = write_csv(tmp_path / "bills.csv", BILL_COLUMNS, _ten_thousand_bills())

    first = recovery("import", "bills", path)
    assert first.exit_code == 0, first.output
    assert "10000 new" in first.stdout
    after_first = _stats(recovery)

    again = recovery("import", "bills", path)
    assert again.exit_code == 0, again.output
    assert "0 new, 10000 already present" in again.stdout
    assert _stats(recovery) == after_first
    assert after_first["bills"] == 10_000
    expected = sum(100 + i % 900 for i in range(10_000)) * 100 + sum(i % 100 for i in range(10_000))
    assert after_first["outstanding"] == f"{expected // 100}.{expected % 100:02d}"


def test_same_bill_id_with_other_content_is_an_error_naming_the_column(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1")], bills=[bill("B1", amount="100.00")])
    path = write_csv(tmp_path / "changed.csv", BILL_COLUMNS, [bill("B2"), bill("B1", amount="101.00")])

    result = recovery("import", "bills", path)

    assert result.exit_code != 0
    assert f"{path}:3: bill_id: B1 already imported with different amount" in result.stderr
    assert _stats(recovery)["bills"] == 1  # B2 was not stored either


def test_bill_for_an_unknown_customer_is_refused(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1")])
    path = write_csv(tmp_path / "bills.csv", BILL_COLUMNS, [bill("B1"), bill("B2", customer_id="NOPE")])

    result = recovery("import", "bills", path)

    assert result.exit_code != 0
    assert f"{path}:3: customer_id: unknown customer NOPE" in result.stderr
    assert _stats(recovery)["bills"] == 0


def test_every_bad_row_is_reported_not_just_the_first(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1")])
    rows = [bill("B1", amount="-5.00"), bill("B2", period="2026-13"), bill("B3", due_on="2026-01-01"),
            bill("B4", kwh="abc"), bill("B5", issued_on="03/02/2026"),
            bill("B6", issued_on="1700-02-03", due_on="1700-02-20"),
            bill("B7", issued_on="2026-02-03", due_on="2250-01-01")]
    path = write_csv(tmp_path / "bills.csv", BILL_COLUMNS, rows)

    result = recovery("import", "bills", path)

    lines = [line.removeprefix(f"{path}:") for line in result.stderr.splitlines() if line.startswith(str(path))]
    assert lines == [
        "2: amount: not a non-negative yuan amount with at most two decimals: '-5.00'",
        "3: period: not a period (YYYY-MM): '2026-13'",
        "4: due_on: falls before issued_on",
        "5: kwh: not a number ≥ 0: 'abc'",
        "6: issued_on: not a date (YYYY-MM-DD): '03/02/2026'",
        "7: due_on: outside 1900-01-01 to 2199-12-31: '1700-02-20'",
        "7: issued_on: outside 1900-01-01 to 2199-12-31: '1700-02-03'",
        "8: due_on: outside 1900-01-01 to 2199-12-31: '2250-01-01'",
    ]
    assert result.exit_code != 0


def test_duplicate_bill_in_one_file_with_other_content_is_refused_identical_is_kept_once(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1")])
    same = write_csv(tmp_path / "same.csv", BILL_COLUMNS, [bill("B1"), bill("B1")])
    assert recovery("import", "bills", same).exit_code == 0
    assert _stats(recovery)["bills"] == 1

    differing = write_csv(tmp_path / "diff.csv", BILL_COLUMNS, [bill("B2"), bill("B2", amount="1.00")])
    result = recovery("import", "bills", differing)
    assert result.exit_code != 0
    assert f"{differing}:3: bill_id: same key as line 2 with different content" in result.stderr


def test_columns_in_any_order_with_bom_and_extra_columns(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1")])
    path = tmp_path / "bills.csv"
    path.write_text("\ufeffdue_on,amount,note,bill_id,customer_id,period,kwh,issued_on\r\n"
                    "2026-02-20,88.80,ignored,B1,C1,2026-01,120.5,2026-02-03\r\n", encoding="utf-8")

    result = recovery("import", "bills", path)

    assert result.exit_code == 0, result.output
    assert _stats(recovery)["outstanding"] == "88.80"


def test_missing_column_and_non_utf8_file_are_clear_errors(recovery, tmp_path):
    missing = tmp_path / "missing.csv"
    missing.write_text("bill_id,customer_id,period,kwh,issued_on,due_on\n", encoding="utf-8")
    result = recovery("import", "bills", missing)
    assert result.exit_code != 0
    assert f"{missing}:1: amount: missing column" in result.stderr

    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("bill_id,customer_id,period,kwh,amount,issued_on,due_on\nB1,客户,2026-01,1,1.00,2026-02-03,2026-02-20\n"
                    .encode("gbk"))
    result = recovery("import", "bills", gbk)
    assert result.exit_code != 0
    assert f"{gbk}:2: file: not UTF-8 text" in result.stderr


def test_a_vacant_month_bills_zero(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1")], bills=[bill("B1", amount="0", kwh="0")])
    assert _stats(recovery)["bills"] == 1
    assert _stats(recovery)["outstanding"] == "0.00"
