"""Hostile import and statement files: wrong encodings, NUL bytes, huge lines, impossible amounts, path
tricks in uploaded file names. Each gets a clear error and nothing is stored; formulas in cells come
back neutralised in the CSV outputs."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from recovery.auth.service import create_user
from recovery.csvexport import csv_rows, safe_cell
from recovery.extensions import db
from tests.factories import PAYMENT_COLUMNS, bill, customer, load, payment, write_csv
from tests.web.data import PASSWORD, cheap_password_hashing

HEADER = ",".join(PAYMENT_COLUMNS)
ROW = ",C1,bank,ICBC,R-1,12.00,2026-03-10T09:15:00+08:00"


def _rows() -> dict[str, int]:
    db.session.rollback()
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


@pytest.fixture
def one_customer(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1")], bills=[bill("B1", "C1", "100.00")])


HOSTILE_FILES = {
    "gbk": (f"{HEADER}\n,C1,bank,工商银行,R-1,12.00,2026-03-10T09:15:00+08:00\n".encode("gbk"), "not UTF-8"),
    "utf16": (f"{HEADER}\n{ROW}\n".encode("utf-16"), "not UTF-8"),
    "nul": (f"{HEADER}\n{ROW}\x00\n".encode(), "NUL byte"),
    "huge_line": (f"{HEADER}\n,C1,bank,ICBC,{'R' * 200_000},12.00,2026-03-10T09:15:00+08:00\n".encode(),
                  "field larger"),
    "binary": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "not UTF-8"),
    "empty": (b"", "empty"),
    "bom_only": (b"\xef\xbb\xbf", "empty"),
    "quote": (f'{HEADER}\n,C1,bank,ICBC,"R-1,12.00,2026-03-10T09:15:00+08:00\n'.encode(), ":2: row:"),
    "columns": (f"{HEADER}\n,C1,bank\n".encode(), "expected 7 fields"),
}
AMOUNTS = ["1e400", "-0.001", "12345678901234567890.00", "0.005", "-12.00", "0", "１２.００", "12,00", "NaN", " "]


@pytest.mark.parametrize("kind", sorted(HOSTILE_FILES))
def test_a_hostile_payments_file_is_rejected_with_its_line_and_nothing_is_stored(recovery, tmp_path, one_customer,
                                                                                   kind):
    data, reason = HOSTILE_FILES[kind]
    path = tmp_path / f"{kind}.csv"
    path.write_bytes(data)
    before = _rows()
    result = recovery("import", "payments", path)
    assert result.exit_code != 0
    assert reason in result.output and "error: import rejected" in result.output, result.output
    assert _rows() == before


def test_a_bom_and_crlf_file_is_taken(recovery, tmp_path, one_customer):
    path = tmp_path / "bom.csv"
    path.write_bytes(f"\ufeff{HEADER}\r\n{ROW}\r\n".encode())
    result = recovery("import", "payments", path)
    assert result.exit_code == 0, result.output


def test_impossible_amounts_and_control_characters_in_imports_are_each_reported_and_nothing_stored(
        recovery, tmp_path, one_customer):
    rows = [payment(f"R-{i}", "C1", amount) for i, amount in enumerate(AMOUNTS)]
    rows += [payment("R-\x1b[2J", "C1", "1.00"), payment("R-long", "C1" + "1" * 500, "1.00")]
    path = write_csv(tmp_path / "amounts.csv", PAYMENT_COLUMNS, rows)
    before = _rows()
    result = recovery("import", "payments", path)
    assert result.exit_code != 0
    for line in range(2, 2 + len(AMOUNTS)):
        assert f"{path}:{line}: amount:" in result.output, result.output
    assert f"{path}:{2 + len(AMOUNTS)}: channel_ref:" in result.output
    assert f"{path}:{3 + len(AMOUNTS)}: customer_id:" in result.output
    assert _rows() == before
    names = write_csv(tmp_path / "names.csv", ["customer_id", "name", "customer_class", "grid", "opened_on"],
                      [customer("C7", name="王\x1b[2J五"), customer("C8", name="x" * 5000)])
    result = recovery("import", "customers", names)
    assert result.exit_code != 0, result.output
    assert ":2: name: contains control characters" in result.output and ":3: name: longer than" in result.output
    assert _rows() == before


def test_statement_files_with_path_tricks_or_bad_bytes_are_refused_and_change_nothing(recovery, tmp_path,
                                                                                     one_customer):
    before = _rows()
    for name in ["../../../etc/passwd", "/etc/shadow", str(tmp_path / "missing.csv"), str(tmp_path)]:
        result = recovery("reconcile", "run", "--date", "2026-03-10", "--statement", name, "--format", "csv",
                          "--channel", "bank", "--account", "ICBC")
        # The operator names the file; whatever it is, it is read as a statement or refused, never half taken.
        assert result.exit_code != 0 and "error" in result.output.lower(), (name, result.output)
    for kind in ("gbk", "utf16", "nul", "binary"):
        path = tmp_path / f"statement-{kind}.csv"
        path.write_bytes(HOSTILE_FILES[kind][0].replace(HEADER.encode("utf-16" if kind == "utf16" else "utf-8"),
                                                        b""))
        result = recovery("reconcile", "run", "--date", "2026-03-10", "--statement", path, "--format", "csv",
                          "--channel", "bank", "--account", "ICBC")
        assert result.exit_code != 0 and "error:" in result.output, (kind, result.output)
    assert _rows() == before


def test_uploaded_result_files_with_path_tricks_in_their_names_are_kept_inside_and_change_nothing(
        app, client, monkeypatch, one_customer, tmp_path):
    cheap_password_hashing(monkeypatch)
    create_user(db.session, "qian", role="clerk", password=PASSWORD)
    db.session.commit()
    assert client.post("/login", data={"username": "qian", "password": PASSWORD}).status_code == 302
    before = _rows()
    outside = tmp_path.parent / "planted.csv"
    for name in ["../planted.csv", str(outside), "..", ".", "a\x00b.csv", "x/../../planted.csv", "\\..\\p.csv"]:
        answer = client.post("/direct-debit/results", data={
            "format": "csv", "file": (io.BytesIO(b"reference,status\nNOPE,succeeded\n"), name)})
        assert answer.status_code in (302, 400, 422), (name, answer.status_code, answer.get_data(as_text=True)[:200])
        assert not outside.exists()
    assert _rows() == before


def test_formulas_in_cells_are_neutralised_in_csv_outputs(recovery, tmp_path, client, monkeypatch):
    for dangerous in ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"]:
        assert safe_cell(dangerous).startswith("'")
    assert safe_cell("-12.50") == "'-12.50"  # a negative amount reads as text; the spreadsheet is not asked
    assert safe_cell(None) == "" and safe_cell("王") == "王" and safe_cell(0) == "0"
    text = "".join(csv_rows([["=1+1", "ok"]], ["=head", "b"]))
    assert list(csv.reader(io.StringIO(text.removeprefix("\ufeff")))) == [["'=head", "b"], ["'=1+1", "ok"]]
    # A customer named like a formula (the import lets "=" through: it is text) comes back neutralised in
    # the customer list download, and the contract CSVs carry only codes and amounts.
    load(recovery, tmp_path, customers=[customer("C1", name="=cmd|' /C calc'!A0")])
    out = tmp_path / "ageing.csv"
    assert recovery("report", "ageing", "--as-of", "2026-03-10", "--out", out).exit_code == 0
    assert not any(cell.startswith(("=", "+", "@")) for row in csv.reader(out.open()) for cell in row)
    cheap_password_hashing(monkeypatch)
    create_user(db.session, "root", role="admin", password=PASSWORD)
    db.session.commit()
    assert client.post("/login", data={"username": "root", "password": PASSWORD}).status_code == 302
    download = client.get("/customers.csv")
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).removeprefix("\ufeff"))))
    assert rows[1][rows[0].index("name")] == "'=cmd|' /C calc'!A0"
