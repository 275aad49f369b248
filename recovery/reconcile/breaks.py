"""Working the breaks: open → assigned → resolved (by linking a payment, posting a correcting ledger entry,
or accepting with a reason), and assigning a suspense credit to a customer. Every step says who and when
and is audited in the same transaction.

Each transition is one conditional UPDATE on the break's row (`... WHERE status <> 'resolved'`), so two
clerks clicking at once cannot both resolve a break, nor post its correction twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from recovery import ledger
from recovery.audit import service as audit
from recovery.auth.models import User
from recovery.errors import Conflict, Invalid, NotFound
from recovery.ledger.models import EntryKind, LedgerEntry
from recovery.payments.models import Payment, PaymentState
from recovery.payments.posting import post_payment
from recovery.reconcile.models import BreakKind, BreakStatus, ReconBreak, Resolution, StatementLine, SuspenseItem
from recovery.timeutil import now

ADJUSTABLE = {BreakKind.amount_mismatch, BreakKind.missing_in_statement, BreakKind.duplicate}


def get_break(session: Session, break_id: int) -> ReconBreak:
    """One break; NotFound names it."""
    found = session.get(ReconBreak, break_id)
    if found is None:
        raise NotFound(f"no break #{break_id}", code="break_not_found")
    return found


@dataclass
class BreakFilter:
    day: dt.date | None = None
    channel: str | None = None
    channel_account: str | None = None
    kind: str | None = None
    status: str | None = None  # open (open or assigned), assigned, resolved
    assigned_to: str | None = None


def break_query(f: BreakFilter) -> Select:
    """The breaks matching the clerk's filters, newest day first."""
    q = select(ReconBreak)
    if f.day:
        q = q.where(ReconBreak.day == f.day)
    if f.channel:
        q = q.where(ReconBreak.channel == f.channel)
    if f.channel_account:
        q = q.where(ReconBreak.channel_account == f.channel_account)
    if f.kind:
        q = q.where(ReconBreak.kind == f.kind)
    if f.status == "open":
        q = q.where(ReconBreak.status != BreakStatus.resolved)
    elif f.status:
        q = q.where(ReconBreak.status == f.status)
    if f.assigned_to:
        q = q.where(ReconBreak.assigned_to == f.assigned_to)
    return q.order_by(ReconBreak.day.desc(), ReconBreak.channel, ReconBreak.channel_account, ReconBreak.kind,
                      ReconBreak.id)


def list_breaks(session: Session, f: BreakFilter, *, limit: int = 200, offset: int = 0) -> tuple[list[ReconBreak], int]:
    """A page of breaks and how many match in all."""
    q = break_query(f)
    total = session.scalar(select(func.count()).select_from(q.order_by(None).subquery())) or 0
    return list(session.scalars(q.limit(limit).offset(offset))), total


def _transition(session: Session, b: ReconBreak, values: dict, *, from_resolved_ok: bool = False) -> None:
    """Apply `values` to the break if it is still unresolved (one conditional UPDATE), else Conflict."""
    cond = [ReconBreak.id == b.id]
    if not from_resolved_ok:
        cond.append(ReconBreak.status != BreakStatus.resolved)
    done = session.execute(update(ReconBreak).where(*cond).values(**values)).rowcount
    if not done:
        session.refresh(b)
        raise Conflict(f"break #{b.id} was already resolved ({b.resolution}) by {b.resolved_by}",
                       code="break_already_resolved")
    session.refresh(b)


def assign(session: Session, break_id: int, *, to: str, by: str) -> ReconBreak:
    """Give an unresolved break to a clerk."""
    b = get_break(session, break_id)
    if not to.strip():
        raise Invalid("name the clerk the break is assigned to")
    _transition(session, b, {"status": BreakStatus.assigned, "assigned_to": to.strip()[:100], "assigned_at": now()})
    audit.record(session, "reconcile.break.assign", "recon_break", str(b.id), actor=by, to=b.assigned_to)
    return b


def _resolve_values(resolution: Resolution, by: str, note: str | None, **extra) -> dict:
    return {"status": BreakStatus.resolved, "resolution": resolution, "resolved_by": by, "resolved_at": now(),
            "resolution_note": (note or "").strip()[:500] or None, **extra}


def resolve_link(session: Session, break_id: int, payment_code: str, *, by: str, note: str | None = None) -> ReconBreak:
    """Resolve by linking the break to an existing payment (the ledger has it under another reference)."""
    b = get_break(session, break_id)
    payment = session.scalar(select(Payment).where(Payment.code == payment_code.strip()))
    if payment is None:
        raise NotFound(f"no payment {payment_code}", code="payment_not_found")
    if payment.channel != b.channel:
        raise Invalid(f"payment {payment.code} came through {payment.channel}, the break is on {b.channel}")
    _transition(session, b, _resolve_values(Resolution.linked, by, note, linked_payment_id=payment.id))
    audit.record(session, "reconcile.break.link", "recon_break", str(b.id), actor=by, payment=payment.code,
                 kind=b.kind, note=b.resolution_note)
    return b


