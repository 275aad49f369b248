"""SWIFT MT940 customer statements and MT942 interim reports, read by WoLpH's `mt-940` package.

The package does the tag parsing (with every opt-in fix of `mt940.Options.all()`: a reversal of
a credit, RC, is a debit; a BOM is dropped; long :86: details are kept). This module maps its
result to our lines and refuses what it would get wrong:

- Popular MT940 parsers drop entries silently on some banks' files; mt-940 5.1 does too: a
  :61: without its transaction type code (NTRF, NMSC, ...) is overwritten by the next :61:.
  So the `:61:` tags of each statement (from one `:20:` to the next) are counted again from the
  raw text, line by line. A parse that returns fewer or more entries (or any file the library cannot
  read, or one that writes '.' decimals, which it cuts off) goes to the project's own small reader
  (mt940_reader.py), whose result must hold every entry too; the statements then carry a note saying
  so. Only a file neither reader takes whole is refused, with both reasons.
- MT942 (interim) has no opening/closing balance: both are None. Its :90D:/:90C: (number and
  sum of debit/credit entries), like any :90: in an MT940, must agree with the lines read.

Line mapping: `booked_on` is the :61: entry date (MMDD, year resolved by the parser) or else
the value date; `value_on` the value date; `amount` signed by the D/C mark (C, RD +; D, RC -).
`reference`: the :61: customer reference unless NONREF, else the SEPA end-to-end reference
(EREF) from :86:, else the bank reference after `//`. `counterparty`: the :86: applicant name
where the bank structures it (German ?32/?33). `description`: the :86: purpose, else its posting
text (German ?00), else the whole :86: text.

Dialects: ASN Bank (sender BIC ASNBNL21) writes the counterparty IBAN into the customer-reference
field and the name on the next line; its files are read with mt-940's StatementASNB tag, the
IBAN left out of `reference` and the name taken as counterparty.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import replace
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import mt940

from reconciliation.formats import mt940_reader as reader
from reconciliation.formats.errors import StatementError
from reconciliation.formats.model import Statement, StatementLine
from reconciliation.formats.money import format_minor, to_minor

DIALECTS: dict[str, type[mt940.tags.Statement]] = {
    "asnb": mt940.tags.StatementASNB,
    "gls": mt940.tags.StatementGLS,
}
# Banks recognised by the sender BIC in the SWIFT basic header block {1:F01BBBBCCLL...}.
SENDER_DIALECTS = {"ASNBNL21": "asnb"}
_SENDER = re.compile(r"\{1:F01([A-Z0-9]{8})")
_MESSAGE_TYPE = re.compile(r"\{2:O(9\d\d)")
NO_REFERENCE = {"", "NONREF", "NOTPROVIDED"}

OPENING = ("final_opening_balance", "intermediate_opening_balance", "opening_balance")
CLOSING = ("final_closing_balance", "intermediate_closing_balance", "closing_balance")
BOM = b"\xef\xbb\xbf"
# A balance or an entry amount with a '.' decimal separator (old exports): mt-940 stops at the '.'.
_DOT_AMOUNT = re.compile(r"^:(?:6[02][FM]|6[45]):[CD]\d{6}[A-Z]{3}\d+\.\d|^:61:\d{6}(?:\d{4})?R?[CD][A-Z]?\d+\.\d",
                         re.MULTILINE)


def count_entries(text: str) -> list[tuple[str, int]]:
    """(:20: reference, number of :61: tags) per statement, counted from the raw text alone.

    A :61: before any :20: is counted in a statement of its own, which the parser never
    produces, so such a file is refused rather than half-read.
    """
    blocks: list[tuple[str, int]] = []
    for line in text.split("\n"):
        # \x1a, DOS's end-of-file mark, starts the line after it where two exports were joined.
        tag = line.strip(" \t\r\x1a")
        if tag.startswith(":20:"):
            blocks.append((tag[4:].strip(), 0))
        elif tag.startswith(":61:"):
            if not blocks:
                blocks.append(("(before the first :20:)", 0))
            ref, n = blocks[-1]
            blocks[-1] = (ref, n + 1)
    return blocks


def parse_mt940(data: bytes, name: str, *, dialect: str | None = None,
                encoding: str | None = None) -> list[Statement]:
    """An MT940 or MT942 file -> one Statement per :20: block, every :61: a line.

    `dialect` forces a bank's :61: variant ("asnb", "gls"); by default it is chosen from the
    sender BIC. `encoding` is tried first for the text (then UTF-8, then cp852, mt-940's order).
    """
    data = data.removeprefix(BOM)
    # Latin-1 maps every byte to one character, so lines and the ASCII tags are found exactly.
    text = data.decode("latin-1")
    expected = count_entries(text)
    if not expected:
        raise StatementError(f"{name}: not an MT940/MT942 file: no statement (:20: tag at the start of a line) found")

    if dialect is None:
        sender = _SENDER.search(text)
        dialect = SENDER_DIALECTS.get(sender.group(1)) if sender else None
    if dialect is not None and dialect not in DIALECTS:
        raise StatementError(f"{name}: unknown MT940 dialect {dialect!r}; known: {', '.join(sorted(DIALECTS))}")
    tags = {61: DIALECTS[dialect]()} if dialect else None
    header_type = _MESSAGE_TYPE.search(text)

    message_type = header_type.group(1) if header_type else None
    try:
        if _DOT_AMOUNT.search(text):
            raise StatementError(f"{name}: amounts are written with '.' as the decimal separator, which the "
                                 "library reads as whole units")
        parsed = mt940.parse_statements(io.BytesIO(data), encoding=encoding, tags=tags,
                                        options=mt940.Options.all())
        _guard(parsed, expected, name)
        return _library_statements(parsed, name, dialect, message_type)
    except Exception as e:  # mt-940 raises RuntimeError, ValueError, decimal errors... on bad input
        if isinstance(e, StatementError):
            library = "; ".join(p.removeprefix(f"{name}: ") for p in e.problems)
        else:
            library = f"not a readable MT940 file: {_describe(e)}"
    # The library misread the file: the project's own reader takes it whole, or nobody does.
    try:
        statements = own_statements(data, dialect=dialect, encoding=encoding, message_type=message_type)
    except ValueError as e:
        if str(e) == library:  # both readers read the file alike and find the same fault in it
            raise StatementError(f"{name}: {e}") from None
        raise StatementError(f"{name}: no MT940 reader takes this file whole: the library: {library}; "
                             f"the project's reader: {e}") from None
    got = [len(st.lines) for st in statements]
    if got != [n for _, n in expected]:
        raise StatementError(f"{name}: no MT940 reader takes this file whole: the library: {library}; "
                             f"the project's reader: {sum(got)} of {sum(n for _, n in expected)} :61: entries")
    note = f"read by the project's MT940 reader, not the library: {library}"
    return [replace(st, notes=(*st.notes, note)) for st in statements]


def _library_statements(parsed: list[Any], name: str, dialect: str | None,
                        message_type: str | None) -> list[Statement]:
    statements: list[Statement] = []
    problems: list[str] = []
    for i, block in enumerate(parsed, start=1):
        where = f"{name}: statement {i} (:20:{block.data.get('transaction_reference') or ''})"
        try:
            statements.append(_statement(block, where, dialect, message_type))
        except ValueError as e:
            problems.append(str(e))
    if problems:
        raise StatementError(problems)
    return statements


def own_statements(data: bytes, *, dialect: str | None = None, encoding: str | None = None,
                   message_type: str | None = None) -> list[Statement]:
    """The file read by the project's reader (reconciliation/formats/mt940_reader.py) alone.

    ValueError says what it cannot read. mt940.py tries the library first; tests compare the two.
    """
    text = _decode(data.removeprefix(BOM), encoding)
    statements = []
    for i, block in enumerate(reader.read(text), start=1):
        f = block.fields
        where = f"statement {i} (:20:{f['20']})"
        currency = f.get("currency") or None
        opening = _own_balance(f, ("60F", "60M"), where)
        closing = _own_balance(f, ("62F", "62M"), where)
        for label, bal in (("opening", opening), ("closing", closing)):
            if bal is not None and bal[1] != currency:
                raise ValueError(f"{where}: the {label} balance is in {bal[1]}, the statement in {currency}")
        interim = opening is None and closing is None and (message_type == "942" or "34F" in f or "13D" in f)
        lines = [_line(d, f"{where}: entry {k}", dialect) for k, d in enumerate(block.entries, start=1)]
        try:
            declared = [SimpleNamespace(**reader.sums(f[t])) if t in f else None for t in ("90D", "90C")]
        except ValueError as e:
            raise ValueError(f"{where}: :90: {e}") from None
        _check_sums({"sum_debit_entries": declared[0], "sum_credit_entries": declared[1]}, lines, currency, where)
        number = (f.get("28C") or f.get("28") or "").strip() or None
        parts = reader.NUMBER.match(number or "")
        if parts:
            number = "/".join(p for p in parts.groups() if p)
        statements.append(Statement(
            account=(f.get("25") or "").strip() or None, currency=currency,
            opening_balance=opening[0] if opening else None, closing_balance=closing[0] if closing else None,
            statement_id=f["20"] or None, lines=tuple(lines), message_type="MT942" if interim else "MT940",
            number=number))
    return statements


def _decode(data: bytes, encoding: str | None) -> str:
    """mt-940's order: the encoding asked for, UTF-8, then cp852."""
    for enc in (encoding, "utf-8", "cp852"):
        if enc:
            try:
                return data.decode(enc)
            except (UnicodeDecodeError, LookupError):
                continue
    return data.decode("latin-1")


def _own_balance(f: dict[str, str], keys: tuple[str, ...], where: str) -> tuple[int, str] | None:
    for key in keys:
        if key in f:
            try:
                bal = reader.balance(f[key])
                return to_minor(bal["amount"], bal["currency"]), bal["currency"]
            except ValueError as e:
                raise ValueError(f"{where}: :{key}: {e}") from None
    return None


def _describe(e: Exception) -> str:
    args = getattr(e, "args", ())
    if isinstance(e, RuntimeError) and len(args) >= 3 and isinstance(args[1], mt940.tags.Tag):
        return f"cannot read tag :{args[1].id}: {str(args[2])[:80]!r}"
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def _guard(parsed: list[Any], expected: list[tuple[str, int]], name: str) -> None:
    """Refuse a parse that lost (or invented) a statement or an entry."""
    got = [len(block) for block in parsed]
    if len(got) != len(expected):
        raise StatementError(
            f"{name}: the file has {len(expected)} statements with {sum(n for _, n in expected)} :61: entries, "
            f"but the MT940 parser returned {len(got)} statements with {sum(got)}; refusing a partial result")
    for i, ((ref, want), n) in enumerate(zip(expected, got, strict=True), start=1):
        if n != want:
            raise StatementError(
                f"{name}: statement {i} (:20:{ref}) has {want} :61: entries but the MT940 parser returned {n}; "
                "refusing a partial result (an entry without its transaction type code, such as NTRF, "
                "is a known cause)")


def _balance(block: Any, keys: tuple[str, ...], where: str) -> tuple[int, str] | None:
    for key in keys:
        balance = block.data.get(key)
        if balance is not None and hasattr(balance.amount, "amount"):
            currency = balance.amount.currency
            try:
                return to_minor(balance.amount.amount, currency), currency
            except ValueError as e:
                raise ValueError(f"{where}: {key.replace('_', ' ')}: {e}") from None
    return None


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, mt940.models.Amount):
        return str(value.amount)
    return str(value)


