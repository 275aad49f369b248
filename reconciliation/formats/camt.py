"""ISO 20022 bank-to-customer statements (camt.053) and debit/credit notifications (camt.054).

Read with the standard library's ElementTree, namespace-agnostically, so one reader serves
every version from .001.02 to .001.08 (and later ones that keep the element names). No camt
parser on PyPI was both well kept and fit: `camt053` is pre-1.0 and pulls in a web-service
stack (FastAPI, uvicorn, cryptography) for what is a pure reader here, and `pycamt` reads
camt.053 only and flattens batches into copies of their entry.

One line per `<Ntry>`: an entry is what the bank booked and what the balances add up. A batch
entry (an agent's or kiosk's daily total, a direct-debit collection) stays one line whose
`raw["transactions"]` lists its `<TxDtls>` (reference, signed amount, parties, remittance) and
whose `raw["transaction_count"]` is the bank's `<NbOfTxs>`, or else the number of `<TxDtls>`:
the matcher can compare the total with the individual payments, or explode the list.

Sign: `<CdtDbtInd>` CRDT is +, DBIT is -; for a reversal (`<RvslInd>true`) it already gives
the direction of the reversing booking. Reference, first present of: the single transaction's
EndToEndId (unless NOTPROVIDED), its structured creditor reference, its AcctSvcrRef, TxId,
InstrId; a batch's PmtInfId or MsgId; the entry's AcctSvcrRef, NtryRef. Counterparty: the
debtor of a credit, the creditor of a debit (a batch: only if all its transactions agree).
Description: the unstructured remittance (`<Ustrd>` blocks joined), else the structured
AddtlRmtInf, AddtlTxInf, the entry's AddtlNtryInf.

Nothing is dropped silently: the number of lines must equal the number of `<Ntry>` elements
anywhere in the document, and a statement's own `<TxsSummry>` entry counts must agree.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from reconciliation.formats import isoxml
from reconciliation.formats.errors import StatementError
from reconciliation.formats.model import Statement, StatementLine
from reconciliation.formats.money import format_minor

NOT_PROVIDED = "NOTPROVIDED"

# fmt -> (message body element, repeated container, ISO family, what one container is called)
KINDS = {
    "camt053": ("BkToCstmrStmt", "Stmt", "camt.053", "statement"),
    "camt054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn", "camt.054", "notification"),
}


def parse_camt053(data: bytes, name: str) -> list[Statement]:
    """A camt.053 file -> one Statement per `<Stmt>`."""
    return _parse(data, name, "camt053")


def parse_camt054(data: bytes, name: str) -> list[Statement]:
    """A camt.054 file -> one Statement per `<Ntfctn>` (balances None unless the bank sends them)."""
    return _parse(data, name, "camt054")


def _parse(data: bytes, name: str, fmt: str) -> list[Statement]:
    body_tag, container_tag, family, noun = KINDS[fmt]
    doc, body = isoxml.message_body(data, name, body_tag=body_tag, family=family, what=f"{family} {noun}")
    root = doc.root
    containers = body.findall(container_tag)
    if not containers:
        raise StatementError(f"{name}: the file holds no <{container_tag}> ({noun}); nothing to read")

    problems: list[str] = []
    statements = [
        _statement(el, f"{name}: {noun} {i}", doc.message or family, problems)
        for i, el in enumerate(containers, start=1)
    ]
    if problems:
        raise StatementError(problems)

    # The guard: every <Ntry> in the document, wherever it sits, must have become a line.
    in_file = isoxml.count(root, "Ntry")
    read = sum(len(st.lines) for st in statements)
    if read != in_file:
        raise StatementError(f"{name}: the file has {in_file} <Ntry> entries but {read} were read "
                             f"(entries outside a <{container_tag}>?); refusing a partial result")
    return statements


def _statement(el: ET.Element, where: str, message: str, problems: list[str]) -> Statement:
    statement_id = isoxml.text(el, "Id")
    if statement_id:
        where = f"{where} ({statement_id})"
    account = isoxml.first(el, "Acct/Id/IBAN", "Acct/Id/Othr/Id")
    account_currency = isoxml.text(el, "Acct/Ccy")
    notes: list[str] = []

    balances: dict[str, tuple[int, str | None]] = {}
    for b in el.findall("Bal"):
        code = isoxml.first(b, "Tp/CdOrPrtry/Cd", "Tp/CdOrPrtry/Prtry") or "?"
        try:
            amt = isoxml.amount(b.find("Amt"), f"{where}: balance {code}")
            if amt is None:
                raise ValueError(f"{where}: balance {code}: <Amt> is missing")
            minor, currency = amt
            balances.setdefault(code, (isoxml.sign(isoxml.text(b, "CdtDbtInd"), f"{where}: balance {code}") * minor,
                                       currency))
        except ValueError as e:
            problems.append(str(e))

    entries = el.findall("Ntry")
    lines: list[StatementLine] = []
    for i, ntry in enumerate(entries, start=1):
        try:
            lines.append(_line(ntry, f"{where}: entry {i}", notes))
        except ValueError as e:
            problems.append(str(e))

    opening = balances.get("OPBD") or balances.get("PRCD")
    closing = balances.get("CLBD")
    currency = (account_currency or (opening or closing or (None, None))[1]
                or next((ln.currency for ln in lines if ln.currency), None))
    if opening is not None and opening[1] != currency:
        notes.append(f"opening balance {format_minor(*opening)} {opening[1]} is not in the statement "
                     f"currency {currency}; left out")
        opening = None
    if closing is not None and closing[1] != currency:
        notes.append(f"closing balance {format_minor(*closing)} {closing[1]} is not in the statement "
                     f"currency {currency}; left out")
        closing = None

    _check_summary(el, len(entries), where, problems)
    return Statement(
        account=account,
        currency=currency,
        opening_balance=opening[0] if opening else None,
        closing_balance=closing[0] if closing else None,
        statement_id=statement_id,
        lines=tuple(lines),
        message_type=message,
        number=isoxml.first(el, "LglSeqNb", "ElctrncSeqNb"),
        notes=tuple(notes),
    )


def _check_summary(el: ET.Element, entries: int, where: str, problems: list[str]) -> None:
    """The bank's own count of entries (`<TxsSummry>`) must match what the file holds.

    Skipped for one page of a paginated statement, whose summary may cover every page.
    """
    paginated = el.find("StmtPgntn")
    if paginated is None:
        paginated = el.find("NtfctnPgntn")
    if paginated is not None and not (isoxml.text(paginated, "PgNb") == "1"
                                      and isoxml.text(paginated, "LastPgInd") in ("true", "1")):
        return
    summary = el.find("TxsSummry")
    declared = isoxml.integer(summary, "TtlNtries/NbOfNtries")
    if declared is not None and declared != entries:
        problems.append(f"{where}: the statement's summary declares {declared} entries but it holds "
                        f"{entries}; refusing a partial result")


def _party(tx: ET.Element, role: str) -> str | None:
    return isoxml.first(tx, f"RltdPties/{role}/Nm", f"RltdPties/{role}/Pty/Nm",
                        f"RltdPties/Ultmt{role}/Nm", f"RltdPties/Ultmt{role}/Pty/Nm")


def _transaction(tx: ET.Element, entry_sign: int, where: str) -> dict[str, Any]:
    amt_el = tx.find("Amt")
    if amt_el is None:
        amt_el = tx.find("AmtDtls/TxAmt/Amt")
    amt = isoxml.amount(amt_el, f"{where}: <Amt>")
    indicator = isoxml.text(tx, "CdtDbtInd")
    tx_sign = isoxml.sign(indicator, where) if indicator else entry_sign
    ustrd = isoxml.texts(tx, "RmtInf/Ustrd")
    extra = isoxml.texts(tx, "RmtInf/Strd/AddtlRmtInf")
    return {
        "end_to_end_id": isoxml.text(tx, "Refs/EndToEndId"),
        "instruction_id": isoxml.text(tx, "Refs/InstrId"),
        "transaction_id": isoxml.text(tx, "Refs/TxId"),
        "payment_information_id": isoxml.text(tx, "Refs/PmtInfId"),
        "account_servicer_reference": isoxml.text(tx, "Refs/AcctSvcrRef"),
        "mandate_id": isoxml.text(tx, "Refs/MndtId"),
        "creditor_reference": isoxml.text(tx, "RmtInf/Strd/CdtrRefInf/Ref"),
        "amount": None if amt is None else tx_sign * amt[0],
        "currency": None if amt is None else amt[1],
        "debtor": _party(tx, "Dbtr"),
        "debtor_account": isoxml.first(tx, "RltdPties/DbtrAcct/Id/IBAN", "RltdPties/DbtrAcct/Id/Othr/Id"),
        "creditor": _party(tx, "Cdtr"),
        "creditor_account": isoxml.first(tx, "RltdPties/CdtrAcct/Id/IBAN", "RltdPties/CdtrAcct/Id/Othr/Id"),
        "remittance": " ".join(ustrd) or None,
        "additional_remittance": " ".join(extra) or None,
        "additional_info": isoxml.text(tx, "AddtlTxInf"),
        "return_reason": isoxml.first(tx, "RtrInf/Rsn/Cd", "RtrInf/Rsn/Prtry"),
    }


def _provided(value: str | None) -> str | None:
    return None if value is None or value.upper() == NOT_PROVIDED else value


def _first_of(*values: str | None) -> str | None:
    return next((v for v in values if v), None)


def _bank_code(ntry: ET.Element) -> str | None:
    domain = [isoxml.text(ntry, p) for p in ("BkTxCd/Domn/Cd", "BkTxCd/Domn/Fmly/Cd", "BkTxCd/Domn/Fmly/SubFmlyCd")]
    if all(domain):
        return "/".join(d for d in domain if d)
    return isoxml.text(ntry, "BkTxCd/Prtry/Cd")


def _line(ntry: ET.Element, where: str, notes: list[str]) -> StatementLine:
    amt = isoxml.amount(ntry.find("Amt"), f"{where}: <Amt>")
    if amt is None:
        raise ValueError(f"{where}: <Amt> is missing")
    minor, currency = amt
    if currency is None:
        raise ValueError(f"{where}: <Amt> has no Ccy (currency)")
    sign = isoxml.sign(isoxml.text(ntry, "CdtDbtInd"), where)
    amount = sign * minor

    txs = [_transaction(tx, sign, f"{where}: transaction {k}")
           for k, tx in enumerate(ntry.findall("NtryDtls/TxDtls"), start=1)]
    batches = [
        {
            "message_id": isoxml.text(b, "MsgId"),
            "payment_information_id": isoxml.text(b, "PmtInfId"),
            "declared_count": isoxml.integer(b, "NbOfTxs"),
            "total": isoxml.text(b, "TtlAmt"),
            "total_currency": (b.find("TtlAmt").get("Ccy") if b.find("TtlAmt") is not None else None),
        }
        for b in ntry.findall("NtryDtls/Btch")
    ]
    declared = None
    if batches and all(b["declared_count"] is not None for b in batches):
        declared = sum(b["declared_count"] for b in batches)
    if declared is not None and txs and declared != len(txs):
        notes.append(f"{where.split(': ', 1)[-1]}: the batch declares {declared} transactions "
                     f"but lists {len(txs)}")
    same_currency = [t["amount"] for t in txs if t["amount"] is not None and t["currency"] == currency]
    if txs and len(same_currency) == len(txs) and sum(same_currency) != amount:
        notes.append(f"{where.split(': ', 1)[-1]}: its transactions add up to "
                     f"{format_minor(sum(same_currency), currency)}, the entry is {format_minor(amount, currency)}")
    count = declared if declared is not None else (len(txs) or 1)
    batch = count > 1 or len(txs) > 1

    entry_ref = isoxml.text(ntry, "NtryRef")
    servicer_ref = isoxml.text(ntry, "AcctSvcrRef")
    extra_info = isoxml.text(ntry, "AddtlNtryInf")
    if not batch and txs:
        tx = txs[0]
        reference = _first_of(_provided(tx["end_to_end_id"]), tx["creditor_reference"],
                              _provided(tx["account_servicer_reference"]), _provided(tx["transaction_id"]),
                              _provided(tx["instruction_id"]), servicer_ref, entry_ref)
        counterparty = tx["debtor"] if sign > 0 else tx["creditor"]
        description = _first_of(tx["remittance"], tx["additional_remittance"], tx["additional_info"], extra_info)
    else:
        reference = _first_of(*(b["payment_information_id"] for b in batches),
                              *(b["message_id"] for b in batches), servicer_ref, entry_ref)
        role = "debtor" if sign > 0 else "creditor"
        parties = {t[role] for t in txs}
        counterparty = parties.pop() if len(parties) == 1 else None
        description = extra_info

    return StatementLine(
        booked_on=isoxml.day(ntry.find("BookgDt"), f"{where}: <BookgDt>"),
        value_on=isoxml.day(ntry.find("ValDt"), f"{where}: <ValDt>"),
        amount=amount,
        currency=currency,
        reference=reference,
        counterparty=counterparty,
        description=description,
        status=isoxml.first(ntry, "Sts/Cd", "Sts/Prtry", "Sts"),
        raw={
            "entry_reference": entry_ref,
            "account_servicer_reference": servicer_ref,
            "reversal": isoxml.text(ntry, "RvslInd") in ("true", "1"),
            "bank_transaction_code": _bank_code(ntry),
            "additional_info": extra_info,
            "batches": batches,
            "transaction_count": count,
            "transactions": txs,
        },
    )
