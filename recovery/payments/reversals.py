"""Reversals and settlement: a payment is provisional until its channel settles it, and a reversal is a
new ledger entry pointing at the payment's entry (the ledger is append-only; nothing is updated).

The set-based forms (`reverse_many`, `settle_payments`) take a whole bank result file at once: one
statement per step. A payment is reversed once: the state change is a conditional UPDATE
(`... WHERE state <> 'reversed'`), so two concurrent reversals cannot both write a reversal entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
from sqlalchemy import Select, String, Table, and_, func, insert, literal, select, type_coerce, update
from sqlalchemy.orm import Session

from recovery import bulk, ledger
from recovery.audit import service as audit
from recovery.errors import Conflict, Invalid
from recovery.ledger.allocations import reallocate
from recovery.ledger.models import EntryKind, LedgerEntry
from recovery.payments.models import Agent, Channel, Payment, PaymentState
from recovery.payments.posting import Posted
from recovery.reconcile.models import ReconRun
from recovery.timeutil import business_tz, now, today


def reverse_payment(session: Session, payment: Payment | Posted, reason: str, code: str, actor: str | None = None, *,
                    on: dt.date | None = None) -> LedgerEntry:
    """Reverse one payment: state reversed, a `reversal` entry correcting its entry, re-allocation, audit.

    `code` is the machine reason (a bank's return code such as AM04, or an officer's code), `reason` the
    words; `on` the business date the reversal counts from (default today). Reversing twice is refused.
    """
    if not code or not code.strip():
        raise Invalid("a reversal needs a reason code")
    if not isinstance(payment, Payment):  # one just posted: its stored row
        payment = session.get(Payment, payment.id)
    day = on or today()
    done = session.execute(
        update(Payment).where(Payment.id == payment.id, Payment.state != PaymentState.reversed)
        .values(state=PaymentState.reversed)
    ).rowcount
    if not done:
        raise Conflict(f"payment {payment.code} is already reversed", code="already_reversed")
    original = session.scalar(select(LedgerEntry).where(
        LedgerEntry.payment_id == payment.id, LedgerEntry.kind == EntryKind.payment).order_by(LedgerEntry.id).limit(1))
    entry_id = ledger.post(session, customer_id=payment.customer_id, kind=EntryKind.reversal,
                           amount_fen=-original.amount_fen, effective_on=day, payment_id=payment.id,
                           corrects_id=original.id, note=_note(code, reason))
    _release_agent_takings(session, [payment.id])
    session.flush()  # re-allocation reads the payment's new state through SQL
    session.expire(payment, ["state"])
    reallocate(session, [payment.customer_id])
    _reopen_reconciled_days(session, [payment.id])
    audit.record(session, "payment.reverse", "payment", payment.code, actor=actor, code=code, reason=reason,
                 amount_fen=payment.amount_fen, effective_on=day.isoformat())
    return session.get(LedgerEntry, entry_id)


def _note(code: str, reason: str | None) -> str:
    return f"{code.strip()}: {reason.strip()}"[:500] if reason and reason.strip() else code.strip()[:500]


def _release_agent_takings(session: Session, payment_ids) -> None:
    """A reversed agent payment no longer counts in the agent's unremitted takings (never below zero)."""
    reversed_sum = (select(func.coalesce(func.sum(Payment.amount_fen), 0))
                    .where(Payment.id.in_(payment_ids), Payment.channel == Channel.agent,
                           Payment.channel_account == Agent.code)
                    .scalar_subquery())
    session.execute(
        update(Agent).where(Agent.code.in_(select(Payment.channel_account).where(
            Payment.id.in_(payment_ids), Payment.channel == Channel.agent)))
        .values(unremitted_fen=func.max(Agent.unremitted_fen - reversed_sum, 0)
                if session.get_bind().dialect.name == "sqlite"
                else func.greatest(Agent.unremitted_fen - reversed_sum, 0))
    )


