"""MT940/MT942: the guard against silently dropped entries, and clear errors for bad files."""

from __future__ import annotations

import mt940 as mt940_lib
import pytest

from reconciliation.formats import StatementError, parse


def _statement(*entries: str, opening: str = "C200101EUR100,00", closing: str = "C200102EUR95,00") -> bytes:
    body = "\n".join(entries)
    return (f":20:STMT1\n:25:NL91ABNA0417164300\n:28C:1/1\n:60F:{opening}\n{body}\n:62F:{closing}\n-\n").encode()


def test_a_good_statement_parses():
    data = _statement(":61:200101D10,00NTRFREF1\n:86:first", ":61:200102C5,00NTRFREF2\n:86:second")
    (st,) = parse(data, "mt940", name="day.sta")
    assert [(ln.amount, ln.reference, ln.description) for ln in st.lines] == [
        (-1000, "REF1", "first"), (500, "REF2", "second")]
    assert (st.opening_balance, st.closing_balance, st.balance_gap) == (10000, 9500, 0)
    assert (st.account, st.statement_id, st.number, st.message_type) == ("NL91ABNA0417164300", "STMT1", "1/1", "MT940")


BY_PROJECT = "read by the project's MT940 reader, not the library: "


def test_an_entry_the_library_drops_is_read_whole_by_the_projects_reader():
    """mt-940 overwrites a :61: without its type code (NTRF...) with the next one: the project's reader takes
    the file, and says why."""
    data = _statement(":61:200101D10,00\n:86:first", ":61:200102C5,00NTRFREF2\n:86:second")
    assert len(mt940_lib.parse_statements(data)[0]) == 1  # the library really loses one
    (st,) = parse(data, "mt940", name="day.sta")
    assert [(ln.amount, ln.reference, ln.description) for ln in st.lines] == [
        (-1000, None, "first"), (500, "REF2", "second")]
    assert st.balance_gap == 0
    assert st.notes == (BY_PROJECT + "statement 1 (:20:STMT1) has 2 :61: entries but the MT940 parser returned 1; "
                        "refusing a partial result (an entry without its transaction type code, such as NTRF, "
                        "is a known cause)",)


def test_a_dropped_entry_is_read_by_the_project_whatever_drops_it(monkeypatch):
    real = mt940_lib.parse_statements

    def dropping(*args, **kwargs):
        blocks = real(*args, **kwargs)
        blocks[0].transactions.pop()
        return blocks

    monkeypatch.setattr(mt940_lib, "parse_statements", dropping)
    data = _statement(":61:200101D10,00NTRFREF1", ":61:200102C5,00NTRFREF2")
    (st,) = parse(data, "mt940", name="day.sta")
    assert [(ln.amount, ln.reference) for ln in st.lines] == [(-1000, "REF1"), (500, "REF2")]
    assert "has 2 :61: entries but the MT940 parser returned 1" in st.notes[0]


def test_a_dropped_statement_is_read_by_the_project(monkeypatch):
    real = mt940_lib.parse_statements
    monkeypatch.setattr(mt940_lib, "parse_statements", lambda *a, **k: real(*a, **k)[:1])
    data = _statement(":61:200101D10,00NTRFREF1") + _statement(":61:200102C5,00NTRFREF2")
    statements = parse(data, "mt940", name="day.sta")
    assert [[ln.reference for ln in st.lines] for st in statements] == [["REF1"], ["REF2"]]
    assert statements[0].notes == (BY_PROJECT + "the file has 2 statements with 2 :61: entries, but the MT940 "
                                   "parser returned 1 statements with 1; refusing a partial result",)


def test_an_indented_tag_the_library_would_not_see_is_read_by_the_project():
    data = _statement(":61:200101D10,00NTRFREF1", "  :61:200102C5,00NTRFREF2")
    (st,) = parse(data, "mt940", name="day.sta")
    assert [ln.reference for ln in st.lines] == ["REF1", "REF2"]
    assert "has 2 :61: entries but the MT940 parser returned 1" in st.notes[0]


def test_a_file_no_reader_takes_whole_is_refused_with_both_reasons():
    data = _statement(":61:200101D10,00\n:86:first", ":61:200102X5,00NTRFREF2")
    with pytest.raises(StatementError, match=r"day\.sta: no MT940 reader takes this file whole: the library: .+; "
                                             r"the project's reader: statement 1 \(:20:STMT1\) entry 2: not an "
                                             r"MT940 entry: '200102X5,00NTRFREF2'"):
        parse(data, "mt940", name="day.sta")


