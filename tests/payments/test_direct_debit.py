"""Direct debit: batches for bills falling due, the bank files, provisional posting, the bank's results."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from recovery import policy
from recovery.audit.models import AuditEntry
from recovery.billing.models import Bill
from recovery.customers.models import Customer
from recovery.errors import Conflict, ImportRejected, Invalid
from recovery.events.models import Event
from recovery.ledger.models import EntryKind, LedgerEntry
from recovery.payments.direct_debit.files import batch_csv, pain008
from recovery.payments.direct_debit.models import DebitItem, DebitItemBill
from recovery.payments.direct_debit.service import (
    batch_items,
    create_batch,
    create_mandate,
    get_batch,
    import_results,
    send_batch,
)
from recovery.payments.models import Payment
from tests.factories import bill, customer, load, payment

DUE = dt.date(2026, 11, 20)
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
REAL_CAMT054 = Path("/work/shared/testdata/statements/camt/genkgo_camt054.v2.xml")
# ISO 20022's own schema for the file the exporter writes (source and licence: tests/data/schemas/README.md).
PAIN008_SCHEMA = xmlschema.XMLSchema(Path(__file__).parents[1] / "data" / "schemas" / "pain.008.001.02.xsd")


@pytest.fixture
def mandated(recovery, tmp_path, session):
    """C1 and C2 have mandates and bills due on DUE; C3 has a bill due then but no mandate."""
    load(recovery, tmp_path, customers=[customer("C1"), customer("C2"), customer("C3")],
         bills=[bill("B1", "C1", "120.50", "2026-10", "2026-11-03", "2026-11-20"),
                bill("B2", "C2", "88.00", "2026-10", "2026-11-03", "2026-11-20"),
                bill("B3", "C3", "50.00", "2026-10", "2026-11-03", "2026-11-20"),
                bill("B4", "C1", "70.00", "2026-11", "2026-12-01", "2026-12-18")])
    create_mandate(session, "C1", bank_code="ICBC", account="CN12ICBC000012345678", reference="M-C1",
                   signed_on=dt.date(2026, 1, 5))
    create_mandate(session, "C2", bank_code="CCB", account="6217000012345678", reference="M-C2",
                   signed_on=dt.date(2026, 3, 1))
    session.commit()
    return session


def _items(session) -> list[tuple[str, str, int, str]]:
    batch = get_batch(session, "DD20261120")
    return [(r.end_to_end_id, r.customer_id, int(r.amount_fen), r.bills)
            for r in batch_items(session, batch).itertuples()]


def test_the_batch_covers_mandated_customers_bills_falling_due_and_reruns_the_same(mandated):
    session = mandated
    batch = create_batch(session, DUE)
    assert (batch.code, batch.item_count, batch.total_fen, batch.status) == ("DD20261120", 2, 20850, "open")
    first = _items(session)
    assert first == [("DD20261120-000001", "C1", 12050, "B1"), ("DD20261120-000002", "C2", 8800, "B2")]
    again = create_batch(session, DUE)
    assert (again.id, again.item_count, again.total_fen) == (batch.id, 2, 20850)
    assert _items(session) == first


def test_a_partly_paid_bill_is_debited_for_what_is_unpaid_and_a_paid_one_not_at_all(recovery, tmp_path, mandated):
    load(recovery, tmp_path, payments=[payment("R1", "C1", "20.50", "2026-11-10T10:00:00+08:00"),
                                       payment("R2", "C2", "88.00", "2026-11-10T10:00:00+08:00")])
    create_batch(mandated, DUE)
    assert _items(mandated) == [("DD20261120-000001", "C1", 10000, "B1")]


def test_a_bill_is_never_in_two_live_debits(mandated):
    session = mandated
    create_batch(session, DUE)
    item = session.scalar(select(DebitItem).limit(1))
    bill_id = session.scalar(select(DebitItemBill.bill_id).where(DebitItemBill.item_id == item.id))
    session.add(DebitItemBill(item_id=item.id, bill_id=bill_id, live=True))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_pain008_parses_back_with_counts_and_control_sums_equal_to_the_items(mandated):
    session = mandated
    batch = create_batch(session, DUE)
    doc = ET.fromstring(pain008(batch.code, batch.created_for, batch_items(session, batch)))
    assert doc.tag == "{urn:iso:std:iso:20022:tech:xsd:pain.008.001.02}Document"
    header = doc.find("p:CstmrDrctDbtInitn/p:GrpHdr", NS)
    block = doc.find("p:CstmrDrctDbtInitn/p:PmtInf", NS)
    assert header.findtext("p:MsgId", namespaces=NS) == "DD20261120"
    txs = block.findall("p:DrctDbtTxInf", NS)
    amounts = [tx.findtext("p:InstdAmt", namespaces=NS) for tx in txs]
    assert amounts == ["120.50", "88.00"]
    for el in (header, block):
        assert el.findtext("p:NbOfTxs", namespaces=NS) == str(len(txs)) == "2"
        assert el.findtext("p:CtrlSum", namespaces=NS) == "208.50"
    assert block.findtext("p:PmtMtd", namespaces=NS) == "DD"
    assert block.findtext("p:ReqdColltnDt", namespaces=NS) == "2026-11-20"
    first = txs[0]
    assert first.findtext("p:PmtId/p:EndToEndId", namespaces=NS) == "DD20261120-000001"
    assert first.find("p:InstdAmt", NS).get("Ccy") == "CNY"
    assert first.findtext("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=NS) == "M-C1"
    assert first.findtext("p:DrctDbtTx/p:MndtRltdInf/p:DtOfSgntr", namespaces=NS) == "2026-01-05"
    assert first.findtext("p:DbtrAgt/p:FinInstnId/p:Othr/p:Id", namespaces=NS) == "ICBC"
    assert first.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == "CN12ICBC000012345678"
    assert txs[1].findtext("p:DbtrAcct/p:Id/p:Othr/p:Id", namespaces=NS) == "6217000012345678"


def test_pain008_is_valid_against_isos_schema_with_long_names_cut_to_its_140_characters(app, mandated):
    session = mandated
    session.execute(update(Customer).where(Customer.code == "C1").values(name="电" * 200))
    app.config["POLICY_IN_FORCE"] = {**app.config["POLICY_IN_FORCE"], "direct_debit": {
        **policy.section("direct_debit"), "creditor_name": "供电公司" * 50}}
    batch = create_batch(session, DUE)
    data = pain008(batch.code, batch.created_for, batch_items(session, batch))
    PAIN008_SCHEMA.validate(data.decode("utf-8"))  # raises, naming the element, on any departure from the XSD
    doc = ET.fromstring(data)
    names = [el.text for el in doc.iter(f"{{{NS['p']}}}Nm")]  # initiating party, creditor, then each debtor
    assert names == ["供电公司" * 35, "供电公司" * 35, "电" * 140, "客户C2"]


def test_the_batch_csv_has_one_line_per_debit(mandated):
    batch = create_batch(mandated, DUE)
    lines = batch_csv(batch_items(mandated, batch), DUE).splitlines()
    assert lines[0] == ("end_to_end_id,customer_id,customer_name,mandate_reference,mandate_signed_on,bank_code,"
                        "account,amount,collection_date,bills")
    assert lines[1] == "DD20261120-000001,C1,客户C1,M-C1,2026-01-05,ICBC,CN12ICBC000012345678,120.50,2026-11-20,B1"
    assert len(lines) == 3


def test_the_batch_csv_never_hands_a_spreadsheet_a_formula_from_a_customer_name(recovery, tmp_path, session):
    load(recovery, tmp_path, customers=[customer("C9", name='=HYPERLINK("http://x","pay")')],
         bills=[bill("B9", "C9", "40.00", "2026-10", "2026-11-03", "2026-11-20")])
    create_mandate(session, "C9", bank_code="ICBC", account="6217000012349999", reference="@M-C9",
                   signed_on=dt.date(2026, 1, 5))
    session.commit()
    text = batch_csv(batch_items(session, create_batch(session, DUE)), DUE)
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["customer_name"] == '\'=HYPERLINK("http://x","pay")'
    assert row["mandate_reference"] == "'@M-C9"
    assert (row["account"], row["amount"]) == ("6217000012349999", "40.00")


def test_sending_posts_provisional_payments_so_no_one_is_chased_for_a_debit_in_flight(mandated, recovery):
    session = mandated
    create_batch(session, DUE)
    send_batch(session, "DD20261120")
    session.commit()
    rows = session.execute(select(Payment.channel, Payment.channel_account, Payment.channel_ref, Payment.state,
                                  Payment.amount_fen).order_by(Payment.channel_ref)).all()
    assert rows == [("direct_debit", "ICBC", "DD20261120-000001", "provisional", 12050),
                    ("direct_debit", "CCB", "DD20261120-000002", "provisional", 8800)]
    ageing = recovery("report", "ageing", "--as-of", "2026-11-25").stdout.splitlines()
    assert ageing[1:3] == ["C1,0.00,0.00,,current", "C2,0.00,0.00,,current"]
    with pytest.raises(Conflict, match="already sent"):
        send_batch(session, "DD20261120")
    # Sent: a rerun of the day leaves the batch as the bank has it.
    assert create_batch(session, DUE).item_count == 2


def _sent(session):
    create_batch(session, DUE)
    send_batch(session, "DD20261120")
    session.commit()


def _results_csv(tmp_path: Path, rows: list[str], name: str = "results.csv") -> Path:
    path = tmp_path / name
    path.write_text("end_to_end_id,status,reason_code,amount\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _counts(session) -> tuple:
    return (session.scalar(select(func.count()).select_from(LedgerEntry)),
            session.scalar(select(func.count()).select_from(Event)),
            tuple(session.execute(select(Payment.channel_ref, Payment.state).order_by(Payment.channel_ref)).all()))


def test_results_settle_successes_and_reverse_returns_with_the_banks_reason(mandated, tmp_path):
    session = mandated
    _sent(session)
    path = _results_csv(tmp_path, ["DD20261120-000001,succeeded,,120.50", "DD20261120-000002,returned,AM04,88.00"])
    summary = import_results(session, path, "csv", on=dt.date(2026, 11, 23))
    session.commit()
    assert (summary.succeeded, summary.returned, summary.unchanged) == (1, 1, 0)
    states = dict(session.execute(select(Payment.channel_ref, Payment.state)).all())
    assert states == {"DD20261120-000001": "settled", "DD20261120-000002": "reversed"}

    returned = session.scalar(select(Payment).where(Payment.channel_ref == "DD20261120-000002"))
    original = session.scalar(select(LedgerEntry).where(LedgerEntry.payment_id == returned.id,
                                                        LedgerEntry.kind == EntryKind.payment))
    reversal = session.scalar(select(LedgerEntry).where(LedgerEntry.kind == EntryKind.reversal))
    assert (reversal.corrects_id, reversal.amount_fen, reversal.effective_on, reversal.payment_id) == (
        original.id, 8800, dt.date(2026, 11, 23), returned.id)
    assert reversal.note.startswith("AM04")
    item = session.scalar(select(DebitItem).where(DebitItem.end_to_end_id == "DD20261120-000002"))
    assert (item.status, item.return_reason) == ("returned", "AM04")
    event = session.scalar(select(Event))
    assert (event.kind, event.occurred_on, event.amount_fen) == ("returned_payment", dt.date(2026, 11, 23), 8800)
    batch = get_batch(session, "DD20261120")
    assert (batch.status, batch.succeeded_count, batch.returned_count, batch.returned_fen) == ("closed", 1, 1, 8800)
    # The returned bill is free for another debit, and unpaid again.
    assert not session.scalar(select(DebitItemBill.live).where(DebitItemBill.item_id == item.id))
    owed = session.scalar(select(func.sum(LedgerEntry.amount_fen))
                          .where(LedgerEntry.customer_id == returned.customer_id))
    assert owed == 8800

    before = _counts(session)
    again = import_results(session, path, "csv", on=dt.date(2026, 11, 24))
    session.commit()
    assert (again.succeeded, again.returned, again.unchanged) == (0, 0, 2)
    assert _counts(session) == before


def test_a_returned_debit_accrues_its_penalty_from_the_due_date(mandated, tmp_path):
    from recovery.billing.penalties import accrue

    session = mandated
    _sent(session)
    import_results(session, _results_csv(tmp_path, ["DD20261120-000002,RJCT,MD01,"]), "csv", on=dt.date(2026, 11, 24))
    accrue(session, dt.date(2026, 11, 30))  # 88.00 x 10 days x 0.1% = 0.88 -> the 1-yuan minimum
    penalty = dict(session.execute(select(Bill.code, LedgerEntry.amount_fen).join(Bill, Bill.id == LedgerEntry.bill_id)
                                   .where(LedgerEntry.kind == EntryKind.penalty)).all())
    # B1's debit is still in flight (provisional): no penalty; B3 has no mandate and is simply late.
    assert penalty == {"B2": 100, "B3": 100}


def test_an_unknown_end_to_end_id_is_an_error_naming_it_and_nothing_changes(mandated, tmp_path):
    session = mandated
    _sent(session)
    before = _counts(session)
    path = _results_csv(tmp_path, ["DD20261120-000001,succeeded,,", "DD-NOPE-9,returned,AM04,"])
    with pytest.raises(ImportRejected) as e:
        import_results(session, path, "csv")
    session.rollback()
    assert e.value.errors == [f"{path}:3: end_to_end_id: unknown debit DD-NOPE-9"]
    assert _counts(session) == before


def test_a_wrong_amount_or_a_success_after_a_return_is_refused(mandated, tmp_path):
    session = mandated
    _sent(session)
    with pytest.raises(ImportRejected) as e:
        import_results(session, _results_csv(tmp_path, ["DD20261120-000001,succeeded,,12.05"]), "csv")
    assert e.value.errors == [f"{tmp_path / 'results.csv'}:2: amount: debit DD20261120-000001 is 120.50, "
                              "the file says 12.05"]
    session.rollback()
    import_results(session, _results_csv(tmp_path, ["DD20261120-000001,returned,AC04,"]), "csv")
    session.commit()
    with pytest.raises(ImportRejected) as e:
        import_results(session, _results_csv(tmp_path, ["DD20261120-000001,succeeded,,"], "late.csv"), "csv")
    assert "was already returned; a success cannot follow" in e.value.errors[0]


def test_a_return_needs_its_reason_code(mandated, tmp_path):
    _sent(mandated)
    with pytest.raises(ImportRejected) as e:
        import_results(mandated, _results_csv(tmp_path, ["DD20261120-000001,returned,,"]), "csv")
    assert e.value.errors == [f"{tmp_path / 'results.csv'}:2: reason_code: a return needs the bank's reason code"]


PAIN002 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">
 <CstmrPmtStsRpt>
  <GrpHdr><MsgId>STS-1</MsgId><CreDtTm>2026-11-21T07:30:00+08:00</CreDtTm></GrpHdr>
  <OrgnlGrpInfAndSts><OrgnlMsgId>DD20261120</OrgnlMsgId><OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId>
   <GrpSts>PART</GrpSts></OrgnlGrpInfAndSts>
  <OrgnlPmtInfAndSts><OrgnlPmtInfId>DD20261120-1</OrgnlPmtInfId>
   <TxInfAndSts><OrgnlEndToEndId>DD20261120-000001</OrgnlEndToEndId><TxSts>ACSC</TxSts>
    <OrgnlTxRef><Amt><InstdAmt Ccy="CNY">120.50</InstdAmt></Amt></OrgnlTxRef></TxInfAndSts>
   <TxInfAndSts><OrgnlEndToEndId>DD20261120-000002</OrgnlEndToEndId><TxSts>RJCT</TxSts>
    <StsRsnInf><Rsn><Cd>MD01</Cd></Rsn><AddtlInf>no mandate</AddtlInf></StsRsnInf></TxInfAndSts>
  </OrgnlPmtInfAndSts>
 </CstmrPmtStsRpt>
</Document>
"""