def _statement(block: Any, where: str, dialect: str | None, header_type: str | None) -> Statement:
    d = block.data
    opening = _balance(block, OPENING, where)
    closing = _balance(block, CLOSING, where)
    interim = opening is None and closing is None and (header_type == "942" or "date" in d
                                                        or "c_floor_limit" in d or "d_floor_limit" in d)
    currency = block.currency or next((t.data.get("currency") for t in block if t.data.get("currency")), None)
    for label, bal in (("opening", opening), ("closing", closing)):
        if bal is not None and bal[1] != currency:
            raise ValueError(f"{where}: the {label} balance is in {bal[1]}, the statement in {currency}")

    lines = [_line(_fields(t.data), f"{where}: entry {k}", dialect) for k, t in enumerate(block, start=1)]
    _check_sums(d, lines, currency, where)
    number = d.get("statement_number")
    if number and d.get("sequence_number"):
        number = f"{number}/{d['sequence_number']}"
    return Statement(
        account=d.get("account_identification"),
        currency=currency,
        opening_balance=opening[0] if opening else None,
        closing_balance=closing[0] if closing else None,
        statement_id=d.get("transaction_reference"),
        lines=tuple(lines),
        message_type="MT942" if interim else "MT940",
        number=number,
    )


def _check_sums(d: dict[str, Any], lines: list[StatementLine], currency: str | None, where: str) -> None:
    """:90D:/:90C: give the number and total of debit and credit entries; they must match."""
    sums = [d.get("sum_debit_entries"), d.get("sum_credit_entries")]
    if all(s is None for s in sums):
        return
    debit, credit = ((int(s.number), abs(to_minor(s.amount, s.currency or currency))) if s is not None else (0, 0)
                     for s in sums)
    count = debit[0] + credit[0]
    net = credit[1] - debit[1]
    total = sum(ln.amount or 0 for ln in lines)
    if count != len(lines) or net != total:
        raise ValueError(
            f"{where}: :90D:/:90C: declare {count} entries netting {format_minor(net, currency)}, the file holds "
            f"{len(lines)} netting {format_minor(total, currency)}; refusing a partial result")


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    """The library's transaction data with the amount as a signed Decimal and its currency beside it."""
    d = dict(data)
    amount = d.get("amount")
    if isinstance(amount, mt940.models.Amount):
        d["amount"], d["currency"] = amount.amount, amount.currency
    return d