def reverse_many(session: Session, reversals: Table, *, on: dt.date, actor: str | None = None,
                 source: str | None = None) -> list[int]:
    """Reverse every payment in `reversals` (a table with payment_id, code, reason) not yet reversed.

    One statement per step: the state change, the reversal entries, the agent takings, one
    re-allocation of the customers touched, one audit entry. Returns the ids of the payments this
    call reversed (those already reversed, by an earlier file or a concurrent one, are left alone).
    """
    r = reversals.c
    # The state change comes first and is conditional: of two imports racing on one payment, only the
    # one whose UPDATE flipped it writes a reversal entry (the other waits on the row, then matches nothing).
    flipped = session.execute(
        update(Payment).where(Payment.id.in_(select(r.payment_id)), Payment.state != PaymentState.reversed)
        .values(state=PaymentState.reversed).returning(Payment.id)
        .execution_options(synchronize_session=False)
    ).scalars().all()
    if not flipped:
        return []
    ids = bulk.stage(session, "reversals_flipped", pd.DataFrame({"id": flipped}), {"id": bulk.ID})
    todo = bulk.temp_table(session, "reversals_todo", {"payment_id": bulk.ID, "code": bulk.TEXT,
                                                      "reason": bulk.TEXT})
    first = select(func.min(r.code).label("code"), func.min(r.reason).label("reason"), r.payment_id).where(
        r.payment_id.in_(select(ids.c.id))).group_by(r.payment_id)
    session.execute(insert(todo).from_select(["code", "reason", "payment_id"], first))
    t = todo.c
    count = len(flipped)
    stamp = now()
    note = func.substr(t.code + literal(": ") + func.coalesce(t.reason, literal("")), 1, 500)
    original = (select(func.min(LedgerEntry.id)).where(LedgerEntry.payment_id == t.payment_id,
                                                        LedgerEntry.kind == EntryKind.payment)
                .correlate(todo).scalar_subquery())
    original_amount = (select(LedgerEntry.amount_fen).where(LedgerEntry.id == original).scalar_subquery())
    ledger.post_select(session, select(
        Payment.customer_id, literal(EntryKind.reversal.value), -original_amount,
        literal(on, LedgerEntry.effective_on.type), literal(stamp, LedgerEntry.posted_at.type), Payment.id, original,
        note).join(todo, t.payment_id == Payment.id),
        ["customer_id", "kind", "amount_fen", "effective_on", "posted_at", "payment_id", "corrects_id", "note"])
    _release_agent_takings(session, select(t.payment_id))
    touched = bulk.temp_table(session, "reversal_customers", {"id": bulk.ID})
    session.execute(insert(touched).from_select(
        ["id"], select(Payment.customer_id).where(Payment.id.in_(select(t.payment_id))).distinct()))
    reallocate(session, touched)
    _reopen_reconciled_days(session, select(ids.c.id))
    codes = [c for (c,) in session.execute(select(Payment.code).join(todo, t.payment_id == Payment.id)
                                           .order_by(Payment.code))]
    audit.record(session, "payment.reverse_many", "file" if source else "payments", source, actor=actor,
                 count=count, payments=codes[:1000], effective_on=on.isoformat())
    return list(flipped)


def _reopen_reconciled_days(session: Session, payment_ids: list[int] | Select) -> int:
    """A reversal changes a day that may have reconciled already: the run of that day and of each payment's
    channel account is reopened (the statement still shows the money; the night's rerun finds the difference).
    `payment_ids`: ids, or a select of them (a whole result file's). Returns the runs reopened."""
    paid = bulk.read_frame(session, select(Payment.channel, Payment.channel_account,
                                           type_coerce(Payment.paid_at, String).label("at"))
                           .where(Payment.id.in_(payment_ids)))
    if paid.empty:
        return 0
    paid["day"] = pd.to_datetime(paid["at"], utc=True, format="ISO8601").dt.tz_convert(business_tz()).dt.date
    return ReconRun.reopen(session, paid.groupby(["channel", "channel_account"])["day"].agg(set).to_dict())


def settle_payments(session: Session, ids: Iterable[int] | Select, *, actor: str | None = None,
                    source: str | None = None) -> int:
    """Provisional -> settled for the payments `ids` (ids or a select of ids); returns how many moved."""
    ids = list(ids) if isinstance(ids, (list, tuple, set)) else ids
    moved = session.execute(
        update(Payment).where(and_(Payment.id.in_(ids), Payment.state == PaymentState.provisional))
        .values(state=PaymentState.settled)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved:
        audit.record(session, "payment.settle", "file" if source else "payments", source, actor=actor, count=moved)
    return moved
