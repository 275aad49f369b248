"""Writing off uncollectable debt (坏账核销) with a supervisor's approval, recovering it from later
payments, and referring debt to an outside collection agency (委托催收).

A write-off is a `write_off` ledger entry: a credit that lowers the balance (and so the overdue amount,
the dunning and the positions) but is no payment: it settles no bill in the allocations and never
counts as money collected. The ledger is append-only, so nothing is deleted: the entry stays, with the
`write_offs` row that says who asked, who approved and why.

Written-off debt stays recoverable. A payment after the write-off is accepted like any other; it
settles what the customer currently owes first, and what it leaves over (a credit on the account) is
recovery of the written-off debt: the nightly `collections.writeoff_recovery` puts that much of the
written-off amount back on the account (a positive `write_off` entry correcting the write-off's entry)
so that the credit is consumed, and raises the write-off's `recovered_fen`, oldest write-off first.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from recovery import bulk, ledger
from recovery.approvals.models import ApprovalRequest, ApprovalStatus
from recovery.approvals.service import request_approval
from recovery.audit import service as audit
from recovery.auth.models import User
from recovery.collections.writeoff.models import Referral, ReferralStatus, WriteOff
from recovery.credit.security.deposits import arrears_fen
from recovery.customers.models import Customer
from recovery.errors import Conflict, Invalid, NotFound
from recovery.ledger.models import EntryKind, LedgerEntry
from recovery.money import format_yuan
from recovery.timeutil import now, today

KIND = "debt.write_off"
RECOVERY_ACTOR = "job:collections.writeoff_recovery"


def outstanding_fen(session: Session, customer_id: int) -> int:
    """What is written off of the customer and not yet recovered."""
    return int(session.scalar(select(func.coalesce(func.sum(WriteOff.amount_fen - WriteOff.recovered_fen), 0))
                              .where(WriteOff.customer_id == customer_id)) or 0)


def request_write_off(session: Session, customer: Customer, *, amount_fen: int, reason: str, evidence: str | None,
                      requested_by: str) -> ApprovalRequest:
    """Ask a supervisor (not the requester) to write off part or all of the customer's overdue balance."""
    if amount_fen <= 0:
        raise Invalid("the amount must be positive", code="bad_amount")
    overdue = arrears_fen(session, customer.id, today())
    if amount_fen > overdue:
        raise Invalid(f"{format_yuan(amount_fen)} yuan is more than the overdue balance of {format_yuan(overdue)} "
                      "yuan: only overdue debt can be written off", code="write_off_above_overdue")
    if not (evidence or "").strip():
        raise Invalid("describe the evidence that the debt cannot be collected", code="evidence_required")
    return request_approval(session, KIND, "customer", customer.code, reason=reason, requested_by=requested_by,
                            payload={"amount_fen": amount_fen, "evidence": evidence.strip()[:2000]})


def carry_out_write_off(session: Session, request: ApprovalRequest, decided_by: str) -> dict:
    """Approval handler of debt.write_off: the ledger credit, the write_offs row and the audit entry.

    The overdue balance is checked again: a payment since the request may have made it smaller.
    """
    customer = session.scalar(select(Customer).where(Customer.code == request.subject_id))
    if customer is None:
        raise NotFound(f"no customer {request.subject_id}", code="customer_not_found")
    # Lock the customer: a payment posted meanwhile (it takes the same lock) cannot slip under the check.
    session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
    amount = int(request.payload["amount_fen"])
    day = today()
    overdue = arrears_fen(session, customer.id, day)
    if amount > overdue:
        raise Conflict(f"the overdue balance is now {format_yuan(overdue)} yuan, less than the "
                       f"{format_yuan(amount)} yuan to write off: reject this request and file a new one",
                       code="write_off_above_overdue")
    user_id = session.scalar(select(User.id).where(User.username == decided_by))
    entry_id = ledger.post(session, customer_id=customer.id, kind=EntryKind.write_off, amount_fen=-amount,
                           effective_on=day, note=f"write-off: {request.reason}", created_by=user_id)
    wo = WriteOff(customer_id=customer.id, amount_fen=amount, recovered_fen=0, written_off_on=day,
                  reason=request.reason, evidence=request.payload.get("evidence"), requested_by=request.requested_by,
                  approved_by=decided_by, approval_id=request.id, entry_id=entry_id)
    session.add(wo)
    session.flush()  # its id goes into the audit entry
    audit.record(session, "debt.written_off", "customer", customer.code, actor=decided_by, write_off_id=wo.id,
                 entry_id=entry_id, amount=format_yuan(amount), request_id=request.id,
                 requested_by=request.requested_by)
    return {"write_off_id": wo.id, "entry_id": entry_id, "amount": format_yuan(amount)}


