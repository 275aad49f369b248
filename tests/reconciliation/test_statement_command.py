"""`recovery statement show` prints the contract's parsed-statement JSON, or refuses in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from recovery.cli import cli
from tests.reconciliation.statement_data import shared_statements

STATEMENTS = shared_statements() or Path("shared-statements-missing")
pytestmark = pytest.mark.skipif(not STATEMENTS.is_dir(), reason="shared/testdata/statements is not beside the repo")


def test_show_mt940_as_contract_json():
    result = CliRunner().invoke(cli, ["statement", "show", str(STATEMENTS / "mt940" / "wolph_cmxl_mt940.sta"),
                                      "--format", "mt940", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    statement = document["statements"][0]
    assert {"account", "currency", "opening_balance", "closing_balance", "lines"} <= set(statement)
    line = statement["lines"][0]
    assert {"booked_on", "value_on", "amount", "currency", "reference", "counterparty", "description"} <= set(line)
    assert sum(len(s["lines"]) for s in document["statements"]) == 16


def test_show_refuses_a_truncated_camt_file_in_one_line(tmp_path):
    whole = (STATEMENTS / "camt" / "genkgo_camt053.v8.xml").read_bytes()
    truncated = tmp_path / "cut.xml"
    truncated.write_bytes(whole[: len(whole) // 2])
    result = CliRunner().invoke(cli, ["statement", "show", str(truncated), "--format", "camt053", "--json"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
