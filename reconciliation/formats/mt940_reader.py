"""The project's own small MT940 reader: `:20:` statements, their balances, and every `:61:` entry with its `:86:`.

It exists for the files WoLpH's mt-940 misreads (see reconciliation/formats/mt940.py): older formats
whose :61: carries no transaction type code (an old Rabobank export, a Nigerian bank's `CN220000,00//…`),
a `.` as the decimal separator, a `:28:` instead of `:28C:`, or a garbled available balance (:64:/:65:)
that makes the library give up on the whole file. Those balances are not entries and are not read here.

What it reads, per SWIFT MT940:

    :20:  statement reference            :60F:/:60M:  opening balance  D/C YYMMDD CCY amount
    :25:  account                        :62F:/:62M:  closing balance
    :28:/:28C: statement/sequence number :34F:        floor limit (MT942: gives the currency)
    :61:  6!n[4!n]2a[1!a]15d[1!a3!c]16x[//16x][\\n34x]   (type code optional, as old files write it)
    :86:  the entry's details (several :86: tags after one :61: are joined); German structured
          details (`?00` posting text, `?20`–`?29` purpose with `EREF+`, `?32`/`?33` name) are split.

Its entries are returned as plain field dicts; reconciliation/formats/mt940.py maps them to lines
exactly as it maps the library's, and tests check both readers agree on every file the library reads.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

_TAG = re.compile(r"^:(\d\d[A-Z]?|[A-Z]{2}):(.*)$")  # :NS: is a German bank's own tag
_ENTRY = re.compile(
    r"""^(?P<value>\d{6})
        (?P<entry>\d{4}|\s{4})?
        (?P<mark>R?[CD])
        (?P<funds>[A-Z])?
        \n?
        (?P<amount>\d[\d,.]*)
        (?P<type>[NSF][A-Z0-9 ]{3})?
        (?P<cref>(?:(?!//)[^\n]){0,16})
        (?://(?P<bref>[^\n]{0,23}))?
        \n?(?P<extra>[\s\S]*)$""", re.VERBOSE)
NUMBER = re.compile(r"^(\d{1,5})/?(\d{1,5})?$")
# Statement header tags are one line; what follows them (a trailer, the next message's header) is not theirs.
_ONE_LINE = {"20", "25", "28", "28C", "60F", "60M", "62F", "62M", "64", "65", "34F", "90D", "90C", "13D"}
_BALANCE = re.compile(r"^(?P<mark>[CD])(?P<date>\d{6})(?P<currency>[A-Z]{3})(?P<amount>\d[\d,.]*)\s*$")
_FLOOR = re.compile(r"^(?P<currency>[A-Z]{3})(?P<mark>[CD])?(?P<amount>\d[\d,.]*)\s*$")
_SUMS = re.compile(r"^(?P<count>\d+)(?P<currency>[A-Z]{3})(?P<amount>\d[\d,.]*)\s*$")
_SEPA_KEYS = {"EREF": "end_to_end_reference", "SVWZ": "purpose"}
# Half a year apart in the other direction: the entry date belongs to the neighbouring year.
_YEAR_BOUNDARY_DAYS = 330


@dataclass
class Block:
    """One statement as read: its tags by name and its entries in file order."""

    fields: dict[str, str] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)


def amount(text: str) -> Decimal:
    """`1234,56` or (old exports) `1234.56` -> Decimal; ValueError for anything else."""
    text = text.strip()
    if text.count(",") + text.count(".") > 1 or not text[:1].isdigit():
        raise ValueError(f"not an MT940 amount: {text!r}")
    try:
        return Decimal(text.replace(",", ".").rstrip(".") or "0")
    except InvalidOperation:
        raise ValueError(f"not an MT940 amount: {text!r}") from None


def _date(text: str) -> dt.date:
    return _day(2000 + int(text[:2]), int(text[2:4]), int(text[4:6]))


def _day(year: int, month: int, day: int) -> dt.date:
    """Some German banks date interest to the 30th of every month, February too: the month's last day."""
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day, last))


def tags(text: str) -> list[tuple[str, str]]:
    """(tag, value) in file order; a line that opens no tag continues the one before it."""
    out: list[tuple[str, str]] = []
    # \x1a: the DOS end-of-file mark old exports still end with.
    for raw in text.replace("\x1a", "").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        m = _TAG.match(line)
        if m:
            out.append((m.group(1), m.group(2)))
        elif out and line and line != "-" and not line.startswith(("-}", "{")):
            tag, value = out[-1]
            out[-1] = (tag, f"{value}\n{raw.rstrip()}")
    return out


def balance(value: str) -> dict[str, Any]:
    m = _BALANCE.match(value.strip())
    if not m:
        raise ValueError(f"not a balance (D/C, YYMMDD, currency, amount): {value.strip()!r}")
    signed = amount(m["amount"]) * (-1 if m["mark"] == "D" else 1)
    return {"amount": signed, "currency": m["currency"], "date": _date(m["date"])}


def sums(value: str) -> dict[str, Any]:
    m = _SUMS.match(value.strip())
    if not m:
        raise ValueError(f"not an entry count and sum: {value.strip()!r}")
    return {"number": int(m["count"]), "amount": amount(m["amount"]), "currency": m["currency"]}


def entry(value: str, currency: str | None) -> dict[str, Any]:
    """One :61: -> the fields mt940.py maps to a line (the library's names)."""
    m = _ENTRY.match(value.strip("\n"))
    if not m:
        raise ValueError(f"not an MT940 entry: {value.splitlines()[0][:60]!r}")
    value_on = _date(m["value"])
    booked_on = None
    if m["entry"] and m["entry"].strip():
        booked_on = _day(value_on.year, int(m["entry"][:2]), int(m["entry"][2:]))
        if (value_on - booked_on).days >= _YEAR_BOUNDARY_DAYS:
            booked_on = booked_on.replace(year=booked_on.year + 1)
        elif (booked_on - value_on).days >= _YEAR_BOUNDARY_DAYS:
            booked_on = booked_on.replace(year=booked_on.year - 1)
    # C and RD add to the account; D and RC take from it.
    sign = 1 if m["mark"] in ("C", "RD") else -1
    return {
        "date": value_on, "entry_date": booked_on, "status": m["mark"], "funds_code": m["funds"],
        "amount": amount(m["amount"]) * sign, "currency": currency, "id": m["type"],
        "customer_reference": (m["cref"] or "").strip() or None, "bank_reference": (m["bref"] or "").strip() or None,
        "extra_details": (m["extra"] or "").strip() or None,
    }


def details(text: str) -> dict[str, str | None]:
    """A :86: text -> transaction_details, and where the bank structures it, posting text, purpose,
    end-to-end reference and the counterparty's name."""
    flat = text.replace("\n", "")
    out: dict[str, str | None] = {"transaction_details": text.strip() or None}
    if re.match(r"^\d{3}\?", flat):
        parts = {}
        for chunk in flat.split("?")[1:]:
            key, val = chunk[:2], chunk[2:]
            parts.setdefault(key, []).append(val)
        purpose = "".join(v for k in sorted(parts) if k.startswith("2") for v in parts[k])
        out["posting_text"] = "".join(parts.get("00", [])) or None
        out["applicant_name"] = "".join(parts.get("32", []) + parts.get("33", [])) or None
        out.update(_sepa(purpose))
    else:
        out.update(_sepa(flat) if re.search(r"\b(EREF|SVWZ)\+", flat) else {"purpose": None})
    return out


def _sepa(purpose: str) -> dict[str, str | None]:
    """`EREF+…SVWZ+…`: the end-to-end reference and the remittance text; plain text is all purpose."""
    found: dict[str, str | None] = {"purpose": None, "end_to_end_reference": None}
    pieces = re.split(r"([A-Z]{4})\+", purpose)
    if len(pieces) == 1:
        found["purpose"] = purpose.strip() or None
        return found
    lead = pieces[0].strip()
    for key, val in zip(pieces[1::2], pieces[2::2], strict=True):
        name = _SEPA_KEYS.get(key)
        if name and not found[name]:
            found[name] = val.strip() or None
    if not found["purpose"] and lead:
        found["purpose"] = lead
    return found


def read(text: str) -> list[Block]:
    """Every :20: statement with its fields and entries; ValueError naming the first tag it cannot read."""
    blocks: list[Block] = []
    currency: str | None = None
    for tag, value in tags(text):
        if tag in _ONE_LINE:
            value = value.split("\n", 1)[0]
        if tag == "20":
            blocks.append(Block(fields={"20": value.strip()[:16]}))
            currency = None
            continue
        if not blocks:
            if tag == "61":
                raise ValueError(":61: entry before the first :20: statement")
            continue
        block = blocks[-1]
        where = f"statement {len(blocks)} (:20:{block.fields['20']})"
        try:
            if tag in ("60F", "60M", "62F", "62M"):
                bal = balance(value)
                block.fields.setdefault(tag[:2], value)
                block.fields[tag] = value
                currency = currency or bal["currency"]
            elif tag == "34F":
                m = _FLOOR.match(value.strip())
                currency = currency or (m["currency"] if m else None)
                block.fields[tag] = value
            elif tag == "61":
                block.entries.append({"raw": value})
            elif tag == "86":
                if block.entries:
                    prior = block.entries[-1].get("details")
                    block.entries[-1]["details"] = f"{prior}\n{value}" if prior else value
                else:
                    block.fields["86"] = value
            else:
                block.fields.setdefault(tag, value)
        except ValueError as e:
            raise ValueError(f"{where}: :{tag}: {e}") from None
        block.fields["currency"] = currency or ""
    for i, block in enumerate(blocks, start=1):
        currency = block.fields.get("currency") or None
        parsed = []
        for k, raw in enumerate(block.entries, start=1):
            try:
                one = entry(raw["raw"], currency)
            except ValueError as e:
                raise ValueError(f"statement {i} (:20:{block.fields['20']}) entry {k}: {e}") from None
            if raw.get("details"):
                one.update(details(raw["details"]))
            parsed.append(one)
        block.entries = parsed
    return blocks