def write_offs_of(session: Session, customer: Customer) -> list[WriteOff]:
    """The customer's write-offs, newest first."""
    return list(session.scalars(select(WriteOff).where(WriteOff.customer_id == customer.id)
                                .order_by(WriteOff.written_off_on.desc(), WriteOff.id.desc())))


def pending_of(session: Session, customer: Customer) -> list[ApprovalRequest]:
    """Write-off requests about the customer waiting for a supervisor."""
    return list(session.scalars(select(ApprovalRequest).where(
        ApprovalRequest.kind == KIND, ApprovalRequest.subject_type == "customer",
        ApprovalRequest.subject_id == customer.code, ApprovalRequest.status == ApprovalStatus.pending)
        .order_by(ApprovalRequest.id)))


# ---------------------------------------------------------------- recovery after write-off


def recover(session: Session, day: dt.date) -> dict:
    """Job collections.writeoff_recovery: a credit on an account with written-off debt recovers that debt.

    Set-based: one read of the open write-offs with their customers' balances, one INSERT of the
    recovery entries, one executemany UPDATE. Reads the balance over every entry (not as of `day`),
    so a rerun for any day finds the credits already consumed and posts nothing.
    """
    balances = (select(LedgerEntry.customer_id, func.sum(LedgerEntry.amount_fen).label("balance_fen"))
                .group_by(LedgerEntry.customer_id).subquery("balances"))
    session.flush()  # the read below goes through Core, which does not autoflush pending changes
    frame = bulk.read_frame(session, select(
        WriteOff.id, WriteOff.customer_id, WriteOff.entry_id, WriteOff.amount_fen, WriteOff.recovered_fen,
        balances.c.balance_fen,
    ).join(balances, balances.c.customer_id == WriteOff.customer_id)
        .where(WriteOff.amount_fen > WriteOff.recovered_fen, balances.c.balance_fen < 0)
        .order_by(WriteOff.customer_id, WriteOff.written_off_on, WriteOff.id))
    if frame.empty:
        return {"day": day.isoformat(), "recovered": 0, "recovered_fen": 0}
    frame = frame.astype({c: "int64" for c in ("id", "customer_id", "entry_id", "amount_fen", "recovered_fen",
                                               "balance_fen")})
    open_fen = frame["amount_fen"] - frame["recovered_fen"]
    credit = -frame["balance_fen"]
    before = frame.assign(o=open_fen).groupby("customer_id")["o"].cumsum() - open_fen
    frame["take_fen"] = pd.concat([open_fen, (credit - before).clip(lower=0)], axis=1).min(axis=1)
    frame = frame[frame["take_fen"] > 0]
    stamp = now()
    ledger.post_frame(session, pd.DataFrame({
        "customer_id": frame["customer_id"], "kind": EntryKind.write_off.value, "amount_fen": frame["take_fen"],
        "effective_on": pd.Timestamp(day), "posted_at": pd.Timestamp(stamp), "corrects_id": frame["entry_id"],
        "note": "recovered after write-off #" + frame["id"].astype(str)}))
    session.execute(
        update(WriteOff.__table__).where(WriteOff.__table__.c.id == bindparam("wo_id"))
        .values(recovered_fen=WriteOff.__table__.c.recovered_fen + bindparam("take")),
        [{"wo_id": int(r.id), "take": int(r.take_fen)} for r in frame.itertuples(index=False)])
    total = int(frame["take_fen"].sum())
    audit.record(session, "debt.write_off_recovered", "day", day.isoformat(), actor=RECOVERY_ACTOR,
                 total=format_yuan(total),
                 write_offs=[{"write_off_id": int(r.id), "amount": format_yuan(int(r.take_fen))}
                             for r in frame.itertuples(index=False)])
    return {"day": day.isoformat(), "recovered": len(frame), "recovered_fen": total}


