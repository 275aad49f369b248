"""ISO 20022 customer payment status reports (pain.002): the bank's answer to our direct debits.

One Statement per file (its GrpHdr/MsgId as `statement_id`, no balances), one line per
`<TxInfAndSts>`, i.e. per transaction whose status is reported:

- `reference`: the original end-to-end id (`OrgnlEndToEndId`), else the original instruction id;
- `status`: `TxSts` (ACSC, ACCP, ACSP, PDNG, RJCT, ...), else the payment block's `PmtInfSts`,
  else the group's `GrpSts`; `reason`: the first `StsRsnInf/Rsn/Cd` (AC04, AM04, MD06, ...) or
  its proprietary code; `description`: the reasons' `AddtlInf` texts;
- `amount`: the original instructed amount (`OrgnlTxRef/Amt/InstdAmt`), positive for a
  direct-debit collection (pain.008: money comes in) and negative for a credit transfer
  (pain.001); None when the bank does not repeat the original (many rejection reports don't);
- `value_on`: the requested collection (or execution) date; `booked_on`: the acceptance date
  (`AccptncDtTm`), else the report's creation date, i.e. when the status became known;
- `counterparty`: the debtor of a collection, the creditor of a transfer.

`raw` keeps the original message, payment-information, instruction and mandate ids and all
reason codes. A report that carries only a group or payment-block status, with no transaction,
has no lines; `notes` says which status it gave.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from reconciliation.formats import isoxml
from reconciliation.formats.errors import StatementError
from reconciliation.formats.model import Statement, StatementLine


def parse_pain002(data: bytes, name: str) -> list[Statement]:
    """A pain.002 file -> a one-element list: its Statement with one line per transaction status."""
    doc, body = isoxml.message_body(data, name, body_tag="CstmrPmtStsRpt", family="pain.002",
                                    what="pain.002 payment status report")
    root = doc.root

    header = body.find("GrpHdr")
    group = body.find("OrgnlGrpInfAndSts")
    original_message = isoxml.text(group, "OrgnlMsgId")
    original_type = isoxml.text(group, "OrgnlMsgNmId") or ""
    group_status = isoxml.text(group, "GrpSts")
    # A credit transfer we initiated takes money out; a direct debit (or anything else) brings it in.
    sign = -1 if original_type.startswith("pain.001") else 1
    try:
        reported_on = isoxml.day(header.find("CreDtTm") if header is not None else None, f"{name}: <GrpHdr>")
    except ValueError as e:
        raise StatementError(str(e)) from None

    notes: list[str] = []
    if group_status and group_status != "PART":
        notes.append(f"group status {group_status}{_reasons_note(group)} for original message {original_message}")
    problems: list[str] = []
    lines: list[StatementLine] = []
    accounts: set[str] = set()
    for p, block in enumerate(body.findall("OrgnlPmtInfAndSts"), start=1):
        block_status = isoxml.text(block, "PmtInfSts")
        txs = block.findall("TxInfAndSts")
        if block_status and not txs:
            notes.append(f"payment block {isoxml.text(block, 'OrgnlPmtInfId')}: status {block_status}"
                         f"{_reasons_note(block)}, no transactions listed")
        for t, tx in enumerate(txs, start=1):
            where = f"{name}: payment block {p}, transaction {t}"
            try:
                line, account = _line(tx, where, sign, block, block_status or group_status,
                                      original_message, original_type, reported_on)
            except ValueError as e:
                problems.append(str(e))
                continue
            lines.append(line)
            if account:
                accounts.add(account)
    if problems:
        raise StatementError(problems)

    in_file = isoxml.count(root, "TxInfAndSts")
    if len(lines) != in_file:
        raise StatementError(f"{name}: the file has {in_file} <TxInfAndSts> but {len(lines)} were read "
                             "(transactions outside an <OrgnlPmtInfAndSts>?); refusing a partial result")
    currencies = {ln.currency for ln in lines if ln.currency}
    return [Statement(
        account=accounts.pop() if len(accounts) == 1 else None,
        currency=currencies.pop() if len(currencies) == 1 else None,
        opening_balance=None,
        closing_balance=None,
        statement_id=isoxml.text(header, "MsgId"),
        lines=tuple(lines),
        message_type=doc.message or "pain.002",
        notes=tuple(notes),
    )]


def _reasons(el: ET.Element | None) -> list[str]:
    if el is None:
        return []
    return [code for r in el.findall("StsRsnInf") if (code := isoxml.first(r, "Rsn/Cd", "Rsn/Prtry"))]


def _reasons_note(el: ET.Element | None) -> str:
    codes = _reasons(el)
    return f" ({', '.join(codes)})" if codes else ""


def _line(tx: ET.Element, where: str, sign: int, block: ET.Element, inherited_status: str | None,
          original_message: str | None, original_type: str,
          reported_on: dt.date | None) -> tuple[StatementLine, str | None]:
    ref = tx.find("OrgnlTxRef")
    amt_el = ref.find("Amt/InstdAmt") if ref is not None else None
    if amt_el is None and ref is not None:
        amt_el = ref.find("Amt/EqvtAmt/Amt")
    amt = isoxml.amount(amt_el, f"{where}: <InstdAmt>")
    reasons = _reasons(tx)
    details = [t for r in tx.findall("StsRsnInf") for t in isoxml.texts(r, "AddtlInf")]
    collection = sign > 0
    counterparty_role = "Dbtr" if collection else "Cdtr"
    own_role = "Cdtr" if collection else "Dbtr"
    accepted = isoxml.day(tx.find("AccptncDtTm"), f"{where}: <AccptncDtTm>")
    account = isoxml.first(ref, f"{own_role}Acct/Id/IBAN", f"{own_role}Acct/Id/Othr/Id")
    reference = isoxml.first(tx, "OrgnlEndToEndId", "OrgnlInstrId")
    status = isoxml.text(tx, "TxSts") or inherited_status
    if status is None:
        raise ValueError(f"{where}: no status (<TxSts>, <PmtInfSts> or <GrpSts>)")
    line = StatementLine(
        booked_on=accepted or reported_on,
        value_on=isoxml.day(ref.find("ReqdColltnDt") if ref is not None else None, f"{where}: <ReqdColltnDt>")
        or isoxml.day(ref.find("ReqdExctnDt") if ref is not None else None, f"{where}: <ReqdExctnDt>"),
        amount=None if amt is None else sign * amt[0],
        currency=None if amt is None else amt[1],
        reference=reference,
        counterparty=isoxml.first(ref, f"{counterparty_role}/Nm", f"{counterparty_role}/Pty/Nm"),
        description="; ".join(details) or None,
        status=status,
        reason=reasons[0] if reasons else None,
        raw={
            "original_message_id": original_message,
            "original_message_type": original_type or None,
            "original_payment_information_id": isoxml.text(block, "OrgnlPmtInfId"),
            "original_instruction_id": isoxml.text(tx, "OrgnlInstrId"),
            "original_end_to_end_id": isoxml.text(tx, "OrgnlEndToEndId"),
            "status_id": isoxml.text(tx, "StsId"),
            "mandate_id": isoxml.text(ref, "MndtRltdInf/MndtId"),
            "counterparty_account": isoxml.first(ref, f"{counterparty_role}Acct/Id/IBAN",
                                                 f"{counterparty_role}Acct/Id/Othr/Id"),
            "reasons": reasons,
            "transaction_count": 1,
        },
    )
    return line, account
