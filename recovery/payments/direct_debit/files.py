"""Direct-debit files: the batch sent to the bank (CSV, pain.008.001.02) and the results read back.

Batch CSV (UTF-8, header row, one line per debit):
    end_to_end_id, customer_id, customer_name, mandate_reference, mandate_signed_on, bank_code, account,
    amount (yuan, two decimals), collection_date (YYYY-MM-DD), bills (the bill ids covered, `;`-separated)

pain.008.001.02 (ISO 20022 CustomerDirectDebitInitiation): one payment block for the collection
day; GrpHdr/MsgId is the batch code; NbOfTxs and CtrlSum (group and block) are the items' count
and total; each DrctDbtTxInf carries the end-to-end id, the amount, the mandate id and its signing
date, the debtor's bank (DbtrAgt/FinInstnId/Othr/Id = bank code), name and account (IBAN when it
looks like one, else Othr/Id), and the bills covered as unstructured remittance. The creditor comes
from policy [direct_debit]. Names and the remittance line are cut to the schema's lengths (Max140Text); the
file is validated against ISO's XSD in the tests (tests/data/schemas).

Result CSV (UTF-8, header row, columns in any order):
    end_to_end_id, status (succeeded | returned, or the ISO codes ACSC | RJCT), reason_code (required
    for a return, e.g. AM04, MD01), amount (optional, yuan: when given it must equal the debit's)

pain.002: ACSC/ACCC settle, RJCT/CANC return with the first reason code; other statuses (ACCP,
ACSP, ACTC, PDNG, ...) leave the debit pending. camt.054: every transaction of a booked entry;
a credit is a success, a debit, a reversal or a return reason is a return (reason from RtrInf).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from recovery import csvfile, policy
from recovery.csvexport import safe_cell
from recovery.errors import ImportRejected, Invalid
from recovery.money import format_yuan, parse_yuan
from recovery.timeutil import now

BATCH_COLUMNS = ["end_to_end_id", "customer_id", "customer_name", "mandate_reference", "mandate_signed_on",
                 "bank_code", "account", "amount", "collection_date", "bills"]
PAIN008_NS = "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"
# The schema's text lengths, in characters: one name or remittance line longer than its type makes the whole
# file invalid and the bank refuses the batch. Names (PartyIdentification32/Nm) are Max140Text, the
# unstructured remittance (RmtInf/Ustrd) too.
MAX_NAME = 140
MAX_USTRD = 140
IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}\Z")

SUCCESS = {"succeeded": "succeeded", "ACSC": "succeeded", "ACCC": "succeeded",
           "returned": "returned", "RJCT": "returned", "CANC": "returned"}
PAIN002_SUCCESS = {"ACSC", "ACCC"}
PAIN002_RETURN = {"RJCT", "CANC"}
NO_REASON = "NOTPROVIDED"
NOT_BOOKED = {"PDNG", "INFO", "FUTR"}
RESULT_COLUMNS = ["line", "end_to_end_id", "outcome", "reason", "amount_fen", "currency"]


def batch_csv(items: pd.DataFrame, collection_date: dt.date) -> str:
    """The batch CSV (columns above) from direct_debit.batch_items()."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(BATCH_COLUMNS)
    for r in items.itertuples(index=False):
        # Clerks open the batch in a spreadsheet before it goes: text people typed never runs as a formula.
        w.writerow([r.end_to_end_id, safe_cell(r.customer_id), safe_cell(r.customer_name),
                    safe_cell(r.mandate_reference), pd.Timestamp(r.signed_on).date().isoformat(),
                    safe_cell(r.bank_code), safe_cell(r.account),
                    format_yuan(int(r.amount_fen)), collection_date.isoformat(), r.bills])
    return buf.getvalue()


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _account(parent: ET.Element, tag: str, account: str) -> None:
    ident = _sub(_sub(parent, tag), "Id")
    if IBAN.match(account.replace(" ", "")):
        _sub(ident, "IBAN", account.replace(" ", ""))
    else:
        _sub(_sub(ident, "Othr"), "Id", account)


def _agent(parent: ET.Element, tag: str, code: str) -> None:
    _sub(_sub(_sub(_sub(parent, tag), "FinInstnId"), "Othr"), "Id", code)