def _line(d: dict[str, Any], where: str, dialect: str | None) -> StatementLine:
    """One entry's fields (the library's names, as either reader gives them) -> a line."""
    amount = d.get("amount")
    if amount is None or not isinstance(amount, Decimal):
        raise ValueError(f"{where}: no amount")
    currency = d.get("currency")
    if not currency:
        raise ValueError(f"{where}: no currency (the statement has no balance or floor limit to take it from)")
    try:
        minor = to_minor(amount, currency)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None

    type_code = d.get("id") or ""
    customer_ref = (d.get("customer_reference") or "").strip()
    if (type_code + customer_ref).upper() in NO_REFERENCE:
        # "...D20,00NONREF" with no type code: the parser reads NONR as the type and EF as the
        # reference (Penta writes its lines so); there is no reference.
        customer_ref = ""
    if dialect == "asnb":
        customer_ref = ""  # ASN Bank's customer-reference field holds the counterparty IBAN
    end_to_end = (d.get("end_to_end_reference") or "").strip()
    reference = next((r for r in (customer_ref, end_to_end, (d.get("bank_reference") or "").strip())
                      if r and r.upper() not in NO_REFERENCE), None)
    counterparty = d.get("applicant_name") or (d.get("extra_details") if dialect == "asnb" else None) or None
    description = (d.get("purpose") or d.get("posting_text") or d.get("transaction_details")
                   or d.get("extra_details") or None)

    value_on = d.get("date")
    booked_on = d.get("entry_date") or value_on
    return StatementLine(
        booked_on=dt.date(booked_on.year, booked_on.month, booked_on.day) if booked_on else None,
        value_on=dt.date(value_on.year, value_on.month, value_on.day) if value_on else None,
        amount=minor,
        currency=currency,
        reference=reference,
        counterparty=counterparty.strip() if counterparty else None,
        description=description.strip() if description else None,
        raw={k: _jsonable(v) for k, v in d.items() if v not in (None, "") and k != "guessed_entry_date"},
    )
