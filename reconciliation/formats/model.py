"""One statement-line shape for every format: what a parser returns and how it is shown.

Amounts are integer minor units of their currency (fen, cents), signed: credits to the
account positive, debits negative. Nothing here holds money in a float.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from reconciliation.formats.money import format_minor

# Entries that are not (yet) on the booked balance: camt's pending and information-only entries.
NOT_BOOKED = frozenset({"PDNG", "INFO", "FUTR"})

TEXT = "string[pyarrow]"


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One entry of a statement, whatever the format it came from.

    `raw` keeps what the format says beyond the common shape (JSON-ready values): for camt the
    entry's transactions and their count, for MT940 the parser's fields. `status` and `reason`
    are set by formats that carry them: camt's entry status (BOOK, PDNG), pain.002's
    transaction status (ACSC, RJCT, ...) and reason code (AC04, MD06, ...).
    """

    booked_on: date | None
    value_on: date | None
    amount: int | None
    currency: str | None
    reference: str | None
    counterparty: str | None
    description: str | None
    customer_id: str | None = None
    fee: int | None = None
    paid_at: datetime | None = None
    raw: Mapping[str, Any] | None = field(default=None, compare=False, hash=False, repr=False)
    status: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Statement:
    """One account's statement (or notification, or status report) with its lines in file order.

    Balances are None where the format has none (MT942, camt.054, pain.002, channel CSV).
    `notes` lists what looked wrong in the file without making it unreadable, in plain words.
    """

    account: str | None
    currency: str | None
    opening_balance: int | None
    closing_balance: int | None
    statement_id: str | None
    lines: tuple[StatementLine, ...]
    message_type: str | None = None
    number: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def balance_gap(self) -> int | None:
        """closing - opening - booked lines, in minor units: 0 for a consistent statement.

        None where either balance is missing. Pending and information-only lines don't count.
        """
        if self.opening_balance is None or self.closing_balance is None:
            return None
        booked = sum(ln.amount or 0 for ln in self.lines if ln.status not in NOT_BOOKED)
        return self.closing_balance - self.opening_balance - booked


def _money(minor: int | None, currency: str | None) -> str | None:
    return None if minor is None else format_minor(minor, currency)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def line_to_json(line: StatementLine, *, include_raw: bool = False) -> dict[str, Any]:
    """One line as the contract's JSON object (plus this package's optional fields)."""
    out: dict[str, Any] = {
        "booked_on": _iso(line.booked_on),
        "value_on": _iso(line.value_on),
        "amount": _money(line.amount, line.currency),
        "currency": line.currency,
        "reference": line.reference,
        "counterparty": line.counterparty,
        "description": line.description,
        "customer_id": line.customer_id,
        "fee": _money(line.fee, line.currency),
        "paid_at": _iso(line.paid_at),
        "status": line.status,
        "reason": line.reason,
    }
    if include_raw:
        out["raw"] = dict(line.raw) if line.raw is not None else None
    return out


def to_json(statements: Iterable[Statement], *, include_raw: bool = False) -> dict[str, Any]:
    """The contract's "Parsed statement JSON": amounts as decimal strings, dates ISO, nulls where missing.

    The contract's keys come first; `statement_id`, `message_type`, `notes` and the line fields
    `customer_id`, `fee`, `paid_at`, `status`, `reason` are optional extensions (null when unset).
    """
    return {
        "statements": [
            {
                "account": st.account,
                "currency": st.currency,
                "opening_balance": _money(st.opening_balance, st.currency),
                "closing_balance": _money(st.closing_balance, st.currency),
                "lines": [line_to_json(ln, include_raw=include_raw) for ln in st.lines],
                "statement_id": st.statement_id,
                "message_type": st.message_type,
                "notes": list(st.notes),
            }
            for st in statements
        ]
    }


FRAME_COLUMNS = (
    "statement_index", "statement_id", "account", "message_type", "line_index",
    "booked_on", "value_on", "amount", "currency", "reference", "counterparty", "description",
    "customer_id", "fee", "paid_at", "status", "reason", "transaction_count", "raw",
)


def to_frame(statements: Iterable[Statement]) -> pd.DataFrame:
    """All lines as one frame, one row per line, with their statement's identifiers repeated.

    Amounts and fees are nullable Int64 minor units; dates are datetime64 (midnight); `paid_at`
    is UTC; text columns are Arrow strings. `transaction_count` is how many payments a line
    stands for (a camt batch entry: its transactions; every other line: 1).
    """
    rows: dict[str, list[Any]] = {c: [] for c in FRAME_COLUMNS}
    for si, st in enumerate(statements):
        for li, ln in enumerate(st.lines):
            raw = ln.raw or {}
            values = {
                "statement_index": si, "statement_id": st.statement_id, "account": st.account,
                "message_type": st.message_type, "line_index": li,
                "booked_on": ln.booked_on, "value_on": ln.value_on, "amount": ln.amount,
                "currency": ln.currency, "reference": ln.reference, "counterparty": ln.counterparty,
                "description": ln.description, "customer_id": ln.customer_id, "fee": ln.fee,
                "paid_at": ln.paid_at, "status": ln.status, "reason": ln.reason,
                "transaction_count": raw.get("transaction_count", 1), "raw": ln.raw,
            }
            for c in FRAME_COLUMNS:
                rows[c].append(values[c])
    frame = pd.DataFrame({
        "statement_index": pd.array(rows["statement_index"], dtype="int64"),
        "line_index": pd.array(rows["line_index"], dtype="int64"),
        "amount": pd.array(rows["amount"], dtype="Int64"),
        "fee": pd.array(rows["fee"], dtype="Int64"),
        "transaction_count": pd.array(rows["transaction_count"], dtype="int64"),
        "booked_on": pd.to_datetime(pd.Series(rows["booked_on"], dtype="object")),
        "value_on": pd.to_datetime(pd.Series(rows["value_on"], dtype="object")),
        "paid_at": pd.to_datetime(pd.Series(rows["paid_at"], dtype="object"), utc=True),
        "raw": pd.Series(rows["raw"], dtype="object"),
        **{
            c: pd.Series(rows[c], dtype="object").astype(TEXT)
            for c in ("statement_id", "account", "message_type", "currency", "reference", "counterparty",
                      "description", "customer_id", "status", "reason")
        },
    })
    return frame[list(FRAME_COLUMNS)]