def pain008(batch_code: str, collection_date: dt.date, items: pd.DataFrame) -> bytes:
    """The batch as an ISO 20022 pain.008.001.02 CustomerDirectDebitInitiation document."""
    creditor = policy.section("direct_debit")
    currency = creditor["currency"]
    count = str(len(items))
    total = format_yuan(int(items["amount_fen"].sum()) if len(items) else 0)
    root = ET.Element("Document", {"xmlns": PAIN008_NS})
    body = _sub(root, "CstmrDrctDbtInitn")
    header = _sub(body, "GrpHdr")
    _sub(header, "MsgId", batch_code)
    _sub(header, "CreDtTm", now().replace(microsecond=0).isoformat())
    _sub(header, "NbOfTxs", count)
    _sub(header, "CtrlSum", total)
    _sub(_sub(header, "InitgPty"), "Nm", creditor["creditor_name"][:MAX_NAME])

    block = _sub(body, "PmtInf")
    _sub(block, "PmtInfId", f"{batch_code}-1")
    _sub(block, "PmtMtd", "DD")
    _sub(block, "NbOfTxs", count)
    _sub(block, "CtrlSum", total)
    kind = _sub(block, "PmtTpInf")
    _sub(_sub(kind, "SvcLvl"), "Prtry", "DD")
    _sub(kind, "SeqTp", creditor["sequence_type"])
    _sub(block, "ReqdColltnDt", collection_date.isoformat())
    _sub(_sub(block, "Cdtr"), "Nm", creditor["creditor_name"][:MAX_NAME])
    _account(block, "CdtrAcct", creditor["creditor_account"])
    _agent(block, "CdtrAgt", creditor["creditor_agent"])
    scheme = _sub(_sub(_sub(_sub(_sub(block, "CdtrSchmeId"), "Id"), "PrvtId"), "Othr"), "Id",
                  creditor["creditor_scheme_id"])
    del scheme
    for r in items.itertuples(index=False):
        tx = _sub(block, "DrctDbtTxInf")
        _sub(_sub(tx, "PmtId"), "EndToEndId", r.end_to_end_id)
        _sub(tx, "InstdAmt", format_yuan(int(r.amount_fen)), Ccy=currency)
        mandate = _sub(_sub(tx, "DrctDbtTx"), "MndtRltdInf")
        _sub(mandate, "MndtId", r.mandate_reference)
        _sub(mandate, "DtOfSgntr", pd.Timestamp(r.signed_on).date().isoformat())
        _agent(tx, "DbtrAgt", r.bank_code)
        _sub(_sub(tx, "Dbtr"), "Nm", r.customer_name[:MAX_NAME])
        _account(tx, "DbtrAcct", r.account)
        if r.bills:
            _sub(_sub(tx, "RmtInf"), "Ustrd", f"{r.customer_id} {r.bills}"[:MAX_USTRD])
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


# ---------------------------------------------------------------- results


def _frame(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    frame["amount_fen"] = frame["amount_fen"].astype("Int64")
    return frame


def _csv_results(path: Path) -> pd.DataFrame:
    raw = csvfile.read(path, required=("end_to_end_id", "status"), optional=("reason_code", "amount"))
    rows, errors = [], []
    for line, e2e, status, reason, amount in zip(raw["line"], raw["end_to_end_id"], raw["status"],
                                                 raw["reason_code"], raw["amount"], strict=True):
        outcome = SUCCESS.get(status)
        if not e2e:
            errors.append(f"{path}:{line}: end_to_end_id: required")
        if outcome is None:
            errors.append(f"{path}:{line}: status: expected succeeded or returned (or ACSC, RJCT), got {status!r}")
        if outcome == "returned" and not reason:
            errors.append(f"{path}:{line}: reason_code: a return needs the bank's reason code")
        fen = None
        if amount:
            try:
                fen = parse_yuan(amount)
            except Invalid:
                errors.append(f"{path}:{line}: amount: not a yuan amount with at most two decimals: {amount!r}")
        rows.append((line, e2e, outcome, reason or None, fen, None))  # yuan, as the contract's CSV says
    if errors:
        raise ImportRejected(errors)
    return _frame(rows)


def _pain002_results(path: Path) -> pd.DataFrame:
    from reconciliation.formats import parse

    rows = []
    for st in parse(path, "pain002"):
        for k, ln in enumerate(st.lines, start=1):
            status = ln.status
            outcome = ("succeeded" if status in PAIN002_SUCCESS else "returned" if status in PAIN002_RETURN
                       else "pending")
            reason = (ln.reason or NO_REASON) if outcome == "returned" else None
            rows.append((k, ln.reference, outcome, reason, None if ln.amount is None else abs(ln.amount),
                         ln.currency or st.currency))
    return _frame(rows)


def _camt054_results(path: Path) -> pd.DataFrame:
    from reconciliation.formats import parse

    rows = []
    k = 0
    for st in parse(path, "camt054"):
        for ln in st.lines:
            raw = ln.raw or {}
            txs = raw.get("transactions") or [{"end_to_end_id": ln.reference, "amount": ln.amount,
                                                "return_reason": None}]
            for tx in txs:
                k += 1
                if ln.status in NOT_BOOKED:
                    rows.append((k, tx["end_to_end_id"], "pending", None, None, tx.get("currency") or ln.currency))
                    continue
                amount = tx["amount"]
                returned = bool(raw.get("reversal") or tx.get("return_reason")
                                or (amount is not None and amount < 0) or (amount is None and (ln.amount or 0) < 0))
                rows.append((k, tx["end_to_end_id"], "returned" if returned else "succeeded",
                             (tx.get("return_reason") or NO_REASON) if returned else None,
                             None if amount is None else abs(amount), tx.get("currency") or ln.currency))
    return _frame(rows)


def read_results(path: Path, fmt: str) -> pd.DataFrame:
    """A result file as rows: line (or position), end_to_end_id, outcome, reason, amount_fen."""
    readers = {"csv": _csv_results, "pain002": _pain002_results, "camt054": _camt054_results}
    if fmt not in readers:
        raise ImportRejected([f"{path}:0: format: expected one of {', '.join(readers)}, got {fmt!r}"])
    from reconciliation.formats import StatementError

    try:
        frame = readers[fmt](path)
    except StatementError as e:
        raise ImportRejected(e.problems) from None
    missing = frame["end_to_end_id"].isna() | (frame["end_to_end_id"] == "")
    if missing.any():
        raise ImportRejected([f"{path}:{line}: end_to_end_id: the file gives none"
                              for line in frame.loc[missing, "line"]])
    if frame.empty:
        raise ImportRejected([f"{path}:0: file: no debit results in it"])
    return frame
