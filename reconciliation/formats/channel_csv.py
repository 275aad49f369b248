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

import numpy as np
import pandas as pd

from reconciliation.formats.errors import StatementError
from reconciliation.formats.model import TEXT, Statement, StatementLine
from reconciliation.formats.money import yuan_column

CURRENCY = "CNY"
REQUIRED = ("channel_ref", "customer_id", "amount", "paid_at")
OPTIONAL = ("fee",)
MAX_FIELD = 10_000
MAX_ID = 64
# Yuan: optional minus, at most 13 integer digits, at most two decimals; no exponent, no separators.
YUAN = re.compile(r"(-?)(\d{1,13})(?:\.(\d{1,2}))?", re.ASCII)  # ASCII digits only, as the imports read them


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


def _records(data: bytes, name: str) -> tuple[list[list[str]], list[int], dict[str, int], list[tuple[int, int, str]]]:
    """The file's non-blank records of the header's width, their line numbers, where each column is, and
    the problems found so far as (line, rank, message); raises at once for a file that is no channel CSV."""
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
    missing = [f"{name}:1: {c}: missing column" for c in REQUIRED if c not in header]
    missing += [f"{name}:1: {c}: column appears more than once"
                for c in REQUIRED + OPTIONAL if header.count(c) > 1]
    if missing:
        raise StatementError(missing)
    col = {c: header.index(c) for c in REQUIRED + OPTIONAL if c in header}

    width = len(header)
    records: list[list[str]] = []
    numbers: list[int] = []
    problems: list[tuple[int, int, str]] = []
    start = reader.line_num + 1
    try:
        for record in reader:
            if len(record) == width:
                records.append(record)
                numbers.append(start)
            elif record and any(f.strip() for f in record):  # a blank line is no record
                problems.append((start, 0, f"row: expected {width} fields, found {len(record)}"))
            start = reader.line_num + 1
    except csv.Error as e:
        problems.append((start, 0, f"row: {e}"))
    return records, numbers, col, problems


def _column(records: list[list[str]], index: int | None) -> pd.Series:
    """One column of the records, stripped (empty where the file has no such column)."""
    if index is None:
        return pd.Series([""] * len(records), dtype=object)
    return pd.Series([r[index] for r in records], dtype=object).str.strip()