def test_pain002_results_settle_and_return_with_the_reason(mandated, tmp_path):
    session = mandated
    _sent(session)
    path = tmp_path / "sts.xml"
    path.write_text(PAIN002, encoding="utf-8")
    summary = import_results(session, path, "pain002", on=dt.date(2026, 11, 21))
    assert (summary.succeeded, summary.returned) == (1, 1)
    item = session.scalar(select(DebitItem).where(DebitItem.end_to_end_id == "DD20261120-000002"))
    assert item.return_reason == "MD01"


CAMT054 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">
 <BkToCstmrDbtCdtNtfctn>
  <GrpHdr><MsgId>NTF-1</MsgId><CreDtTm>2026-11-22T08:00:00+08:00</CreDtTm></GrpHdr>
  <Ntfctn><Id>NTF-1</Id><CreDtTm>2026-11-22T08:00:00+08:00</CreDtTm>
   <Acct><Id><Othr><Id>UTILITY-ACCOUNT</Id></Othr></Id></Acct>
   <Ntry><Amt Ccy="CNY">208.50</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2026-11-20</Dt></BookgDt><ValDt><Dt>2026-11-20</Dt></ValDt>
    <NtryDtls><Btch><PmtInfId>DD20261120-1</PmtInfId><NbOfTxs>2</NbOfTxs></Btch>
     <TxDtls><Refs><EndToEndId>DD20261120-000001</EndToEndId></Refs><Amt Ccy="CNY">120.50</Amt></TxDtls>
     <TxDtls><Refs><EndToEndId>DD20261120-000002</EndToEndId></Refs><Amt Ccy="CNY">88.00</Amt></TxDtls>
    </NtryDtls></Ntry>
   <Ntry><Amt Ccy="CNY">88.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><RvslInd>true</RvslInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2026-11-22</Dt></BookgDt>
    <NtryDtls><TxDtls><Refs><EndToEndId>DD20261120-000002</EndToEndId></Refs>
     <Amt Ccy="CNY">88.00</Amt><RtrInf><Rsn><Cd>AM04</Cd></Rsn></RtrInf></TxDtls></NtryDtls></Ntry>
  </Ntfctn>
 </BkToCstmrDbtCdtNtfctn>
