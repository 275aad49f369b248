"""Every real statement file in shared/testdata parses whole: no entry lost, values as the file says."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from reconciliation.formats import parse, to_json
from tests.reconciliation.statement_data import shared_statements, statement_files

DATA = shared_statements()
pytestmark = pytest.mark.skipif(DATA is None, reason="shared statement test data not found beside the repo")


def _files() -> list[Path]:
    return statement_files(DATA)


def _format(path: Path) -> str:
    if path.parent.name == "mt940":
        return "mt940"
    return "camt054" if "camt054" in path.name else "camt053"


def _entries_in_raw_text(path: Path) -> int:
    """Counted independently of every parser: the tags that open an entry, as plain bytes."""
    raw = path.read_bytes()
    return raw.count(b":61:") if _format(path) == "mt940" else raw.count(b"<Ntry>")


FILES = _files()


def test_every_file_in_the_folder_is_in_the_manifest():
    manifest = (DATA / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()
    listed = {row.split("\t")[0] for row in manifest[1:] if row.strip()}
    assert listed == {str(p.relative_to(DATA)) for p in FILES}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_file_parses_with_no_entry_lost(path):
    statements = parse(path, _format(path))

    lines = [ln for st in statements for ln in st.lines]
    assert len(lines) == _entries_in_raw_text(path)
    for ln in lines:
        assert isinstance(ln.amount, int)
        assert isinstance(ln.value_on, dt.date)
        assert ln.currency and len(ln.currency) == 3


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_file_matches_the_manifest_counts(path):
    """MANIFEST.tsv says how many transactions each file holds (camt: entries and their TxDtls)."""
    rows = [r.split("\t") for r in (DATA / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()]
    wanted = {r[0]: r[-1] for r in rows[1:] if r and r[0]}[str(path.relative_to(DATA))]
    statements = parse(path, _format(path))
    lines = [ln for st in statements for ln in st.lines]
    if _format(path) == "mt940":
        assert len(lines) == int(wanted)
    else:
        counts = dict(part.split("=") for part in wanted.split(";"))
        assert len(lines) == int(counts["Ntry"])
        assert sum(len(ln.raw["transactions"]) for ln in lines) == int(counts["TxDtls"])


# Real files whose balances do not add up, pinned so that any other change shows. (file, statement index): gap
# in minor units (closing - opening - lines). Both are test fixtures with hand-anonymised amounts:
# - ABN AMRO: statement 1 closes at 876.84 but statement 2 opens at 2876.84 (a digit edited away); the
#   entries themselves add up to -321.44 and -24.49, and the :61: count is complete.
# - Raiffeisen HU: 25170637.10 + 2066637.00 - 3078850.50 = 24158423.60, not the 25281687.60 written;
#   the :86: texts are anonymised too ("HUNGARY KFT.", "SPYMARKET S.R.O.").
KNOWN_GAPS = {
    ("wolph_jejik_abnamro.sta", 0): -203800,
    ("wolph_jejik_abnamro.sta", 1): -100260,
    ("wolph_raiffeisen_cmi_huf.sta", 0): 112326400,
}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_opening_plus_lines_is_closing(path):
    for i, st in enumerate(parse(path, _format(path))):
        if st.opening_balance is None or st.closing_balance is None:
            continue
        assert st.closing_balance - st.opening_balance - sum(ln.amount for ln in st.lines) == st.balance_gap
        assert st.balance_gap == KNOWN_GAPS.get((path.name, i), 0), f"statement {i}"


def test_known_gaps_are_still_real():
    for name, i in KNOWN_GAPS:
        st = parse(DATA / "mt940" / name, "mt940")[i]
        assert st.balance_gap != 0


# Values read by eye from the files. (statements, opening, closing, account, currency) of the first
# statement; (booked_on, value_on, amount, reference) of its first line.
PINNED = {
    "jejik_volksbankenraiffeisenbanken.txt": (
        8, 308500, 323000, "66642399/93387", "EUR", ("2020-02-19", "2020-02-19", 6500, None)),
    "phpmt940_penta_sample.sta": (
        1, 2041966, 984336, "11010100/2324817618", "EUR", ("2020-09-02", "2020-09-02", -2000, None)),
    "wolph_asnb_mt940.txt": (
        31, 44429, 37929, "NL81ASNB9999999999", "EUR", ("2020-01-01", "2020-01-01", -6500, None)),
    "wolph_betterplace_sepa_mt9401.sta": (
        26, -123471836, -123762823, "50880050/0194774600888", "EUR",
        ("2007-09-04", "2007-09-04", 30000, "TFNr 40005 MSGID")),
    "wolph_cmxl_mt940.sta": (
        3, 8434974, 8443704, "45050050/76198810", "DEM", ("2013-10-17", "2013-10-17", -680000, "16703074")),
    "wolph_jejik_abnamro.sta": (
        2, 323628, 87684, "517852257", "EUR", ("2011-05-24", "2011-05-24", -900, None)),
    "wolph_mbank_mt942.sta": (
        1, None, None, "PL29114010810000267002001002", "PLN", ("2017-01-19", "2017-01-19", 1, "MB170119012058")),
    "wolph_raiffeisen_cmi_huf.sta": (
        1, 2517063710, 2528168760, "UBRTHUHB/123456789150ABCDEF002/HUF", "HUF",
        ("2018-04-17", "2018-04-17", 206663700, None)),
    "genkgo_camt053.v2.multi.statement.xml": (
        2, 1815, 2700, "NL26VAYB8060476890", "EUR", ("2014-12-31", "2015-01-02", 885, "000000001")),
    # Its CLBD is written in SEK (and DBIT) in an EUR statement: left out, with a note.
    "genkgo_camt053.v8.xml": (
        1, 1815, None, "NL26VAYB8060476890", "EUR", ("2014-12-31", "2015-01-02", 885, "MUELL/FINP/RA12345")),
    "genkgo_camt054.v2.xml": (
        1, None, None, "CH2801234000123456789", "SEK", ("2007-10-18", "2007-10-18", -20000000, "AAAASESS-FP-ACCR001")),
    "genkgo_camt054.v8.xml": (
        1, None, None, "CH2801234000123456789", "SEK",
        ("2007-10-18", "2007-10-18", -20000000, "UXC06170000006PI00001")),
}


def test_every_file_has_pinned_values():
    assert {p.name for p in FILES} == set(PINNED)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_pinned_values(path):
    n, opening, closing, account, currency, (booked, value, amount, reference) = PINNED[path.name]
    statements = parse(path, _format(path))
    first = statements[0]
    line = first.lines[0]
    assert len(statements) == n
    assert (first.opening_balance, first.closing_balance) == (opening, closing)
    assert (first.account, first.currency) == (account, currency)
    assert (line.booked_on, line.value_on) == (dt.date.fromisoformat(booked), dt.date.fromisoformat(value))
    assert line.amount == amount
    assert line.reference == reference


def test_mt940_reversal_of_a_credit_is_a_debit():
    """betterplace writes `RCR204,88`: RC (reversal of credit), funds code R; the balances prove the sign."""
    st = parse(DATA / "mt940" / "wolph_betterplace_sepa_mt9401.sta", "mt940")[0]
    assert [ln.amount for ln in st.lines] == [30000, 33533, 1500000, 6629508, 91531155, -20488, -99994695]
    assert st.balance_gap == 0


def test_mt940_structured_details_give_counterparty_and_purpose():
    st = parse(DATA / "mt940" / "jejik_volksbankenraiffeisenbanken.txt", "mt940")[0]
    assert st.lines[0].counterparty == "Olivia Dorn"
    assert st.lines[0].description.startswith("einfach so fuer euch")
    assert st.lines[1].counterparty == "friedbert und ronja engel"


def test_mt942_has_no_balances_and_its_sums_agree():
    (st,) = parse(DATA / "mt940" / "wolph_mbank_mt942.sta", "mt940")
    assert st.message_type == "MT942"
    assert st.opening_balance is None and st.closing_balance is None and st.balance_gap is None
    assert [ln.amount for ln in st.lines] == [1, 1, 1]  # :90C:3PLN0,03
    assert [ln.reference for ln in st.lines] == ["MB170119012058", "MB170119012085", "MB170119012121"]


def test_asn_bank_dialect_is_chosen_from_the_sender_bic():
    statements = parse(DATA / "mt940" / "wolph_asnb_mt940.txt", "mt940")
    first = statements[0].lines[0]
    assert first.counterparty == "hr gjlm paulissen"
    assert first.reference is None  # the IBAN in the customer-reference field is not a reference
    assert [len(st.lines) for st in statements if st.lines] == [1, 2, 1, 2, 2]  # 26 of 31 days are empty


def test_cp852_text_is_decoded():
    (st,) = parse(DATA / "mt940" / "wolph_raiffeisen_cmi_huf.sta", "mt940")
    assert st.lines[0].raw["extra_details"] == "Csoportos átutalás jóváírása"
    assert [ln.amount for ln in st.lines][:3] == [206663700, -1479000, -305180000]


def test_camt053_second_statement_is_a_debit_with_its_creditor():
    statements = parse(DATA / "camt" / "genkgo_camt053.v2.multi.statement.xml", "camt053")
    second = statements[1]
    assert (second.statement_id, second.opening_balance, second.closing_balance) == (
        "254EURNL26VAYB8060476890", 2700, 2000)
    (line,) = second.lines
    assert (line.amount, line.reference, line.counterparty, line.description) == (
        -700, "000000002", "Company Name 2", "Transaction Description 2")
    assert line.status == "BOOK"


def test_camt053_v8_notes_the_balance_in_another_currency():
    (st,) = parse(DATA / "camt" / "genkgo_camt053.v8.xml", "camt053")
    assert st.message_type == "camt.053.001.08"
    assert st.notes == ("closing balance -27.00 SEK is not in the statement currency EUR; left out",)
    assert st.lines[0].counterparty == "NAME NAME"
    assert st.lines[0].raw["bank_transaction_code"] == "PMNT/RCDT/BOOK"
    assert st.lines[0].raw["account_servicer_reference"] == "AAAASESS-FP-CN_98765/01"


def test_camt054_batch_is_one_line_listing_its_transactions():
    (st,) = parse(DATA / "camt" / "genkgo_camt054.v8.xml", "camt054")
    (line,) = st.lines
    assert line.raw["transaction_count"] == 2  # the bank's <NbOfTxs> ...
    txs = line.raw["transactions"]
    assert [t["amount"] for t in txs] == [310, 320, 320]  # ... though it lists three <TxDtls>
    assert [t["currency"] for t in txs] == ["CHF"] * 3
    assert txs[0]["end_to_end_id"] == "UXC06170000006PI00001EE00001"
    assert txs[0]["creditor"] == "Example Creditor 3 - V1"
    assert st.notes == ("notification 1 (AAAASESS-FP-ACCR001): entry 1: the batch declares 2 transactions but lists 3",)


def test_camt054_v2_without_batch_counts_its_transactions():
    (st,) = parse(DATA / "camt" / "genkgo_camt054.v2.xml", "camt054")
    (line,) = st.lines
    assert line.raw["transaction_count"] == 3
    assert [t["remittance"] for t in line.raw["transactions"]] == [
        "Unstructured Remittance Information V1", None,
        "Unstructured Remittance Information V3 block 1 Unstructured Remittance Information V3 block 2"]
    assert line.raw["transactions"][1]["creditor_reference"] == "ISR ref number V2"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_json_of_every_file_is_plain_json(path):
    doc = to_json(parse(path, _format(path)), include_raw=True)
    assert json.loads(json.dumps(doc)) == doc
