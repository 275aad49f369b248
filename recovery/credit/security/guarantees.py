"""Guarantees (担保): bank guarantee letters, letters of credit, sureties, mortgages and pledges.

Each answers for the customer up to its amount while it is valid. The nightly review moves them
active -> expiring -> expired and raises a task for the officer ahead of the end of validity;
calling one (four eyes) brings the recovered amount onto the customer's account as a Payment on
channel `guarantee`, settling the oldest bills.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import and_, func, insert, literal, select, update
from sqlalchemy.orm import Session

from recovery import bulk, policy
from recovery.approvals.models import ApprovalRequest
from recovery.approvals.service import request_approval
from recovery.audit import service as audit
from recovery.auth.models import Role, User, officer_grids
from recovery.credit.security.models import (
    LIVE_GUARANTEE,
    Guarantee,
    GuaranteeKind,
    GuaranteeStatus,
    SecurityTask,
    TaskStatus,
)
from recovery.customers.models import Customer
from recovery.errors import Conflict, Invalid, NotFound
from recovery.money import format_yuan
from recovery.payments.models import Channel, PaymentState
from recovery.payments.posting import post_payment
from recovery.timeutil import now, today
from recovery.types import UTCDateTime

GUARANTEE_ACCOUNT = "GUARANTEE"  # the channel_account of payments that call a guarantee
EXPIRY_TASK = "guarantee_expiry"
REVIEW_ACTOR = "job:credit.security_review"


def status_on(valid_from: dt.date, valid_until: dt.date, day: dt.date) -> str:
    """The status a live guarantee has on `day` by its dates alone."""
    if valid_until < day:
        return GuaranteeStatus.expired
    if valid_until - dt.timedelta(days=policy.section("guarantee")["expiry_notice_days"]) <= day:
        return GuaranteeStatus.expiring
    return GuaranteeStatus.active


def register(session: Session, customer: Customer, *, kind: str, guarantor: str, reference: str, amount_fen: int,
             valid_from: dt.date, valid_until: dt.date, created_by: str, note: str | None = None) -> Guarantee:
    """Record a guarantee the customer provided."""
    if kind not in GuaranteeKind.__members__:
        raise Invalid(f"kind must be one of {', '.join(GuaranteeKind)}: {kind!r}")
    if amount_fen <= 0:
        raise Invalid("the amount must be positive")
    if not guarantor or not guarantor.strip():
        raise Invalid("the guarantor is required")
    if not reference or not reference.strip():
        raise Invalid("the guarantee's reference (letter or contract number) is required")
    if valid_until < valid_from:
        raise Invalid("valid_until lies before valid_from")
    guarantor, reference = guarantor.strip()[:200], reference.strip()[:64]
    existing = session.scalar(select(Guarantee.id).where(Guarantee.guarantor == guarantor,
                                                         Guarantee.reference == reference))
    if existing is not None:
        raise Conflict(f"guarantee {reference} of {guarantor} is already recorded (#{existing})",
                       code="guarantee_recorded")
    g = Guarantee(customer_id=customer.id, kind=kind, guarantor=guarantor, reference=reference,
                  amount_fen=amount_fen, valid_from=valid_from, valid_until=valid_until,
                  status=status_on(valid_from, valid_until, today()), note=(note or None), created_by=created_by)
    session.add(g)
    session.flush()  # the id goes into the audit record
    audit.record(session, "guarantee.registered", "customer", customer.code, actor=created_by, guarantee_id=g.id,
                 kind=kind, guarantor=guarantor, reference=reference, amount=format_yuan(amount_fen),
                 valid_from=valid_from.isoformat(), valid_until=valid_until.isoformat())
    return g


def get_guarantee(session: Session, guarantee_id: int, customer: Customer | None = None) -> Guarantee:
    """The guarantee with this id (of this customer, when given)."""
    g = session.get(Guarantee, guarantee_id)
    if g is None or (customer is not None and g.customer_id != customer.id):
        raise NotFound(f"no guarantee #{guarantee_id}" + (f" of customer {customer.code}" if customer else ""),
                       code="guarantee_not_found")
    return g


def guarantees_of(session: Session, customer: Customer) -> list[Guarantee]:
    """The customer's guarantees, latest end of validity first."""
    return list(session.scalars(select(Guarantee).where(Guarantee.customer_id == customer.id)
                                .order_by(Guarantee.valid_until.desc(), Guarantee.id.desc())))


