"""The public statement fixtures kept in the repository (tests/data/statements, sources and licences in its
MANIFEST.tsv) are each read whole or refused with the reason; the project's MT940 reader agrees with the
library on every MT940 file the library reads."""

from __future__ import annotations

import logging
import re

import pytest

from reconciliation.formats import StatementError, parse
from reconciliation.formats.mt940 import SENDER_DIALECTS, own_statements
from tests.reconciliation.statement_data import REPO, fmt_of, shared_statements, statement_files

MANIFEST = {row.split("\t")[0]: dict(zip(
    ["file", "format", "repository", "path", "commit", "licence", "entries", "expect"], row.split("\t"), strict=True))
    for row in (REPO / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:] if row.strip()}
FILES = statement_files(REPO)
ENTRY_TAG = {"mt940": b":61:", "camt053": b"<Ntry>", "camt054": b"<Ntry>"}


@pytest.fixture(autouse=True)
def _quiet_library():
    logging.getLogger("mt940").setLevel(logging.CRITICAL)


def test_every_fixture_is_in_the_manifest_with_a_permissive_licence():
    assert set(MANIFEST) == {str(p.relative_to(REPO)) for p in FILES}
    assert all(row["licence"].split(" ")[0] in {"MIT", "BSD-3-Clause", "Apache-2.0"} for row in MANIFEST.values())


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_fixture_is_read_whole_or_refused_as_the_manifest_says(path):
    row = MANIFEST[str(path.relative_to(REPO))]
    raw = path.read_bytes().count(ENTRY_TAG[fmt_of(path)])
    assert raw == int(row["entries"])
    if row["expect"] == "refused":
        # Either the readers differ (each reason given) or both find the same fault in the file.
        with pytest.raises(StatementError) as refused:
            parse(path, fmt_of(path))
        assert str(refused.value).startswith(f"{path}: ")
        assert re.search(r"no MT940 reader takes this file whole: the library: .+; the project's reader: .+"
                         r"|refusing a partial result|no currency", str(refused.value))
        return
    statements = parse(path, fmt_of(path))
    assert sum(len(st.lines) for st in statements) == raw
    by_project = [n for st in statements for n in st.notes if n.startswith("read by the project's MT940 reader")]
    assert bool(by_project) == (row["expect"] == "read_by_project")


def _library_read_mt940() -> list:
    out = []
    for folder in (REPO, shared_statements()):
        for p in statement_files(folder):
            if fmt_of(p) == "mt940" and (folder != REPO or MANIFEST[str(p.relative_to(REPO))]["expect"] == "read"):
                out.append(p)
    return out


# Files whose :86: is mistyped as a second :25:: the library takes the last :25: as the account, the
# project's reader the first; everything else agrees.
SECOND_ACCOUNT_TAG = {"mt940rs_mt940_full_betterplace_sepa_snippet_broken.sta", "myflow_sepa_snippet_broken.sta"}


@pytest.mark.parametrize("path", _library_read_mt940(), ids=lambda p: p.name)
def test_the_projects_mt940_reader_agrees_with_the_library(path):
    """Statements, balances, and every entry's dates, signed amount, currency and :61: references."""
    library = parse(path, "mt940")
    data = path.read_bytes()
    dialect = next((d for bic, d in SENDER_DIALECTS.items() if f"{{1:F01{bic}".encode() in data), None)
    own = own_statements(data, dialect=dialect)

    def head(st):
        account = "(second :25:)" if path.name in SECOND_ACCOUNT_TAG else st.account
        return (account, st.currency, st.opening_balance, st.closing_balance, st.statement_id, st.number,
                st.message_type, len(st.lines))

    def one_line(value):
        # The :61: reference is one line; the library runs a few into the supplementary details below it.
        return (str(value or "")).split("\n")[0].strip()

    def entries(st):
        # ASN Bank writes an IBAN (longer than the 16 characters a reference has) where the customer
        # reference goes; neither reader uses it as one.
        return [(ln.booked_on, ln.value_on, ln.amount, ln.currency,
                 None if dialect == "asnb" else one_line(ln.raw.get("customer_reference")),
                 one_line(ln.raw.get("bank_reference"))) for ln in st.lines]

    assert [head(st) for st in own] == [head(st) for st in library]
    assert [entries(st) for st in own] == [entries(st) for st in library]


def test_two_exports_joined_after_a_dos_end_of_file_mark_are_two_statements():
    """The library runs the second export into the first (its account, the first's reference); the raw count
    sees the :20: after \\x1a, so the project's reader takes the file: four statements, each its own."""
    statements = parse(REPO / "mt940" / "zilverline_two_accounts.txt", "mt940")
    assert [(st.statement_id, st.account, len(st.lines)) for st in statements] == [
        ("940A120918", "1567.50.961EUR", 2), ("940A121024", "9914.30.727EUR", 0),
        ("940A121101", "3462.483.153 EUR", 0), ("940A121029", "1325.76.155EUR", 1)]
    assert "the file has 4 statements with 3 :61: entries, but the MT940 parser returned 3" in statements[0].notes[0]


def test_an_old_rabobank_file_the_library_misreads_is_read_whole_by_the_project():
    """No type code on two :61: and '.' decimals: the library loses an entry; the project reads all 39."""
    statements = parse(REPO / "mt940" / "phpmt940_Rabo_sample.sta", "mt940")
    assert sum(len(st.lines) for st in statements) == 39
    fifth = statements[4]
    assert [(ln.amount, ln.reference, ln.description) for ln in fifth.lines] == [
        (30000, "170059286", "Demo gebruiker\nSpaarpot kantine"), (30000, None, "Contante storting Overige")]
    # The fixture's own figures: 20000.00 + 300.00 + 300.00 against a closing 20500.00 (an anonymised file).
    assert (fifth.opening_balance, fifth.closing_balance, fifth.balance_gap) == (2000000, 2050000, -10000)
    assert fifth.notes == ("read by the project's MT940 reader, not the library: amounts are written with '.' as "
                           "the decimal separator, which the library reads as whole units",)


def test_under_ci_missing_shared_statements_fail_the_run_instead_of_skipping(monkeypatch, tmp_path):
    from tests.reconciliation import statement_data

    monkeypatch.setattr(statement_data, "SHARED", tmp_path / "absent")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="the shared statement files are missing"):
        statement_data.shared_statements()
    monkeypatch.setenv("CI", "false")
    assert statement_data.shared_statements() is None