</Document>
"""


def test_camt054_credits_settle_and_a_later_return_reverses(mandated, tmp_path):
    session = mandated
    _sent(session)
    path = tmp_path / "ntf.xml"
    path.write_text(CAMT054, encoding="utf-8")
    summary = import_results(session, path, "camt054", on=dt.date(2026, 11, 22))
    assert (summary.succeeded, summary.returned) == (1, 1)
    states = dict(session.execute(select(Payment.channel_ref, Payment.state)).all())
    assert states == {"DD20261120-000001": "settled", "DD20261120-000002": "reversed"}
    item = session.scalar(select(DebitItem).where(DebitItem.end_to_end_id == "DD20261120-000002"))
    assert item.return_reason == "AM04"


def test_a_return_after_a_success_is_a_late_return(mandated, tmp_path):
    session = mandated
    _sent(session)
    import_results(session, _results_csv(tmp_path, ["DD20261120-000001,succeeded,,"]), "csv")
    import_results(session, _results_csv(tmp_path, ["DD20261120-000001,returned,MD06,"], "late.csv"), "csv")
    assert session.scalar(select(Payment.state).where(Payment.channel_ref == "DD20261120-000001")) == "reversed"


def test_a_result_file_in_another_currency_is_refused_naming_both(mandated):
    """The real camt.054 is in SEK; debits here are collected in CNY: nothing is applied."""
    _sent(mandated)
    with pytest.raises(Invalid, match=r"genkgo_camt054\.v2\.xml: the result file is in SEK, but its account is kept "
                                      r"in CNY \(set in \[direct_debit\] currency"):
        import_results(mandated, REAL_CAMT054, "camt054")
    assert mandated.scalar(select(func.count()).select_from(Payment).where(Payment.state == "reversed")) == 0


def test_a_real_camt054_file_is_refused_naming_its_unknown_end_to_end_ids(app, mandated, tmp_path):
    in_sek = policy.section("direct_debit", {"direct_debit": {"currency": "SEK"}})
    app.config["POLICY_IN_FORCE"] = {**app.config["POLICY_IN_FORCE"], "direct_debit": in_sek}
    _sent(mandated)
    with pytest.raises(ImportRejected) as e:
        import_results(mandated, REAL_CAMT054, "camt054")
    assert e.value.errors == [f"{REAL_CAMT054}:1: end_to_end_id: unknown debit MUELL/FINP/RA12345"]


def test_the_whole_round_through_the_command_line(recovery, tmp_path, session):
    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "120.50", "2026-10", "2026-11-03", "2026-11-20")])
    assert recovery("debit", "mandate", "add", "C1", "--bank", "ICBC", "--account", "6222000011112222",
                    "--reference", "M-C1", "--signed-on", "2026-01-05").exit_code == 0
    result = recovery("debit", "batch", "--date", "2026-11-20")
    assert json.loads(result.stdout) == {"batch": "DD20261120", "collection_date": "2026-11-20", "status": "open",
                                         "items": 1, "total": "120.50", "succeeded": 0, "returned": 0,
                                         "returned_total": "0.00"}
    out = tmp_path / "dd.xml"
    assert recovery("debit", "export", "DD20261120", "--format", "pain008", "--out", out).exit_code == 0
    assert ET.parse(out).getroot().find("p:CstmrDrctDbtInitn/p:GrpHdr/p:CtrlSum", NS).text == "120.50"
    assert "DD20261120-000001" in recovery("debit", "export", "DD20261120", "--format", "csv").stdout
    assert json.loads(recovery("debit", "send", "DD20261120").stdout)["status"] == "sent"
    path = _results_csv(tmp_path, ["DD20261120-000001,returned,AM04,120.50"])
    result = recovery("debit", "results", path, "--format", "csv", "--on", "2026-11-22")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["returned"] == 1
    bad = _results_csv(tmp_path, ["NOPE,returned,AM04,"], "bad.csv")
    result = recovery("debit", "results", bad, "--format", "csv")
    assert result.exit_code != 0 and "unknown debit NOPE" in result.output
    assert session.scalar(select(func.count()).where(AuditEntry.action == "debit.results")) == 1


def test_the_same_result_file_imported_twice_at_once_reverses_once(app, mandated, tmp_path):
    import threading

    from sqlalchemy.exc import DBAPIError, IntegrityError
    from sqlalchemy.orm import Session

    from recovery.extensions import db

    _sent(mandated)
    path = _results_csv(tmp_path, ["DD20261120-000002,returned,AM04,"])
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def attempt() -> None:
        with app.app_context(), Session(db.engine) as own:
            barrier.wait()
            try:
                outcomes.append(import_results(own, path, "csv", on=dt.date(2026, 11, 23)).returned)
                own.commit()
            except (DBAPIError, IntegrityError) as e:  # the loser of a write race may fail outright
                own.rollback()
                outcomes.append(type(e).__name__)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert outcomes.count(1) == 1, outcomes
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(LedgerEntry.kind == EntryKind.reversal)) == 1
    assert db.session.scalar(select(func.count()).select_from(Event)) == 1


def test_the_nightly_batch_job_reruns_to_the_same_batch(mandated, recovery):
    for _ in range(2):
        result = recovery("jobs", "run", "payments.debit_batch", "--date", "2026-11-20")
        assert result.exit_code == 0, result.output
    assert _items(mandated) == [("DD20261120-000001", "C1", 12050, "B1"), ("DD20261120-000002", "C2", 8800, "B2")]
