"""Deposits (保证金): the recommended amount, requests, receipts, application against arrears, refunds,
release after good behaviour and optional interest.

A deposit is a liability, never income: receiving one touches only the security ledger
(`deposit_entries`), never the customer's account. Only applying it against arrears moves money to
the account, as a Payment on channel `deposit` that settles the oldest bills like any other.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
from sqlalchemy import String, case, cast, func, insert, select, type_coerce, update
from sqlalchemy.orm import Session

from recovery import bulk, policy
from recovery.approvals.models import ApprovalRequest
from recovery.approvals.service import request_approval
from recovery.audit import service as audit
from recovery.billing.models import Bill
from recovery.credit.security.models import (
    MONEY_KINDS,
    Deposit,
    DepositEntry,
    DepositEntryKind,
    DepositStatus,
)
from recovery.customers.models import Customer
from recovery.errors import Conflict, Invalid, NotFound
from recovery.ledger.models import Allocation
from recovery.ledger.positions import classify, positions
from recovery.money import format_yuan
from recovery.payments.models import Channel, PaymentState
from recovery.payments.posting import post_payment
from recovery.timeutil import business_tz, now, today

DEPOSIT_ACCOUNT = "DEPOSIT"  # the channel_account of payments that apply a deposit


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months earlier (clamped to the month's last day)."""
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    m += 1
    last = (dt.date(y + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(y, m, min(day.day, last))


def _ratio(value: Decimal) -> tuple[int, int]:
    num, den = Decimal(value).as_integer_ratio()
    return int(num), int(den)


def _ceil_div(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    return -((-a) // b)


# ---------------------------------------------------------------- what to hold


def recommended_deposits(session: Session, as_of: dt.date, customer_ids: list[int] | None = None) -> pd.DataFrame:
    """Every customer's recommended deposit on `as_of`, in one query (index: customers.id).

    Columns: customer_class, months_billed, billed_fen, recommended_fen. The rule per class is the
    policy's: `multiple` times the average monthly bill of the last `months` months (over the months
    actually billed, so a customer of four months is not diluted), rounded up to `round_to`, at least
    `minimum`, at most `cap`.
    """
    rule = policy.section("deposit")
    since = months_before(as_of, rule["months"])
    billed = (
        select(Bill.customer_id, func.sum(Bill.amount_fen).label("billed_fen"),
               func.count(func.distinct(Bill.period)).label("months_billed"))
        .where(Bill.issued_on > since, Bill.issued_on <= as_of)
        .group_by(Bill.customer_id)
    )
    if customer_ids is not None:
        # One customer's page sums that customer's bills, not every customer's of the window.
        billed = billed.where(Bill.customer_id.in_(list(customer_ids)))
    billed = billed.subquery("billed")
    query = (select(Customer.id.label("customer_id"), Customer.customer_class,
                    func.coalesce(billed.c.billed_fen, 0).label("billed_fen"),
                    func.coalesce(billed.c.months_billed, 0).label("months_billed"))
             .join(billed, billed.c.customer_id == Customer.id, isouter=True))
    if customer_ids is not None:
        query = query.where(Customer.id.in_(list(customer_ids)))
    session.flush()  # the read below goes through Core, which does not autoflush pending changes
    frame = bulk.read_frame(session, query).set_index("customer_id")
    frame["billed_fen"] = frame["billed_fen"].astype("int64")
    frame["months_billed"] = frame["months_billed"].astype("int64")
    recommended = np.zeros(len(frame), dtype="int64")
    step = rule["round_to"]
    for cls, group in frame.groupby("customer_class").indices.items():
        c = rule["classes"].get(cls) or {"multiple": rule["multiple"], "cap": rule["cap"], "minimum": rule["minimum"]}
        num, den = _ratio(c["multiple"])
        billed_fen = frame["billed_fen"].to_numpy()[group]
        months = np.maximum(frame["months_billed"].to_numpy()[group], 1)
        # Exact integer arithmetic: multiple * average, rounded up to the step (no float touches money).
        amount = _ceil_div(billed_fen * num, months * den)
        amount = _ceil_div(amount, step) * step
        amount = np.maximum(amount, c["minimum"] or 0)
        if c["cap"] is not None:
            amount = np.minimum(amount, c["cap"])
        recommended[group] = amount
    frame["recommended_fen"] = recommended
    return frame


def held_cash(session: Session, as_of: dt.date | None = None, customer_ids: list[int] | None = None) -> pd.Series:
    """Cash held per customer (sum of the deposits' money entries up to `as_of`); customers holding none absent."""
    query = (select(DepositEntry.customer_id, func.sum(DepositEntry.amount_fen).label("held_fen"))
             .where(DepositEntry.kind.in_(MONEY_KINDS)).group_by(DepositEntry.customer_id))
    if as_of is not None:
        query = query.where(DepositEntry.effective_on <= as_of)
    if customer_ids is not None:
        query = query.where(DepositEntry.customer_id.in_(list(customer_ids)))
    session.flush()  # the read below goes through Core, which does not autoflush pending changes
    frame = bulk.read_frame(session, query)
    return frame.set_index("customer_id")["held_fen"].astype("int64")


def get_deposit(session: Session, deposit_id: int, customer: Customer | None = None) -> Deposit:
    """The deposit with this id (of this customer, when given)."""
    deposit = session.get(Deposit, deposit_id)
    if deposit is None or (customer is not None and deposit.customer_id != customer.id):
        raise NotFound(f"no deposit #{deposit_id}" + (f" of customer {customer.code}" if customer else ""),
                       code="deposit_not_found")
    return deposit


def deposits_of(session: Session, customer: Customer) -> list[dict]:
    """The customer's deposits, newest first, each with its entries."""
    deposits = session.scalars(select(Deposit).where(Deposit.customer_id == customer.id)
                               .order_by(Deposit.requested_on.desc(), Deposit.id.desc())).all()
    entries = session.scalars(select(DepositEntry).where(DepositEntry.customer_id == customer.id)
                              .order_by(DepositEntry.effective_on, DepositEntry.id)).all()
    by_deposit: dict[int, list[DepositEntry]] = {}
    for e in entries:
        by_deposit.setdefault(e.deposit_id, []).append(e)
    return [{"deposit": d, "entries": by_deposit.get(d.id, [])} for d in deposits]


# ---------------------------------------------------------------- requests and receipts


def _entry(session: Session, deposit: Deposit, kind: str, amount_fen: int, *, by: str, on: dt.date,
           reference: str | None = None, approval_id: int | None = None, note: str | None = None) -> DepositEntry:
    entry = DepositEntry(deposit_id=deposit.id, customer_id=deposit.customer_id, kind=kind, amount_fen=amount_fen,
                         effective_on=on, reference=reference, approval_id=approval_id, note=note, created_by=by)
    session.add(entry)
    session.flush()  # the entry's id goes into the audit record (and a deposit payment's channel_ref)
    return entry


def request_deposit(session: Session, customer: Customer, *, requested_by: str, reason: str,
                    amount_fen: int | None = None, as_of: dt.date | None = None) -> Deposit:
    """Ask the customer for a deposit: the given amount, or the top-up to the recommended one.

    Without an amount, a shortfall within the policy's tolerance asks for nothing (Invalid says so).
    Refused while an earlier request of the customer is still unpaid.
    """
    as_of = as_of or today()
    waiting = session.scalar(select(Deposit.id).where(Deposit.customer_id == customer.id,
                                                      Deposit.status == DepositStatus.requested))
    if waiting is not None:
        raise Conflict(f"deposit request #{waiting} of customer {customer.code} is still waiting for payment",
                       code="deposit_request_open")
    if amount_fen is None:
        amount_fen = top_up(session, customer, as_of)
        if amount_fen <= 0:
            raise Invalid(f"customer {customer.code} holds security within the tolerance of the recommended "
                          "deposit: no top-up to request", code="no_top_up_needed")
    if amount_fen <= 0:
        raise Invalid("the amount must be positive")
    deposit = Deposit(customer_id=customer.id, status=DepositStatus.requested, requested_fen=amount_fen,
                      requested_on=as_of, held_fen=0, reason=(reason or "").strip()[:500] or None,
                      created_by=requested_by)
    session.add(deposit)
    session.flush()  # the entries and the audit record need the deposit's id
    _entry(session, deposit, DepositEntryKind.requested, amount_fen, by=requested_by, on=as_of)
    audit.record(session, "deposit.requested", "customer", customer.code, actor=requested_by,
                 deposit_id=deposit.id, amount=format_yuan(amount_fen), reason=deposit.reason)
    return deposit


def top_up(session: Session, customer: Customer, as_of: dt.date) -> int:
    """What the customer should add to reach the recommended deposit; 0 within the tolerance."""
    from recovery.credit.security.guarantees import held_guarantees

    rule = policy.section("deposit")
    recommended = int(recommended_deposits(session, as_of, [customer.id])["recommended_fen"].iloc[0])
    held = int(held_cash(session, as_of, [customer.id]).sum()) + int(
        held_guarantees(session, as_of, [customer.id]).sum())
    short = recommended - held
    return short if short > rule["tolerance"] else 0


def receive(session: Session, customer: Customer, *, amount_fen: int, reference: str, received_by: str,
            received_on: dt.date | None = None, deposit_id: int | None = None) -> DepositEntry:
    """Record money received as deposit (a liability: the customer's bill balance does not change).

    It goes to `deposit_id`, else to the customer's open request, else to a new deposit. A receipt
    reference is recorded once per deposit: repeating it is a Conflict, never a second receipt.
    """
    if amount_fen <= 0:
        raise Invalid("the amount received must be positive")
    if not reference or not reference.strip():
        raise Invalid("a receipt reference is required")
    reference = reference.strip()[:64]
    received_on = received_on or today()
    if deposit_id is not None:
        deposit = get_deposit(session, deposit_id, customer)
    else:
        deposit = session.scalar(select(Deposit).where(Deposit.customer_id == customer.id,
                                                       Deposit.status == DepositStatus.requested)
                                 .order_by(Deposit.id).limit(1))
        if deposit is None:
            deposit = request_deposit(session, customer, requested_by=received_by, amount_fen=amount_fen,
                                      reason="received without a prior request", as_of=received_on)
    if deposit.status in (DepositStatus.closed, DepositStatus.cancelled):
        raise Conflict(f"deposit #{deposit.id} is {deposit.status}; record the money on a new deposit")
    seen = session.scalar(select(DepositEntry.deposit_id).where(
        DepositEntry.customer_id == customer.id, DepositEntry.kind == DepositEntryKind.received,
        DepositEntry.reference == reference))
    if seen is not None:
        raise Conflict(f"receipt {reference} of customer {customer.code} is already recorded (deposit #{seen})",
                       code="receipt_recorded")
    entry = _entry(session, deposit, DepositEntryKind.received, amount_fen, by=received_by, on=received_on,
                   reference=reference)
    session.execute(update(Deposit).where(Deposit.id == deposit.id).values(
        held_fen=Deposit.held_fen + amount_fen, status=DepositStatus.held,
        received_on=func.coalesce(Deposit.received_on, received_on)))
    session.expire(deposit)
    audit.record(session, "deposit.received", "customer", customer.code, actor=received_by, deposit_id=deposit.id,
                 entry_id=entry.id, amount=format_yuan(amount_fen), reference=reference)
    return entry


def cancel_request(session: Session, deposit: Deposit, *, cancelled_by: str, reason: str) -> Deposit:
    """Withdraw a request nothing has been paid on."""
    if deposit.status != DepositStatus.requested:
        raise Conflict(f"deposit #{deposit.id} is {deposit.status}; only an unpaid request can be cancelled")
    deposit.status = DepositStatus.cancelled
    audit.record(session, "deposit.cancelled", "deposit", str(deposit.id), actor=cancelled_by, reason=reason)
    return deposit


def _take(session: Session, deposit: Deposit, kind: str, amount_fen: int, *, by: str, approval_id: int | None,
          note: str | None = None) -> DepositEntry:
    """Take money out of a deposit. The conditional UPDATE is the guard: of two approvals racing for
    the same money, the second finds too little held and changes nothing."""
    if amount_fen <= 0:
        raise Invalid("the amount must be positive")
    taken = session.execute(
        update(Deposit).where(Deposit.id == deposit.id, Deposit.held_fen >= amount_fen,
                              Deposit.status == DepositStatus.held)
        .values(held_fen=Deposit.held_fen - amount_fen,
                status=case((Deposit.held_fen == amount_fen, DepositStatus.closed.value), else_=Deposit.status))
        .execution_options(synchronize_session=False)
    ).rowcount
    session.expire(deposit)
    if taken != 1:
        raise Conflict(f"deposit #{deposit.id} holds {format_yuan(deposit.held_fen)} yuan ({deposit.status}); "
                       f"{format_yuan(amount_fen)} cannot be taken from it", code="deposit_insufficient")
    return _entry(session, deposit, kind, -amount_fen, by=by, on=today(), approval_id=approval_id, note=note)


# ---------------------------------------------------------------- application, refund, release (four eyes)


def arrears_fen(session: Session, customer_id: int, as_of: dt.date) -> int:
    """The overdue part of the customer's balance on `as_of`."""
    row = session.execute(positions(as_of, select(Customer.id).where(Customer.id == customer_id))).mappings().one()
    return int(classify(pd.DataFrame([dict(row)]), as_of)["overdue_fen"].iloc[0])


def propose_application(session: Session, deposit: Deposit, *, requested_by: str, reason: str,
                        amount_fen: int | None = None) -> ApprovalRequest:
    """Ask a supervisor to apply (part of) a deposit against the customer's arrears."""
    arrears = arrears_fen(session, deposit.customer_id, today())
    if arrears <= 0:
        raise Invalid("the customer has no arrears to apply the deposit against", code="no_arrears")
    amount_fen = min(deposit.held_fen, arrears) if amount_fen is None else amount_fen
    _check_available(deposit, amount_fen)
    if amount_fen > arrears:
        raise Invalid(f"{format_yuan(amount_fen)} is more than the arrears of {format_yuan(arrears)} yuan")
    return request_approval(session, "deposit.apply", "deposit", str(deposit.id), reason=reason,
                            requested_by=requested_by, payload={"amount_fen": amount_fen})


def propose_refund(session: Session, deposit: Deposit, *, requested_by: str, reason: str,
                   amount_fen: int | None = None) -> ApprovalRequest:
    """Ask a supervisor to refund (part of) a deposit to the customer."""
    amount_fen = deposit.held_fen if amount_fen is None else amount_fen
    _check_available(deposit, amount_fen)
    return request_approval(session, "deposit.refund", "deposit", str(deposit.id), reason=reason,
                            requested_by=requested_by, payload={"amount_fen": amount_fen})


def _check_available(deposit: Deposit, amount_fen: int) -> None:
    if deposit.status != DepositStatus.held:
        raise Conflict(f"deposit #{deposit.id} is {deposit.status}: nothing is held on it")
    if amount_fen <= 0:
        raise Invalid("the amount must be positive")
    if amount_fen > deposit.held_fen:
        raise Invalid(f"deposit #{deposit.id} holds only {format_yuan(deposit.held_fen)} yuan")


def carry_out_application(session: Session, request: ApprovalRequest, decided_by: str) -> dict:
    """Approval handler of deposit.apply: the deposit entry, and a Payment on channel `deposit` that
    settles the oldest bills through the ordinary ledger and allocation."""
    deposit = get_deposit(session, int(request.subject_id))
    amount = min(int(request.payload["amount_fen"]), arrears_fen(session, deposit.customer_id, today()))
    if amount <= 0:
        raise Conflict("the customer has no arrears left to apply the deposit against", code="no_arrears")
    entry = _take(session, deposit, DepositEntryKind.applied, amount, by=decided_by, approval_id=request.id,
                  note=request.reason)
    code = session.scalar(select(Customer.code).where(Customer.id == deposit.customer_id))
    # channel_ref is the deposit entry: the payments' unique key then posts each application once.
    payment = post_payment(session, channel=Channel.deposit, channel_account=DEPOSIT_ACCOUNT, customer_code=code,
                           amount_fen=amount, channel_ref=str(entry.id), paid_at=now(), state=PaymentState.settled,
                           note=f"deposit #{deposit.id} applied")
    audit.record(session, "deposit.applied", "customer", code, actor=decided_by, deposit_id=deposit.id,
                 entry_id=entry.id, payment_id=payment.code, amount=format_yuan(amount), request_id=request.id)
    return {"entry_id": entry.id, "payment_id": payment.code, "amount": format_yuan(amount)}


def carry_out_refund(session: Session, request: ApprovalRequest, decided_by: str) -> dict:
    """Approval handler of deposit.refund: the money leaves the security ledger, back to the customer."""
    return _pay_out(session, request, decided_by, DepositEntryKind.refunded, int(request.payload["amount_fen"]))


def carry_out_release(session: Session, request: ApprovalRequest, decided_by: str) -> dict:
    """Approval handler of deposit.release: everything still held goes back (interest included)."""
    deposit = get_deposit(session, int(request.subject_id))
    return _pay_out(session, request, decided_by, DepositEntryKind.released, deposit.held_fen)


def _pay_out(session: Session, request: ApprovalRequest, decided_by: str, kind: str, amount: int) -> dict:
    deposit = get_deposit(session, int(request.subject_id))
    entry = _take(session, deposit, kind, amount, by=decided_by, approval_id=request.id, note=request.reason)
    code = session.scalar(select(Customer.code).where(Customer.id == deposit.customer_id))
    audit.record(session, f"deposit.{kind}", "customer", code, actor=decided_by, deposit_id=deposit.id,
                 entry_id=entry.id, amount=format_yuan(amount), request_id=request.id)
    return {"entry_id": entry.id, "amount": format_yuan(amount)}


# ---------------------------------------------------------------- nightly: release and interest


RELEASE_ACTOR = "job:credit.deposit_release"


def behaviour(session: Session, customer_ids: list[int], since: dt.date, day: dt.date) -> pd.DataFrame:
    """Per customer: bills due in (since, day) paid late, and of those paid only in a later month
    (a bill still unpaid counts as paid today). One query; index customers.id."""
    paid = (select(Allocation.bill_id, func.sum(Allocation.amount_fen).label("paid_fen"),
                   func.max(Allocation.allocated_at).label("last_at"))
            .where(Allocation.customer_id.in_(customer_ids)).group_by(Allocation.bill_id).subquery())
    frame = bulk.read_frame(session, select(
        Bill.customer_id, Bill.amount_fen, type_coerce(Bill.due_on, String).label("due_on"),
        func.coalesce(paid.c.paid_fen, 0).label("paid_fen"), type_coerce(paid.c.last_at, String).label("last_at"),
    ).join(paid, paid.c.bill_id == Bill.id, isouter=True).where(
        Bill.customer_id.in_(customer_ids), Bill.due_on > since, Bill.due_on < day, Bill.amount_fen > 0))
    out = pd.DataFrame(index=pd.Index(customer_ids, name="customer_id"))
    if frame.empty:
        return out.assign(late=0, into_next_month=0)
    due = pd.to_datetime(frame["due_on"])
    settled = frame["paid_fen"].astype("int64") >= frame["amount_fen"].astype("int64")
    last = pd.to_datetime(frame["last_at"], utc=True, format="ISO8601").dt.tz_convert(business_tz())
    last = last.dt.tz_localize(None)
    paid_on = last.dt.normalize().where(settled, pd.Timestamp(day))
    late = paid_on > due
    later_month = (paid_on.dt.year * 12 + paid_on.dt.month) > (due.dt.year * 12 + due.dt.month)
    counts = pd.DataFrame({"customer_id": frame["customer_id"], "late": late, "into_next_month": late & later_month})
    return out.join(counts.groupby("customer_id")[["late", "into_next_month"]].sum()).fillna(0).astype("int64")


def eligible_for_release(session: Session, day: dt.date) -> pd.DataFrame:
    """Held deposits whose customers behaved well for the policy's years and that were never proposed
    for release before; columns deposit_id, customer_id, held_fen."""
    from recovery.credit.security.review import required_security

    rule = policy.section("deposit")
    since = months_before(day, 12 * rule["release_after_years"])
    proposed = select(ApprovalRequest.subject_id).where(ApprovalRequest.kind == "deposit.release",
                                                        ApprovalRequest.subject_type == "deposit")
    frame = bulk.read_frame(session, select(Deposit.id.label("deposit_id"), Deposit.customer_id, Deposit.held_fen)
                            .where(Deposit.status == DepositStatus.held, Deposit.held_fen > 0,
                                   Deposit.received_on <= since,
                                   cast(Deposit.id, String).not_in(proposed)))
    if frame.empty:
        return frame
    ids = sorted(set(frame["customer_id"].tolist()))
    marks = behaviour(session, ids, since, day)
    good = marks["late"] <= rule["release_max_late"]
    if rule["release_none_into_next_month"]:
        good &= marks["into_next_month"] == 0
    # A customer whose grade still requires security keeps it.
    required = required_security(session, day, ids)["required_fen"]
    good &= required.reindex(marks.index).fillna(0) <= 0
    return frame[frame["customer_id"].map(good).fillna(False).astype(bool)].reset_index(drop=True)


def propose_releases(session: Session, day: dt.date) -> dict:
    """Job credit.deposit_release: propose every eligible deposit for release (each at most once ever),
    and accrue interest if the policy pays any."""
    eligible = eligible_for_release(session, day)
    for row in eligible.itertuples(index=False):
        request_approval(session, "deposit.release", "deposit", str(row.deposit_id), requested_by=RELEASE_ACTOR,
                         reason=f"good behaviour up to {day.isoformat()}", payload={"amount_fen": int(row.held_fen)})
    return {"proposed": len(eligible), "interest": accrue_interest(session, day)}


def accrue_interest(session: Session, day: dt.date) -> dict:
    """Interest for the last complete month before `day` on each held deposit, once per deposit and month.

    Simple interest: held at the month's end x annual rate / 12, rounded half up to the fen.
    """
    rate = policy.section("deposit")["interest_rate_percent"]
    if rate <= 0:
        return {"entries": 0}
    month_end = day.replace(day=1) - dt.timedelta(days=1)
    period = month_end.strftime("%Y-%m")
    done = select(DepositEntry.deposit_id).where(DepositEntry.kind == DepositEntryKind.interest,
                                                 DepositEntry.reference.endswith(f":{period}"))
    frame = bulk.read_frame(session, select(
        DepositEntry.deposit_id, DepositEntry.customer_id, func.sum(DepositEntry.amount_fen).label("held_fen"))
        .join(Deposit, Deposit.id == DepositEntry.deposit_id)
        .where(Deposit.status == DepositStatus.held, DepositEntry.kind.in_(MONEY_KINDS),
               DepositEntry.effective_on <= month_end, DepositEntry.deposit_id.not_in(done))
        .group_by(DepositEntry.deposit_id, DepositEntry.customer_id))
    if frame.empty:
        return {"entries": 0, "period": period}
    num, den = _ratio(rate)
    den *= 100 * 12
    frame["interest_fen"] = (frame["held_fen"].astype("int64") * num * 2 + den) // (2 * den)
    frame = frame[frame["interest_fen"] > 0]
    if frame.empty:
        return {"entries": 0, "period": period}
    session.execute(insert(DepositEntry), [
        {"deposit_id": int(r.deposit_id), "customer_id": int(r.customer_id), "kind": DepositEntryKind.interest.value,
         "amount_fen": int(r.interest_fen), "effective_on": month_end, "reference": f"{int(r.deposit_id)}:{period}",
         "created_by": RELEASE_ACTOR, "posted_at": now()}
        for r in frame.itertuples(index=False)])
    # Held amounts of the credited deposits, recomputed from their entries (the sum is the truth).
    for_update = frame["deposit_id"].astype("int64").tolist()
    sums = (select(func.sum(DepositEntry.amount_fen)).where(DepositEntry.deposit_id == Deposit.id,
                                                             DepositEntry.kind.in_(MONEY_KINDS))
            .scalar_subquery())
    session.execute(update(Deposit).where(Deposit.id.in_(for_update)).values(held_fen=sums)
                    .execution_options(synchronize_session=False))
    audit.record(session, "deposit.interest", "deposits", period, actor=RELEASE_ACTOR, entries=len(frame),
                 total=format_yuan(int(frame["interest_fen"].sum())), rate_percent=str(rate))
    return {"entries": len(frame), "period": period, "total": format_yuan(int(frame["interest_fen"].sum()))}