def held_guarantees(session: Session, as_of: dt.date, customer_ids: list[int] | None = None) -> pd.Series:
    """Non-cash security counted per customer on `as_of`: live guarantees valid that day, each at the
    policy's percentage of its face amount for its kind."""
    query = (select(Guarantee.customer_id, Guarantee.kind, func.sum(Guarantee.amount_fen).label("amount_fen"))
             .where(Guarantee.status.in_(LIVE_GUARANTEE), Guarantee.valid_from <= as_of,
                    Guarantee.valid_until >= as_of)
             .group_by(Guarantee.customer_id, Guarantee.kind))
    if customer_ids is not None:
        query = query.where(Guarantee.customer_id.in_(list(customer_ids)))
    session.flush()  # the read below goes through Core, which does not autoflush pending changes
    frame = bulk.read_frame(session, query)
    if frame.empty:
        return pd.Series([], dtype="int64", index=pd.Index([], name="customer_id"), name="held_fen")
    pct = frame["kind"].map(policy.section("guarantee")["count_percent"]).fillna(100).astype("int64")
    frame["held_fen"] = frame["amount_fen"].astype("int64") * pct // 100
    return frame.groupby("customer_id")["held_fen"].sum().astype("int64")


def release(session: Session, guarantee: Guarantee, *, released_by: str, reason: str) -> Guarantee:
    """Hand a guarantee back: it no longer counts as security."""
    if guarantee.status in (GuaranteeStatus.called, GuaranteeStatus.released):
        raise Conflict(f"guarantee #{guarantee.id} is already {guarantee.status}")
    if not reason or not reason.strip():
        raise Invalid("a reason is required")
    before = guarantee.status
    guarantee.status = GuaranteeStatus.released
    audit.record(session, "guarantee.released", "guarantee", str(guarantee.id), actor=released_by, before=before,
                 reason=reason.strip())
    return guarantee


def propose_call(session: Session, guarantee: Guarantee, *, requested_by: str, reason: str,
                 amount_fen: int | None = None) -> ApprovalRequest:
    """Ask a supervisor to call (cash) a guarantee against the customer's arrears."""
    from recovery.credit.security.deposits import arrears_fen

    if guarantee.status not in LIVE_GUARANTEE or guarantee.valid_until < today():
        raise Conflict(f"guarantee #{guarantee.id} is {guarantee.status}: it can no longer be called")
    arrears = arrears_fen(session, guarantee.customer_id, today())
    if arrears <= 0:
        raise Invalid("the customer has no arrears to call the guarantee for", code="no_arrears")
    amount_fen = min(guarantee.amount_fen, arrears) if amount_fen is None else amount_fen
    if amount_fen <= 0:
        raise Invalid("the amount must be positive")
    if amount_fen > guarantee.amount_fen:
        raise Invalid(f"guarantee #{guarantee.id} answers for at most {format_yuan(guarantee.amount_fen)} yuan")
    if amount_fen > arrears:
        raise Invalid(f"{format_yuan(amount_fen)} is more than the arrears of {format_yuan(arrears)} yuan")
    return request_approval(session, "guarantee.call", "guarantee", str(guarantee.id), reason=reason,
                            requested_by=requested_by, payload={"amount_fen": amount_fen})