def _yuan(values: pd.Series, *, signed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Column-wise _fen: (fen, mask of the values that are amounts); others are told by _fen itself."""
    return yuan_column(values, signed=signed)


# The usual shape of paid_at, read column-wise; anything else is read (or refused) by _paid_at, value by value.
_INSTANT = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})"


def _instants(values: pd.Series, where: np.ndarray, problems: list[tuple[int, int, str]],
              numbers: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """(paid_at in UTC, the date the channel wrote) for the non-empty values at `where`."""
    n = len(values)
    text = values.astype(TEXT)
    usual = text.str.fullmatch(_INSTANT).fillna(False).to_numpy(dtype=bool) & where
    at = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    if usual.any():
        at[usual] = pd.to_datetime(text[usual].astype(object), format="ISO8601", utc=True, errors="coerce")
    written = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    written[usual] = pd.to_datetime(text[usual].str.slice(0, 10).astype(object), format="%Y-%m-%d", errors="coerce")
    rest = where & (~usual | at.isna().to_numpy() | written.isna().to_numpy())
    for i in np.flatnonzero(rest):
        try:
            value = _paid_at(values.iat[i])
        except ValueError as e:
            problems.append((int(numbers[i]), 5, f"paid_at: {e}"))
            continue
        at.iat[i] = pd.Timestamp(value).tz_convert("UTC")
        written.iat[i] = pd.Timestamp(value.date())
    assert len(at) == n
    return at, written


def read_channel_csv(data: bytes, name: str) -> pd.DataFrame:
    """A channel statement CSV -> its lines as a frame in `to_frame`'s shape, read column by column.

    Every bad row is reported, as for `parse_channel_csv`, in one StatementError; nothing is returned
    unless all rows are good. `paid_text` keeps each paid_at as written (its offset included).
    """
    records, numbers_list, col, problems = _records(data, name)
    numbers = np.asarray(numbers_list, dtype="int64")
    ref, customer = _column(records, col["channel_ref"]), _column(records, col["customer_id"])
    amount_text, paid_text = _column(records, col["amount"]), _column(records, col["paid_at"])
    fee_text = _column(records, col.get("fee"))
    for rank, c, values in ((1, "channel_ref", ref), (2, "customer_id", customer)):
        lengths = values.str.len().to_numpy()
        problems += [(int(numbers[i]), rank, f"{c}: required") for i in np.flatnonzero(lengths == 0)]
        problems += [(int(numbers[i]), rank, f"{c}: longer than {MAX_ID} characters")
                     for i in np.flatnonzero(lengths > MAX_ID)]
    amount, amount_ok = _yuan(amount_text, signed=True)
    amount_given = (amount_text != "").to_numpy(dtype=bool)
    problems += [(int(numbers[i]), 3, "amount: required") for i in np.flatnonzero(~amount_given)]
    for i in np.flatnonzero(amount_given & ~amount_ok):
        problems.append((int(numbers[i]), 3, f"amount: {_error(amount_text.iat[i], signed=True)}"))
    problems += [(int(numbers[i]), 3, "amount: must not be zero") for i in np.flatnonzero(amount_ok & (amount == 0))]
    fee, fee_ok = _yuan(fee_text, signed=False)
    fee_given = (fee_text != "").to_numpy(dtype=bool)
    for i in np.flatnonzero(fee_given & ~fee_ok):
        problems.append((int(numbers[i]), 4, f"fee: {_error(fee_text.iat[i], signed=False)}"))
    paid_given = (paid_text != "").to_numpy(dtype=bool)
    problems += [(int(numbers[i]), 5, "paid_at: required") for i in np.flatnonzero(~paid_given)]
    at, written = _instants(paid_text, paid_given, problems, numbers)
    if problems:
        raise StatementError([f"{name}:{line}: {message}" for line, _rank, message in sorted(problems)])

    n = len(records)
    none = pd.Series([None] * n, dtype=object).astype(TEXT)
    frame = pd.DataFrame({
        "statement_index": np.zeros(n, dtype="int64"),
        "statement_id": none, "account": none,
        "message_type": pd.Series(["channel-csv"] * n, dtype=object).astype(TEXT),
        "line_index": np.arange(n, dtype="int64"),
        "booked_on": written, "value_on": written,
        "amount": pd.array(amount, dtype="Int64"),
        "currency": pd.Series([CURRENCY] * n, dtype=object).astype(TEXT),
        "reference": ref.astype(TEXT), "counterparty": none, "description": none,
        "customer_id": customer.astype(TEXT),
        "fee": pd.Series(fee, dtype="Int64").mask(~fee_given),
        "paid_at": at, "status": none, "reason": none,
        "transaction_count": np.ones(n, dtype="int64"),
        "raw": pd.Series([{"line": int(x), "transaction_count": 1} for x in numbers], dtype=object),
        "paid_text": paid_text,
    })
    return frame


def _error(text: str, *, signed: bool) -> str:
    try:
        _fen(text, signed=signed)
    except ValueError as e:
        return str(e)
    return f"{text!r} is not a yuan amount"  # unreachable: the column-wise pattern is _fen's


def parse_channel_csv(data: bytes, name: str) -> list[Statement]:
    """A channel statement CSV -> a one-element list: its Statement with one line per row."""
    frame = read_channel_csv(data, name)
    lines = tuple(
        StatementLine(booked_on=paid_at.date(), value_on=paid_at.date(), amount=int(amount), currency=CURRENCY,
                      reference=ref, counterparty=None, description=None, customer_id=customer,
                      fee=None if pd.isna(fee) else int(fee), paid_at=paid_at, raw=raw)
        for ref, customer, amount, fee, paid_at, raw in zip(
            frame["reference"], frame["customer_id"], frame["amount"], frame["fee"],
            (datetime.fromisoformat(t) for t in frame["paid_text"]), frame["raw"], strict=True))
    return [Statement(
        account=None, currency=CURRENCY, opening_balance=None, closing_balance=None, statement_id=None,
        lines=lines, message_type="channel-csv")]