# ---------------------------------------------------------------- referral to a collection agency


def refer(session: Session, customer: Customer, *, agency: str, amount_fen: int, referred_on: dt.date | None,
          referred_by: str, note: str | None = None) -> Referral:
    """Hand (part of) the customer's debt, overdue or written off, to a collection agency."""
    agency = (agency or "").strip()
    if not agency:
        raise Invalid("name the collection agency", code="agency_required")
    if amount_fen <= 0:
        raise Invalid("the amount must be positive", code="bad_amount")
    referable = arrears_fen(session, customer.id, today()) + outstanding_fen(session, customer.id)
    if amount_fen > referable:
        raise Invalid(f"{format_yuan(amount_fen)} yuan is more than the debt of {format_yuan(referable)} yuan "
                      "(overdue and written off)", code="referral_above_debt")
    open_id = session.scalar(select(Referral.id).where(Referral.customer_id == customer.id,
                                                       Referral.status == ReferralStatus.referred))
    if open_id is not None:
        raise Conflict(f"customer {customer.code} is already with an agency (referral #{open_id})",
                       code="referral_open")
    ref = Referral(customer_id=customer.id, agency=agency[:200], amount_fen=amount_fen,
                   referred_on=referred_on or today(), status=ReferralStatus.referred, recovered_fen=0,
                   note=(note or "").strip() or None, referred_by=referred_by)
    session.add(ref)
    session.flush()  # the id goes into the audit entry
    audit.record(session, "debt.referred", "customer", customer.code, actor=referred_by, referral_id=ref.id,
                 agency=ref.agency, amount=format_yuan(amount_fen), referred_on=ref.referred_on.isoformat())
    return ref


def get_referral(session: Session, referral_id: int, customer: Customer) -> Referral:
    """The referral with this id of this customer."""
    ref = session.get(Referral, referral_id)
    if ref is None or ref.customer_id != customer.id:
        raise NotFound(f"no referral #{referral_id} of customer {customer.code}", code="referral_not_found")
    return ref


def close_referral(session: Session, ref: Referral, *, status: str, closed_by: str, recovered_fen: int = 0,
                   closed_on: dt.date | None = None, note: str | None = None) -> Referral:
    """The agency returned the debt uncollected, or reports what it recovered (the money itself comes in
    as a payment through a channel like any other)."""
    if status not in (ReferralStatus.returned, ReferralStatus.recovered):
        raise Invalid("a referral closes as returned or recovered", code="bad_status")
    if ref.status != ReferralStatus.referred:
        raise Conflict(f"referral #{ref.id} is already {ref.status}", code="referral_closed")
    if recovered_fen < 0 or recovered_fen > ref.amount_fen:
        raise Invalid("what was recovered lies between 0 and the amount referred", code="bad_amount")
    if status == ReferralStatus.recovered and recovered_fen <= 0:
        raise Invalid("say how much the agency recovered", code="bad_amount")
    ref.status, ref.closed_by, ref.closed_on = status, closed_by, closed_on or today()
    ref.recovered_fen = recovered_fen
    if note and note.strip():
        ref.note = ((ref.note + "\n") if ref.note else "") + note.strip()
    code = session.scalar(select(Customer.code).where(Customer.id == ref.customer_id))
    audit.record(session, f"debt.referral_{status}", "customer", code, actor=closed_by, referral_id=ref.id,
                 agency=ref.agency, recovered=format_yuan(recovered_fen), closed_on=ref.closed_on.isoformat())
    return ref


def referrals_of(session: Session, customer: Customer) -> list[Referral]:
    """The customer's referrals, newest first."""
    return list(session.scalars(select(Referral).where(Referral.customer_id == customer.id)
                                .order_by(Referral.referred_on.desc(), Referral.id.desc())))