def carry_out_call(session: Session, request: ApprovalRequest, decided_by: str) -> dict:
    """Approval handler of guarantee.call: the guarantee is called once (conditional UPDATE), and what
    it recovered is posted as a Payment on channel `guarantee` that settles the oldest bills."""
    g = get_guarantee(session, int(request.subject_id))
    amount = int(request.payload["amount_fen"])
    day = today()
    called = session.execute(
        update(Guarantee).where(Guarantee.id == g.id, Guarantee.status.in_(LIVE_GUARANTEE),
                                Guarantee.valid_until >= day)
        .values(status=GuaranteeStatus.called, called_fen=amount)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.expire(g)
    if called != 1:
        raise Conflict(f"guarantee #{g.id} is {g.status}: it can no longer be called", code="guarantee_not_live")
    code = session.scalar(select(Customer.code).where(Customer.id == g.customer_id))
    # The ordinary posting path: ledger entry and oldest-bill-first allocation, once per guarantee (channel_ref).
    payment = post_payment(session, channel=Channel.guarantee, channel_account=GUARANTEE_ACCOUNT, customer_code=code,
                           amount_fen=amount, channel_ref=f"G{g.id}", paid_at=now(), state=PaymentState.settled,
                           note=f"guarantee #{g.id} called")
    g.payment_id = payment.id
    audit.record(session, "guarantee.called", "customer", code, actor=decided_by, guarantee_id=g.id,
                 payment_id=payment.code, amount=format_yuan(amount), request_id=request.id)
    return {"payment_id": payment.code, "amount": format_yuan(amount)}


# ---------------------------------------------------------------- nightly


def refresh_statuses(session: Session, day: dt.date) -> dict:
    """Move live guarantees to expiring or expired by their dates on `day` (two set-based UPDATEs)."""
    notice = policy.section("guarantee")["expiry_notice_days"]
    expired = session.execute(
        update(Guarantee).where(Guarantee.status.in_(LIVE_GUARANTEE), Guarantee.valid_until < day)
        .values(status=GuaranteeStatus.expired).execution_options(synchronize_session=False)).rowcount
    expiring = session.execute(
        update(Guarantee).where(Guarantee.status == GuaranteeStatus.active, Guarantee.valid_until >= day,
                                Guarantee.valid_until <= day + dt.timedelta(days=notice))
        .values(status=GuaranteeStatus.expiring).execution_options(synchronize_session=False)).rowcount
    if expired or expiring:
        audit.record(session, "guarantee.statuses", "guarantees", day.isoformat(), actor=REVIEW_ACTOR,
                     expired=expired, expiring=expiring)
    return {"expired": expired, "expiring": expiring}


def raise_expiry_tasks(session: Session, day: dt.date) -> int:
    """A task for the officer of each guarantee within its notice period, once per guarantee and end of
    validity (INSERT ... SELECT of those without one). Returns the number raised."""
    notice = policy.section("guarantee")["expiry_notice_days"]
    # The grid's first active officer (lowest id); a grid without one leaves the task unassigned.
    officer = (select(officer_grids.c.grid_id, func.min(User.id).label("officer_id"))
               .join(User, User.id == officer_grids.c.user_id)
               .where(User.role == Role.officer, User.active.is_(True))
               .group_by(officer_grids.c.grid_id).subquery("officer"))
    existing = select(SecurityTask.id).where(SecurityTask.kind == EXPIRY_TASK,
                                             SecurityTask.guarantee_id == Guarantee.id,
                                             SecurityTask.due_on == Guarantee.valid_until)
    source = (
        select(literal(EXPIRY_TASK).label("kind"), Guarantee.customer_id, Guarantee.id.label("guarantee_id"),
               Guarantee.valid_until.label("due_on"), officer.c.officer_id,
               literal(TaskStatus.open.value).label("status"), literal(day).label("created_on"),
               literal(now(), UTCDateTime()).label("created_at"))
        .join(Customer, Customer.id == Guarantee.customer_id)
        .join(officer, officer.c.grid_id == Customer.grid_id, isouter=True)
        .where(and_(Guarantee.status.in_(LIVE_GUARANTEE), Guarantee.valid_until >= day,
                    Guarantee.valid_until <= day + dt.timedelta(days=notice)), ~existing.exists())
    )
    columns = ["kind", "customer_id", "guarantee_id", "due_on", "officer_id", "status", "created_on", "created_at"]
    # Counted through RETURNING: an INSERT ... SELECT's rowcount is -1 through SQLAlchemy on psycopg.
    table = SecurityTask.__table__
    return len(session.execute(insert(table).from_select(columns, source).returning(table.c.id)).all())


def close_settled_tasks(session: Session) -> int:
    """Close open expiry tasks whose guarantee was called or handed back meanwhile (one UPDATE)."""
    settled = select(Guarantee.id).where(Guarantee.status.in_((GuaranteeStatus.called, GuaranteeStatus.released)))
    return session.execute(
        update(SecurityTask).where(SecurityTask.kind == EXPIRY_TASK, SecurityTask.status == TaskStatus.open,
                                   SecurityTask.guarantee_id.in_(settled))
        .values(status=TaskStatus.done).execution_options(synchronize_session=False)).rowcount


def open_tasks(session: Session, customer: Customer) -> list[SecurityTask]:
    """The customer's open security tasks, soonest first."""
    return list(session.scalars(select(SecurityTask).where(SecurityTask.customer_id == customer.id,
                                                           SecurityTask.status == TaskStatus.open)
                                .order_by(SecurityTask.due_on, SecurityTask.id)))
