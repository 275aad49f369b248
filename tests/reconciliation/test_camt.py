"""camt.053 / camt.054: signs, batches, references, versions, and refusing lost or broken entries."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from reconciliation.formats import StatementError, camt, parse

AGENT_DAY = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">
 <BkToCstmrStmt>
  <GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-23T06:00:00+08:00</CreDtTm></GrpHdr>
  <Stmt>
   <Id>S-2026-11-22</Id>
   <LglSeqNb>327</LglSeqNb>
   <Acct><Id><Othr><Id>6222 0210 0100 0000 001</Id></Othr></Id><Ccy>CNY</Ccy></Acct>
   <Bal><Tp><CdOrPrtry><Cd>PRCD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">1000.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-21</Dt></Dt></Bal>
   <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">1320.50</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-22</Dt></Dt></Bal>
   <TxsSummry><TtlNtries><NbOfNtries>{declared}</NbOfNtries></TtlNtries></TxsSummry>
   <Ntry>
    <NtryRef>E1</NtryRef>
    <Amt Ccy="CNY">350.50</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><Dt>2026-11-22</Dt></BookgDt><ValDt><Dt>2026-11-22</Dt></ValDt>
    <AcctSvcrRef>BANK-0001</AcctSvcrRef>
    <NtryDtls>
     <Btch><PmtInfId>AG01-20261122</PmtInfId><NbOfTxs>2</NbOfTxs><TtlAmt Ccy="CNY">350.50</TtlAmt></Btch>
     <TxDtls><Refs><EndToEndId>R-1</EndToEndId></Refs><Amt Ccy="CNY">200.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
      <RltdPties><Dbtr><Pty><Nm>Agent AG01</Nm></Pty></Dbtr></RltdPties>
      <RmtInf><Ustrd>C0001234</Ustrd></RmtInf></TxDtls>
     <TxDtls><Refs><EndToEndId>R-2</EndToEndId></Refs><Amt Ccy="CNY">150.50</Amt><CdtDbtInd>CRDT</CdtDbtInd>
      <RltdPties><Dbtr><Pty><Nm>Agent AG01</Nm></Pty></Dbtr></RltdPties>
      <RmtInf><Ustrd>C0005678</Ustrd></RmtInf></TxDtls>
    </NtryDtls>
   </Ntry>
   <Ntry>
    <Amt Ccy="CNY">30.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><RvslInd>true</RvslInd><Sts><Cd>BOOK</Cd></Sts>
    <BookgDt><DtTm>2026-11-22T23:59:00+08:00</DtTm></BookgDt><ValDt><Dt>2026-11-22</Dt></ValDt>
    <AcctSvcrRef>BANK-0002</AcctSvcrRef>
    <NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
      <RltdPties><Cdtr><Pty><Nm>Zhang San</Nm></Pty></Cdtr></RltdPties>
      <RmtInf><Strd><CdtrRefInf><Ref>RF18C0009999</Ref></CdtrRefInf></Strd></RmtInf>
      <RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf></TxDtls></NtryDtls>
   </Ntry>
   <Ntry>
    <Amt Ccy="CNY">99.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts>
    <ValDt><Dt>2026-11-23</Dt></ValDt>
    <AddtlNtryInf>pending kiosk takings</AddtlNtryInf>
   </Ntry>
  </Stmt>
 </BkToCstmrStmt>
</Document>
"""


def _camt(version: str = "04", declared: int = 3) -> bytes:
    return AGENT_DAY.format(version=version, declared=declared).encode()


@pytest.mark.parametrize("version", ["02", "04", "06", "08"])
def test_a_statement_reads_alike_in_every_version(version):
    (st,) = parse(_camt(version), "camt053")
    assert st.message_type == f"camt.053.001.{version}"
    assert (st.account, st.currency, st.statement_id, st.number) == (
        "6222 0210 0100 0000 001", "CNY", "S-2026-11-22", "327")
    assert (st.opening_balance, st.closing_balance) == (100000, 132050)
    assert st.balance_gap == 0  # the pending entry is not on the booked balance
    assert [ln.amount for ln in st.lines] == [35050, -3000, 9900]
    assert [ln.status for ln in st.lines] == ["BOOK", "BOOK", "PDNG"]


def test_a_batch_entry_is_one_line_with_its_transactions():
    batch = parse(_camt(), "camt053")[0].lines[0]
    assert (batch.reference, batch.counterparty, batch.booked_on) == (
        "AG01-20261122", "Agent AG01", dt.date(2026, 11, 22))
    assert batch.raw["transaction_count"] == 2
    assert [(t["end_to_end_id"], t["amount"], t["remittance"]) for t in batch.raw["transactions"]] == [
        ("R-1", 20000, "C0001234"), ("R-2", 15050, "C0005678")]
    assert batch.raw["batches"][0]["payment_information_id"] == "AG01-20261122"
    assert batch.raw["entry_reference"] == "E1"


def test_a_single_transaction_entry_takes_its_references_and_party():
    reversal = parse(_camt(), "camt053")[0].lines[1]
    # NOTPROVIDED is no reference; the structured creditor reference comes next.
    assert (reversal.reference, reversal.counterparty) == ("RF18C0009999", "Zhang San")
    assert reversal.booked_on == dt.date(2026, 11, 22)  # the date as written in its +08:00 offset
    assert reversal.raw["reversal"] is True
    assert reversal.raw["transactions"][0]["return_reason"] == "AC04"
    assert reversal.raw["transaction_count"] == 1


