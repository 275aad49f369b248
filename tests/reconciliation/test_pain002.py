"""pain.002 direct-debit results: one line per transaction status, with its reason."""

from __future__ import annotations

import datetime as dt

import pytest

from reconciliation.formats import StatementError, parse

DD_RESULTS = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
 <CstmrPmtStsRpt>
  <GrpHdr><MsgId>STS-20261124-01</MsgId><CreDtTm>2026-11-24T07:30:00+08:00</CreDtTm></GrpHdr>
  <OrgnlGrpInfAndSts>
   <OrgnlMsgId>DD-20261122</OrgnlMsgId><OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId>
   <OrgnlNbOfTxs>3</OrgnlNbOfTxs><GrpSts>PART</GrpSts>
  </OrgnlGrpInfAndSts>
  <OrgnlPmtInfAndSts>
   <OrgnlPmtInfId>PI-1</OrgnlPmtInfId>
   <TxInfAndSts>
    <StsId>S1</StsId><OrgnlInstrId>I-1</OrgnlInstrId><OrgnlEndToEndId>DD-C0001234-202611</OrgnlEndToEndId>
    <TxSts>ACSC</TxSts>
    <OrgnlTxRef>
     <Amt><InstdAmt Ccy="CNY">120.50</InstdAmt></Amt><ReqdColltnDt>2026-11-22</ReqdColltnDt>
     <MndtRltdInf><MndtId>M-C0001234</MndtId></MndtRltdInf>
     <Dbtr><Nm>Li Si</Nm></Dbtr><DbtrAcct><Id><IBAN>CN00DEBTOR1</IBAN></Id></DbtrAcct>
     <CdtrAcct><Id><Othr><Id>UTILITY-ACC-1</Id></Othr></Id></CdtrAcct>
    </OrgnlTxRef>
   </TxInfAndSts>
   <TxInfAndSts>
    <OrgnlEndToEndId>DD-C0005678-202611</OrgnlEndToEndId>
    <TxSts>RJCT</TxSts>
    <StsRsnInf><Rsn><Cd>AM04</Cd></Rsn><AddtlInf>insufficient funds</AddtlInf></StsRsnInf>
    <OrgnlTxRef>
     <Amt><InstdAmt Ccy="CNY">88.00</InstdAmt></Amt><ReqdColltnDt>2026-11-22</ReqdColltnDt>
     <Dbtr><Nm>Wang Wu</Nm></Dbtr>
     <CdtrAcct><Id><Othr><Id>UTILITY-ACC-1</Id></Othr></Id></CdtrAcct>
    </OrgnlTxRef>
   </TxInfAndSts>
   <TxInfAndSts>
    <OrgnlEndToEndId>DD-C0009999-202611</OrgnlEndToEndId>
    <TxSts>RJCT</TxSts>
    <StsRsnInf><Rsn><Prtry>X99</Prtry></Rsn></StsRsnInf>
   </TxInfAndSts>
  </OrgnlPmtInfAndSts>
 </CstmrPmtStsRpt>