def test_reversal_marks_are_signed_by_what_they_do():
    data = _statement(":61:200101RC10,00NTRFREF1", ":61:200101RD3,00NTRFREF2", closing="C200102EUR93,00")
    (st,) = parse(data, "mt940")
    assert [ln.amount for ln in st.lines] == [-1000, 300]
    assert st.balance_gap == 0


def test_mt942_interim_report_has_no_balances():
    data = (b":20:INT1\n:25:PL29114010810000267002001002\n:28C:1/1\n:34F:PLN0\n:13D:1701191815+0100\n"
            b":61:1701190119C10,00NTRFNONREF//B1\n:61:1701190119D2,50NTRFNONREF//B2\n"
            b":90D:1PLN2,50\n:90C:1PLN10,00\n-\n")
    (st,) = parse(data, "mt940")
    assert st.message_type == "MT942"
    assert (st.opening_balance, st.closing_balance, st.currency) == (None, None, "PLN")
    assert [(ln.amount, ln.reference) for ln in st.lines] == [(1000, "B1"), (-250, "B2")]


def test_mt942_sums_that_disagree_are_refused():
    data = (b":20:INT1\n:25:PL29114010810000267002001002\n:28C:1/1\n:34F:PLN0\n:13D:1701191815+0100\n"
            b":61:1701190119C10,00NTRFNONREF//B1\n:90D:0PLN0,00\n:90C:2PLN20,00\n-\n")
    with pytest.raises(StatementError, match=r":90D:/:90C: declare 2 entries netting 20\.00, the file holds 1 "
                                             r"netting 10\.00"):
        parse(data, "mt940", name="int.sta")


def test_more_decimals_than_the_currency_has_is_an_error():
    data = _statement(":61:200101D10,005NTRFREF1", closing="C200102EUR90,00")
    with pytest.raises(StatementError, match=r"day\.sta: statement 1 \(:20:STMT1\): entry 1: -10\.005 has more "
                                             r"decimals than EUR allows \(2\)"):
        parse(data, "mt940", name="day.sta")
    data = _statement(":61:200101D10,00NTRFREF1", closing="C200102EUR89,995")
    with pytest.raises(StatementError, match=r"final closing balance: 89\.995 has more decimals than EUR allows"):
        parse(data, "mt940", name="day.sta")


def test_zero_decimal_currency_amounts_are_whole():
    data = _statement(":61:200101D1000,NTRFREF1", opening="C200101JPY5000,", closing="C200102JPY4000,")
    (st,) = parse(data, "mt940")
    assert (st.currency, st.lines[0].amount, st.opening_balance) == ("JPY", -1000, 5000)


@pytest.mark.parametrize("data, message", [
    (b"this is not a statement\n", "not an MT940/MT942 file: no statement"),
    (b"\x00\x01\x02\xff" * 50, "not an MT940/MT942 file"),
    (b"   \n\n", "the file is empty"),
    (b"", "the file is empty"),
    (b":20:X\n:25:A\n:28C:1\n:60F:C200101EUR1,00\n:61:garbage\n:62F:C200101EUR1,00\n", "cannot read tag :61:"),
    (b":61:200101D10,00NTRFREF1\n:20:X\n:25:A\n:60F:C200101EUR1,00\n:62F:C200101EUR1,00\n", "refusing a partial"),
])
def test_malformed_files_are_clear_errors(data, message):
    with pytest.raises(StatementError, match=message) as e:
        parse(data, "mt940", name="bad.sta")
    assert str(e.value).startswith("bad.sta")


def test_a_truncated_file_loses_its_closing_balance_not_silently_its_entries():
    full = _statement(":61:200101D10,00NTRFREF1", ":61:200102C5,00NTRFREF2")
    cut = full[: full.index(b":62F:")]
    (st,) = parse(cut, "mt940")
    assert len(st.lines) == 2 and st.closing_balance is None


def test_unknown_dialect_is_an_error():
    with pytest.raises(StatementError, match="unknown MT940 dialect 'xyz'"):
        parse(_statement(":61:200101D10,00NTRFREF1"), "mt940", dialect="xyz")


def test_a_byte_order_mark_does_not_hide_the_first_statement():
    (st,) = parse(b"\xef\xbb\xbf" + _statement(":61:200101D5,00NTRFREF1", closing="C200102EUR95,00"), "mt940")
    assert st.statement_id == "STMT1" and len(st.lines) == 1


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(StatementError, match="cannot read"):
        parse(tmp_path / "nope.sta", "mt940")
