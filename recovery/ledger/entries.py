"""Posting movements to the account ledger: the only code that writes `ledger_entries`.

Three doors, one rule set:
- `post` writes one movement (a payment from a channel, a reversal, a write-off, a correction) and
  returns its id, with one INSERT … RETURNING;
- `post_frame` writes a frame of movements (COPY on PostgreSQL, executemany on SQLite);
- `post_select` writes the rows of a select (INSERT … SELECT), for movements derived from rows the
  database already holds (an import's staged bills, a bank file's reversals, a day's penalties).

A correction (a reversal or an adjustment) always names the entry it corrects. Entries are never
updated or deleted: database triggers refuse it on both SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Select, insert, literal
from sqlalchemy.orm import Session

from recovery import bulk
from recovery.ledger.models import EntryKind, LedgerEntry
from recovery.timeutil import now

COLUMNS = ("customer_id", "kind", "amount_fen", "effective_on", "posted_at", "bill_id", "payment_id",
           "corrects_id", "note", "created_by")
CORRECTIONS = frozenset({EntryKind.reversal, EntryKind.adjustment})
NOTE_LENGTH = 500
_table = LedgerEntry.__table__
_INSERT_ONE = insert(_table).returning(_table.c.id)  # built once: the posting path runs it on every payment


def _check(kind: str, corrects_id: object) -> None:
    if kind not in EntryKind.__members__:
        raise ValueError(f"unknown ledger entry kind {kind!r}")
    if kind in CORRECTIONS and corrects_id is None:
        raise ValueError(f"a {kind} entry must name the entry it corrects")


def post(session: Session, *, customer_id: int, kind: EntryKind, amount_fen: int, effective_on: dt.date,
         bill_id: int | None = None, payment_id: int | None = None, corrects_id: int | None = None,
         note: str | None = None, created_by: int | None = None, posted_at: dt.datetime | None = None) -> int:
    """Post one movement (positive: the customer owes more); returns the new entry's id."""
    _check(kind, corrects_id)
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool):
        raise TypeError("a ledger amount is whole fen (int)")
    return session.execute(_INSERT_ONE, {
        "customer_id": customer_id, "kind": str(kind), "amount_fen": amount_fen, "effective_on": effective_on,
        "posted_at": posted_at or now(), "bill_id": bill_id, "payment_id": payment_id, "corrects_id": corrects_id,
        "note": note[:NOTE_LENGTH] if note else note, "created_by": created_by,
    }).scalar_one()


def post_frame(session: Session, frame: pd.DataFrame) -> int:
    """Post every row of `frame` (columns named as COLUMNS; customer_id, kind, amount_fen and effective_on
    required, posted_at defaults to now). Returns the number of entries."""
    if frame.empty:
        return 0
    missing = {"customer_id", "kind", "amount_fen", "effective_on"} - set(frame.columns)
    if missing:
        raise ValueError(f"ledger frame lacks {sorted(missing)}")
    unknown = set(frame.columns) - set(COLUMNS)
    if unknown:
        raise ValueError(f"ledger frame has unknown columns {sorted(unknown)}")
    if not pd.api.types.is_integer_dtype(frame["amount_fen"]):
        raise TypeError("ledger amounts are whole fen (an integer column)")
    kinds = set(frame["kind"].unique())
    bad = kinds - set(EntryKind.__members__)
    if bad:
        raise ValueError(f"unknown ledger entry kinds {sorted(bad)}")
    if kinds & CORRECTIONS:
        corrections = frame["kind"].isin(CORRECTIONS)
        if "corrects_id" not in frame.columns or frame.loc[corrections, "corrects_id"].isna().any():
            raise ValueError("every reversal and adjustment must name the entry it corrects")
    if "posted_at" not in frame.columns:
        frame = frame.assign(posted_at=pd.Timestamp(now()))
    if "note" in frame.columns:
        notes = frame["note"]
        frame = frame.assign(note=notes.where(notes.isna(), notes.astype(str).str[:NOTE_LENGTH]))
    return bulk.insert_frame(session, _table, frame)


def post_select(session: Session, statement: Select, columns: list[str]) -> None:
    """Post the rows of `statement`, whose columns are `columns` (names from COLUMNS). Movements of a
    correcting kind must carry corrects_id; posted_at defaults to now."""
    unknown = set(columns) - set(COLUMNS)
    if unknown or not {"customer_id", "kind", "amount_fen", "effective_on"} <= set(columns):
        raise ValueError(f"ledger select columns {columns} do not fit {COLUMNS}")
    if "posted_at" not in columns:
        statement = statement.add_columns(literal(now(), LedgerEntry.posted_at.type))
        columns = [*columns, "posted_at"]
    session.execute(insert(_table).from_select(columns, statement))