</Document>
"""


def test_each_transaction_status_is_a_line():
    (st,) = parse(DD_RESULTS, "pain002", name="sts.xml")
    assert (st.statement_id, st.message_type, st.account, st.currency) == (
        "STS-20261124-01", "pain.002.001.03", "UTILITY-ACC-1", "CNY")
    assert (st.opening_balance, st.closing_balance) == (None, None)
    assert [(ln.reference, ln.status, ln.reason, ln.amount) for ln in st.lines] == [
        ("DD-C0001234-202611", "ACSC", None, 12050),
        ("DD-C0005678-202611", "RJCT", "AM04", 8800),
        ("DD-C0009999-202611", "RJCT", "X99", None),  # the bank did not repeat the original
    ]


def test_a_line_carries_dates_party_and_original_ids():
    first, second, _ = parse(DD_RESULTS, "pain002")[0].lines
    assert (first.value_on, first.booked_on) == (dt.date(2026, 11, 22), dt.date(2026, 11, 24))
    assert first.counterparty == "Li Si"
    assert first.raw["mandate_id"] == "M-C0001234"
    assert first.raw["original_message_id"] == "DD-20261122"
    assert first.raw["original_instruction_id"] == "I-1"
    assert first.raw["counterparty_account"] == "CN00DEBTOR1"
    assert second.description == "insufficient funds"


def test_credit_transfer_results_are_debits_and_newer_versions_read_alike():
    data = (DD_RESULTS.replace(b"pain.002.001.03", b"pain.002.001.10").replace(b"pain.008.001.02", b"pain.001.001.09")
            .replace(b"<ReqdColltnDt>2026-11-22</ReqdColltnDt>", b"<ReqdExctnDt><Dt>2026-11-23</Dt></ReqdExctnDt>")
            .replace(b"<Dbtr><Nm>Li Si</Nm></Dbtr>", b"<Cdtr><Pty><Nm>Supplier Ltd</Nm></Pty></Cdtr>")
            .replace(b"<CdtrAcct>", b"<DbtrAcct>").replace(b"</CdtrAcct>", b"</DbtrAcct>"))
    (st,) = parse(data, "pain002")
    assert st.message_type == "pain.002.001.10"
    assert [ln.amount for ln in st.lines] == [-12050, -8800, None]
    assert st.lines[0].value_on == dt.date(2026, 11, 23)
    assert st.lines[0].counterparty == "Supplier Ltd"


def test_a_status_only_for_the_group_gives_no_lines_and_says_so():
    data = b"""<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>
      <GrpHdr><MsgId>STS-2</MsgId><CreDtTm>2026-11-24T07:30:00</CreDtTm></GrpHdr>
      <OrgnlGrpInfAndSts><OrgnlMsgId>DD-20261122</OrgnlMsgId><OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId>
       <GrpSts>RJCT</GrpSts><StsRsnInf><Rsn><Cd>FF01</Cd></Rsn></StsRsnInf></OrgnlGrpInfAndSts>
    </CstmrPmtStsRpt></Document>"""
    (st,) = parse(data, "pain002")
    assert st.lines == ()
    assert st.notes == ("group status RJCT (FF01) for original message DD-20261122",)


def test_transactions_inherit_the_block_status():
    data = DD_RESULTS.replace(b"<TxSts>ACSC</TxSts>", b"").replace(b"<OrgnlPmtInfId>PI-1</OrgnlPmtInfId>",
                                                                 b"<OrgnlPmtInfId>PI-1</OrgnlPmtInfId><PmtInfSts>ACCP</PmtInfSts>")
    assert parse(data, "pain002")[0].lines[0].status == "ACCP"


def test_a_transaction_status_outside_its_block_is_refused():
    data = DD_RESULTS.replace(b"</CstmrPmtStsRpt>", b"<TxInfAndSts><TxSts>RJCT</TxSts></TxInfAndSts></CstmrPmtStsRpt>")
    with pytest.raises(StatementError, match=r"sts\.xml: the file has 4 <TxInfAndSts> but 3 were read"):
        parse(data, "pain002", name="sts.xml")


@pytest.mark.parametrize("data, message", [
    (DD_RESULTS[:300], r"not well-formed XML"),
    (DD_RESULTS.replace(b"120.50", b"120.505"), r"payment block 1, transaction 1: <InstdAmt>: 120\.505 has more"),
    (DD_RESULTS.replace(b"<TxSts>ACSC</TxSts>", b"").replace(b"<GrpSts>PART</GrpSts>", b""),
     r"transaction 1: no status"),
    (b"<Document><BkToCstmrStmt/></Document>", r"this is a camt\.053 bank statement \(use format camt053\), not a "
                                               r"pain\.002"),
])
def test_malformed_reports_are_clear_errors(data, message):
    with pytest.raises(StatementError, match=message):
        parse(data, "pain002", name="sts.xml")
