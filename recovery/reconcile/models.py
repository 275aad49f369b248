"""Statements taken in, reconciliation runs, their matches and breaks, and the suspense worklist."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class StatementFile(db.Model):
    """One statement file as it arrived. Its content hash is unique: the same file is never taken twice."""

    __tablename__ = "statement_files"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(12))
    line_count: Mapped[int] = mapped_column(Integer)
    imported_by: Mapped[str] = mapped_column(String(100))
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class Statement(db.Model):
    """One account's statement inside a file, with its identifiers and the business days it covers.

    A statement that overlaps an earlier one of the same channel account (same identifiers, or
    covered days in common) is refused unless it replaces it; the replaced one is `superseded_by`
    the new one and its lines no longer take part in reconciliation.
    """

    __tablename__ = "statements"
    __table_args__ = (Index("ix_statements_channel_account", "channel", "channel_account", "period_start"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("statement_files.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    channel_account: Mapped[str] = mapped_column(String(40))
    # The bank's account number as the file writes it (None for a channel CSV).
    account: Mapped[str | None] = mapped_column(String(64))
    # MT940 :20: / camt Stmt/Id, and MT940 :28C: / camt sequence number.
    statement_ref: Mapped[str | None] = mapped_column(String(64))
    number: Mapped[str | None] = mapped_column(String(32))
    period_start: Mapped[dt.date | None]
    period_end: Mapped[dt.date | None]
    opening_balance_fen: Mapped[int | None] = mapped_column(BigInteger)
    closing_balance_fen: Mapped[int | None] = mapped_column(BigInteger)
    line_count: Mapped[int] = mapped_column(Integer)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("statements.id"))


class StatementLine(db.Model):
    """One line of a statement, in the shape the matcher reads."""

    __tablename__ = "statement_lines"
    __table_args__ = (Index("ix_statement_lines_account_at", "channel", "channel_account", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    channel_account: Mapped[str] = mapped_column(String(40))
    line_index: Mapped[int] = mapped_column(Integer)
    business_day: Mapped[dt.date]
    # When the channel says it happened: a channel CSV's paid_at; a bank line's booking day at noon.
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reference: Mapped[str | None] = mapped_column(String(140))
    customer_code: Mapped[str | None] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    fee_fen: Mapped[int | None] = mapped_column(BigInteger)
    # A bank line's counterparty and description, searched for references.
    text: Mapped[str | None] = mapped_column(String(1000))


class RunState(StrEnum):
    balanced = "balanced"  # every line and payment matched
    breaks = "breaks"  # differences found
    no_statement = "no_statement"  # payments in the ledger, no statement covering the day yet


class ReconRun(db.Model):
    """The latest reconciliation of one channel account for one business day (a rerun replaces it)."""

    __tablename__ = "recon_runs"
    __table_args__ = (UniqueConstraint("day", "channel", "channel_account"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[dt.date]
    channel: Mapped[str] = mapped_column(String(20))
    channel_account: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16))
    matched: Mapped[int] = mapped_column(Integer)
    statement_lines: Mapped[int] = mapped_column(Integer)
    ledger_payments: Mapped[int] = mapped_column(Integer)
    statement_total_fen: Mapped[int] = mapped_column(BigInteger)
    ledger_total_fen: Mapped[int] = mapped_column(BigInteger)
    run_by: Mapped[str] = mapped_column(String(100))
    run_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    # Set when a statement for the day arrived after the day was reconciled, or a payment of the day was reversed
    # (the day is reopened and rerun).
    reopened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @classmethod
    def reopen(cls, session: Session, days: Mapping[tuple[str, str], Iterable[dt.date]]) -> int:
        """Mark reopened the runs of these days, by (channel, channel account): the night reruns them. One UPDATE
        per channel account; returns the runs marked."""
        stamp = now()
        return sum(session.execute(
            update(cls).where(cls.channel == ch, cls.channel_account == acct, cls.day.in_(sorted(set(ds))))
            .values(reopened_at=stamp)).rowcount or 0
            for (ch, acct), ds in days.items())


class ReconMatch(db.Model):
    """One link of a clean match: a statement line and a ledger payment (many-to-one: several rows)."""

    __tablename__ = "recon_matches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("recon_runs.id"), index=True)
    match_no: Mapped[int] = mapped_column(Integer)
    line_id: Mapped[int] = mapped_column(ForeignKey("statement_lines.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    rule: Mapped[str] = mapped_column(String(20))


class BreakKind(StrEnum):
    missing_in_ledger = "missing_in_ledger"
    missing_in_statement = "missing_in_statement"
    amount_mismatch = "amount_mismatch"
    duplicate = "duplicate"
    timing = "timing"


class BreakStatus(StrEnum):
    open = "open"
    assigned = "assigned"
    resolved = "resolved"


class Resolution(StrEnum):
    linked = "linked"  # linked to an existing payment
    adjusted = "adjusted"  # a correcting ledger entry was posted
    accepted = "accepted"  # accepted as it is, with a reason
    cleared = "cleared"  # a timing difference the neighbouring day matched
    posted = "posted"  # a suspense credit assigned to a customer and posted as a payment


class ReconBreak(db.Model):
    """A difference found by a run, and how a clerk cleared it.

    `fingerprint` names the difference independently of the run (kind, the line's content, the
    payment), so a rerun that finds the same difference keeps its status and resolution.
    """

    __tablename__ = "recon_breaks"
    __table_args__ = (
        UniqueConstraint("day", "channel", "channel_account", "fingerprint"),
        Index("ix_recon_breaks_status_day", "status", "day"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("recon_runs.id"), index=True)
    day: Mapped[dt.date]
    channel: Mapped[str] = mapped_column(String(20))
    channel_account: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(24))
    fingerprint: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(12), default=BreakStatus.open)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("statement_lines.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    channel_ref: Mapped[str | None] = mapped_column(String(140))
    customer_code: Mapped[str | None] = mapped_column(String(64))
    statement_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    ledger_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    assigned_to: Mapped[str | None] = mapped_column(String(100))
    assigned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(String(12))
    resolution_note: Mapped[str | None] = mapped_column(String(500))
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    linked_payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    adjustment_entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))


class SuspenseItem(db.Model):
    """An unassigned bank credit (单边账): money the bank received that no payment accounts for.

    Never lost: it waits here until a clerk assigns it to a customer, which posts the payment.
    """

    __tablename__ = "suspense_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("statement_lines.id"), unique=True)
    day: Mapped[dt.date]
    channel: Mapped[str] = mapped_column(String(20))
    channel_account: Mapped[str] = mapped_column(String(40))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str | None] = mapped_column(String(140))
    text: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | assigned
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    assigned_by: Mapped[str | None] = mapped_column(String(100))
    assigned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