def correction_fen(b: ReconBreak) -> int:
    """The correcting ledger entry a break calls for: what the books credited less what the channel holds.

    Positive: the customer was credited more than the channel received (owes it again); negative: less.
    """
    if b.kind not in ADJUSTABLE or b.payment_id is None or (b.kind == BreakKind.duplicate and b.line_id is not None):
        raise Invalid(f"a {b.kind} break of this shape needs no ledger correction; link it or accept it",
                      code="not_adjustable")
    return int(b.ledger_amount_fen or 0) - int(b.statement_amount_fen or 0)


def resolve_adjust(session: Session, break_id: int, *, by: str, note: str) -> ReconBreak:
    """Resolve by posting an `adjustment` ledger entry that corrects the payment's entry (never an UPDATE)."""
    b = get_break(session, break_id)
    if not note or not note.strip():
        raise Invalid("say why the ledger is corrected")
    amount = correction_fen(b)
    if amount == 0:
        raise Invalid("the books and the statement agree on the amount; nothing to correct")
    payment = session.get(Payment, b.payment_id)
    entry_id = session.scalar(select(LedgerEntry.id).where(LedgerEntry.payment_id == payment.id,
                                                         LedgerEntry.kind == EntryKind.payment).limit(1))
    user_id = session.scalar(select(User.id).where(User.username == by))
    # Claim the break first: a second click finds it resolved and posts nothing.
    _transition(session, b, _resolve_values(Resolution.adjusted, by, note))
    entry_id_new = ledger.post(session, customer_id=payment.customer_id, kind=EntryKind.adjustment,
                               amount_fen=amount, effective_on=b.day, corrects_id=entry_id, created_by=user_id,
                               note=f"reconciliation break #{b.id} ({b.kind}): {note.strip()}")
    session.execute(update(ReconBreak).where(ReconBreak.id == b.id).values(adjustment_entry_id=entry_id_new))
    session.refresh(b)
    audit.record(session, "reconcile.break.adjust", "recon_break", str(b.id), actor=by, kind=b.kind,
                 payment=payment.code, amount_fen=amount,
                 ledger_entry=entry_id_new, corrects=entry_id, note=note.strip())
    return b


def resolve_accept(session: Session, break_id: int, *, by: str, reason: str) -> ReconBreak:
    """Resolve by accepting the difference as it is; a reason is required."""
    b = get_break(session, break_id)
    if not reason or not reason.strip():
        raise Invalid("a reason is required to accept a break")
    _transition(session, b, _resolve_values(Resolution.accepted, by, reason))
    audit.record(session, "reconcile.break.accept", "recon_break", str(b.id), actor=by, kind=b.kind,
                 reason=b.resolution_note)
    return b


def list_suspense(session: Session, *, status: str | None = "open", day: dt.date | None = None) -> list[SuspenseItem]:
    """The suspense worklist (unassigned bank credits), oldest first."""
    q = select(SuspenseItem)
    if status:
        q = q.where(SuspenseItem.status == status)
    if day:
        q = q.where(SuspenseItem.day == day)
    return list(session.scalars(q.order_by(SuspenseItem.day, SuspenseItem.id)))


def assign_suspense(session: Session, item_id: int, customer_code: str, *, by: str) -> Payment:
    """Assign a suspense credit to a customer: post it as the customer's (settled) payment, allocated
    oldest bill first, and resolve the break it raised."""
    item = session.get(SuspenseItem, item_id)
    if item is None:
        raise NotFound(f"no suspense item #{item_id}", code="suspense_not_found")
    # The conditional UPDATE is the guard: one clerk's assignment wins, the other gets Conflict.
    done = session.execute(update(SuspenseItem).where(SuspenseItem.id == item.id, SuspenseItem.status == "open")
                           .values(status="assigned", assigned_by=by, assigned_at=now())).rowcount
    if not done:
        raise Conflict(f"suspense item #{item.id} is already assigned", code="suspense_already_assigned")
    line = session.get(StatementLine, item.line_id)
    payment = post_payment(session, channel=item.channel, channel_account=item.channel_account,
                           customer_code=customer_code.strip(), amount_fen=item.amount_fen,
                           channel_ref=(item.reference or f"SUSPENSE-{item.line_id}")[:64],
                           paid_at=min(line.at, now()), state=PaymentState.settled)
    session.execute(update(SuspenseItem).where(SuspenseItem.id == item.id)
                    .values(customer_id=payment.customer_id, payment_id=payment.id))
    session.execute(update(ReconBreak).where(
        ReconBreak.line_id == item.line_id, ReconBreak.kind == BreakKind.missing_in_ledger,
        ReconBreak.status != BreakStatus.resolved,
    ).values(**_resolve_values(Resolution.posted, by, f"suspense credit assigned to {customer_code.strip()}",
                               linked_payment_id=payment.id)))
    session.refresh(item)
    audit.record(session, "reconcile.suspense.assign", "suspense_item", str(item.id), actor=by,
                 customer=customer_code.strip(), payment=payment.code, amount_fen=item.amount_fen)
    return payment
