"""The contract's channel statement CSV: one channel account's payments for one business day.

Columns `channel_ref`, `customer_id`, `amount`, `paid_at`, optional `fee`; UTF-8 with or without
a BOM, a header row, columns in any order, extra columns ignored. Amounts are yuan with at most
two decimals, read exactly into fen; a negative amount is a reversal the channel reports, zero
is an error. `paid_at` is ISO 8601 with an offset. Every bad row is reported, as
`FILE:LINE: column: reason`, in one StatementError; nothing is returned unless all rows are good.

Each row is a line: `reference` = channel_ref, `customer_id`, `amount`, `fee`, `paid_at` (aware),
`booked_on` = `value_on` = the date of `paid_at` in the offset the channel wrote (the service
re-derives its business day in RECOVERY_TZ from `paid_at`). The file names no account and has no
balances: `account`, `statement_id` and both balances are None; the currency is CNY. Duplicate
channel_refs are kept: finding them is the matcher's job (a `duplicate` break).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from reconciliation.formats.errors import StatementError
from reconciliation.formats.model import Statement, StatementLine

CURRENCY = "CNY"
REQUIRED = ("channel_ref", "customer_id", "amount", "paid_at")
OPTIONAL = ("fee",)
MAX_FIELD = 10_000
MAX_ID = 64
# Yuan: optional minus, at most 13 integer digits, at most two decimals; no exponent, no separators.
YUAN = re.compile(r"(-?)(\d{1,13})(?:\.(\d{1,2}))?")


def _fen(text: str, *, signed: bool) -> int:
    m = YUAN.fullmatch(text)
    if not m or (m.group(1) and not signed):
        kind = "a" if signed else "a non-negative"
        raise ValueError(f"{text!r} is not {kind} yuan amount with at most two decimals")
    fen = int(m.group(2)) * 100 + int((m.group(3) or "0").ljust(2, "0"))
    return -fen if m.group(1) else fen


def _paid_at(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 timestamp") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{text!r} has no UTC offset (write e.g. 2026-11-22T09:15:00+08:00)")
    return value


def parse_channel_csv(data: bytes, name: str) -> list[Statement]:
    """A channel statement CSV -> a one-element list: its Statement with one line per row."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise StatementError(f"{name}:{line}: file: not UTF-8 text (byte {e.start})") from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise StatementError(f"{name}:{line}: file: contains a NUL byte; not a CSV file")

    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as e:
        raise StatementError(f"{name}:1: header: {e}") from None
    if not header or not any(h.strip() for h in header):
        raise StatementError(f"{name}:1: header: the file is empty; expected a header row with "
                             f"{', '.join(REQUIRED)}")
    header = [h.strip() for h in header]
    problems = [f"{name}:1: {c}: missing column" for c in REQUIRED if c not in header]
    problems += [f"{name}:1: {c}: column appears more than once"
                 for c in REQUIRED + OPTIONAL if header.count(c) > 1]
    if problems:
        raise StatementError(problems)
    col = {c: header.index(c) for c in REQUIRED + OPTIONAL if c in header}

    lines: list[StatementLine] = []
    start = reader.line_num + 1
    try:
        for record in reader:
            if record and any(f.strip() for f in record):  # a blank line is no record
                line = _row(record, col, len(header), name, start, problems)
                if line is not None:
                    lines.append(line)
            start = reader.line_num + 1
    except csv.Error as e:
        problems.append(f"{name}:{start}: row: {e}")
    if problems:
        raise StatementError(problems)
    return [Statement(account=None, currency=CURRENCY, opening_balance=None, closing_balance=None,
                      statement_id=None, lines=tuple(lines), message_type="channel-csv")]


def _row(record: list[str], col: dict[str, int], width: int, name: str, line_no: int,
         problems: list[str]) -> StatementLine | None:
    where = f"{name}:{line_no}"
    if len(record) != width:
        problems.append(f"{where}: row: expected {width} fields, found {len(record)}")
        return None
    field = {c: record[i].strip() for c, i in col.items()}
    before = len(problems)
    for c in ("channel_ref", "customer_id"):
        if not field[c]:
            problems.append(f"{where}: {c}: required")
        elif len(field[c]) > MAX_ID:
            problems.append(f"{where}: {c}: longer than {MAX_ID} characters")
    amount = fee = paid_at = None
    try:
        amount = _fen(field["amount"], signed=True) if field["amount"] else None
        if amount is None:
            problems.append(f"{where}: amount: required")
        elif amount == 0:
            problems.append(f"{where}: amount: must not be zero")
    except ValueError as e:
        problems.append(f"{where}: amount: {e}")
    if field.get("fee"):
        try:
            fee = _fen(field["fee"], signed=False)
        except ValueError as e:
            problems.append(f"{where}: fee: {e}")
    if not field["paid_at"]:
        problems.append(f"{where}: paid_at: required")
    else:
        try:
            paid_at = _paid_at(field["paid_at"])
        except ValueError as e:
            problems.append(f"{where}: paid_at: {e}")
    if len(problems) > before or paid_at is None:
        return None
    return StatementLine(
        booked_on=paid_at.date(),
        value_on=paid_at.date(),
        amount=amount,
        currency=CURRENCY,
        reference=field["channel_ref"],
        counterparty=None,
        description=None,
        customer_id=field["customer_id"],
        fee=fee,
        paid_at=paid_at,
        raw={"line": line_no, "transaction_count": 1},
    )