def test_an_entry_without_details_uses_its_own_fields():
    pending = parse(_camt(), "camt053")[0].lines[2]
    assert (pending.reference, pending.description, pending.booked_on) == (None, "pending kiosk takings", None)


def test_a_document_without_namespace_is_read():
    data = _camt().replace(b' xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.04"', b"")
    (st,) = parse(data, "camt053")
    assert st.message_type == "camt.053" and len(st.lines) == 3


def test_prefixed_namespaces_are_read():
    data = (_camt().replace(b"<", b"<c:").replace(b"<c:/", b"</c:").replace(b"<c:?xml", b"<?xml")
            .replace(b'xmlns="', b'xmlns:c="'))
    (st,) = parse(data, "camt053")
    assert len(st.lines) == 3


def test_a_summary_that_counts_more_entries_is_refused():
    with pytest.raises(StatementError, match=r"statement 1 \(S-2026-11-22\): the statement's summary declares 4 "
                                             r"entries but it holds 3"):
        parse(_camt(declared=4), "camt053", name="day.xml")


def test_an_entry_outside_its_statement_is_refused():
    data = _camt().replace(b"</Stmt>", b"</Stmt><Ntry><Amt Ccy='CNY'>1.00</Amt></Ntry>")
    with pytest.raises(StatementError, match=r"day\.xml: the file has 4 <Ntry> entries but 3 were read"):
        parse(data, "camt053", name="day.xml")


def test_an_entry_lost_on_the_way_is_refused(monkeypatch):
    real = camt._statement

    def losing(*args, **kwargs):
        st = real(*args, **kwargs)
        return dataclasses.replace(st, lines=st.lines[:-1])

    monkeypatch.setattr(camt, "_statement", losing)
    with pytest.raises(StatementError, match="the file has 3 <Ntry> entries but 2 were read"):
        parse(_camt(), "camt053", name="day.xml")


@pytest.mark.parametrize("change, message", [
    ((b"<Amt Ccy=\"CNY\">350.50</Amt>", b"<Amt Ccy=\"CNY\">350.505</Amt>"),
     r"statement 1 \(S-2026-11-22\): entry 1: <Amt>: 350\.505 has more decimals than CNY allows"),
    ((b"<Amt Ccy=\"CNY\">350.50</Amt>", b"<Amt Ccy=\"CNY\">1e3</Amt>"),
     r"entry 1: <Amt>: '1e3' is not a plain decimal"),
    ((b"<Amt Ccy=\"CNY\">350.50</Amt>", b""), r"entry 1: <Amt> is missing"),
    ((b"<CdtDbtInd>DBIT</CdtDbtInd><RvslInd>", b"<CdtDbtInd>DEBIT</CdtDbtInd><RvslInd>"),
     r"entry 2: <CdtDbtInd> is 'DEBIT', expected CRDT or DBIT"),
    ((b"<ValDt><Dt>2026-11-23</Dt>", b"<ValDt><Dt>2026-13-23</Dt>"),
     r"entry 3: <ValDt>: '2026-13-23' is not an ISO date"),
    ((b"<Amt Ccy=\"CNY\">1000.00</Amt>", b"<Amt Ccy=\"CNY\">-1000.00</Amt>"), r"balance PRCD: '-1000\.00' is not"),
])
def test_bad_values_name_the_file_statement_and_entry(change, message):
    data = _camt().replace(*change)
    assert data != _camt()
    with pytest.raises(StatementError, match=message) as e:
        parse(data, "camt053", name="day.xml")
    assert str(e.value).startswith("day.xml: ")


@pytest.mark.parametrize("data, message", [
    (_camt()[:-400], r"day\.xml: not well-formed XML at line \d+, column \d+: no element found"),
    (b"\x89PNG\r\n\x1a\n garbage", r"day\.xml: not well-formed XML at line 1"),
    (b"", r"day\.xml: the file is empty"),
    (b"<?xml version='1.0'?><html><body/></html>", r"root element is <html>, expected <Document>"),
    (b"<!DOCTYPE d [<!ENTITY a 'aaaa'>]><Document>&a;</Document>", r"document type declaration .* is refused"),
    (_camt().replace(b"BkToCstmrStmt", b"BkToCstmrDbtCdtNtfctn").replace(b"camt.053", b"camt.054"),
     r"this is a camt\.054 debit/credit notification \(use format camt054\), not a camt\.053 statement"),
    (_camt().replace(b"<Stmt>", b"<Foo>").replace(b"</Stmt>", b"</Foo>"), r"the file holds no <Stmt>"),
    (_camt().replace(b"camt.053.001.04", b"camt.052.001.04"), r"the namespace says camt\.052\.001\.04"),
])
def test_malformed_files_are_clear_errors(data, message):
    with pytest.raises(StatementError, match=message):
        parse(data, "camt053", name="day.xml")


def test_camt054_notification_has_no_balances():
    data = (_camt().replace(b"BkToCstmrStmt", b"BkToCstmrDbtCdtNtfctn").replace(b"camt.053", b"camt.054")
            .replace(b"<Stmt>", b"<Ntfctn>").replace(b"</Stmt>", b"</Ntfctn>"))
    data = data[: data.index(b"<Bal>")] + data[data.index(b"<TxsSummry>"):]
    (st,) = parse(data, "camt054")
    assert st.message_type == "camt.054.001.04"
    assert (st.opening_balance, st.closing_balance, st.balance_gap) == (None, None, None)
    assert [ln.amount for ln in st.lines] == [35050, -3000, 9900]
    with pytest.raises(StatementError, match=r"this is a camt\.054 debit/credit notification"):
        parse(data, "camt053")
