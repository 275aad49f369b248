"""Promises to pay and pay plans (分期还款), and the nightly check that finds them kept or broken.

What counts as paid: the customer's payments (not reversed) by their business date, wherever they
were allocated. A promise is kept when the payments from the day it was made through its date
reach its amount, broken when its date has passed without. A plan is completed when the payments
since it was made reach its total, broken when they fall short of the installments due more than
[dunning] plan_grace_days ago; a broken plan writes a broken_pay_plan event, which costs rating
points (recovery/credit/rating/ratings.py).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session

from recovery.audit import service as audit
from recovery.collections.models import (
    PayPlan,
    PayPlanInstallment,
    PlanStatus,
    Promise,
    PromiseStatus,
    Visit,
    WorkItem,
    WorkStatus,
)
from recovery.collections.policy import dunning_policy
from recovery.customers.models import Customer
from recovery.errors import Conflict, Invalid, NotFound
from recovery.events.models import Event, EventKind
from recovery.ledger.models import EntryKind, LedgerEntry
from recovery.payments.models import Payment, PaymentState
from recovery.timeutil import now, today

ACTOR = "job:collections.promises"
MAX_INSTALLMENTS = 36


def paid_between(customer_id, first, last):
    """What the customer paid (payments not reversed) with business dates from `first` through `last`:
    a correlated scalar subquery for set-based checks."""
    return (
        select(func.coalesce(func.sum(-LedgerEntry.amount_fen), 0))
        .join(Payment, Payment.id == LedgerEntry.payment_id)
        .where(LedgerEntry.customer_id == customer_id, LedgerEntry.kind == EntryKind.payment,
               Payment.state != PaymentState.reversed, LedgerEntry.effective_on >= first,
               LedgerEntry.effective_on <= last)
        .scalar_subquery()
    )


# ---------------------------------------------------------------------------------------------- promises


def make_promise(session: Session, customer: Customer, *, amount_fen: int, promised_on: dt.date, recorded_by: str,
                 made_on: dt.date | None = None, visit_id: int | None = None) -> Promise:
    """Record a promise to pay `amount_fen` by `promised_on` (optionally made on a visit); audited."""
    made_on = made_on or today()
    if amount_fen <= 0:
        raise Invalid("a promise is for an amount greater than 0", code="bad_amount")
    if promised_on < made_on:
        raise Invalid("the promised date lies before the day the promise was made", code="bad_promised_on")
    if promised_on > made_on + dt.timedelta(days=366):
        raise Invalid("a promise more than a year ahead is a pay plan, not a promise", code="bad_promised_on")
    if visit_id is not None and not session.scalar(select(Visit.id).where(Visit.id == visit_id,
                                                                          Visit.customer_id == customer.id)):
        raise NotFound(f"no visit #{visit_id} of customer {customer.code}", code="visit_not_found")
    promise = Promise(customer_id=customer.id, amount_fen=amount_fen, promised_on=promised_on, made_on=made_on,
                      recorded_by=recorded_by, visit_id=visit_id, status=PromiseStatus.open)
    session.add(promise)
    session.flush()  # the audit entry names the new id
    audit.record(session, "promise.make", "customer", customer.code, actor=recorded_by, promise=promise.id,
                 amount_fen=amount_fen, promised_on=promised_on.isoformat())
    return promise


def cancel_promise(session: Session, customer: Customer, promise_id: int, *, by: str) -> Promise:
    """Withdraw an open promise (recorded in error, or replaced by a pay plan); audited."""
    promise = session.scalar(select(Promise).where(Promise.id == promise_id, Promise.customer_id == customer.id))
    if promise is None:
        raise NotFound(f"no promise #{promise_id} of customer {customer.code}", code="promise_not_found")
    if promise.status != PromiseStatus.open:
        raise Conflict(f"promise #{promise_id} is {promise.status}, not open", code="promise_not_open")
    promise.status, promise.checked_on = PromiseStatus.cancelled, today()
    audit.record(session, "promise.cancel", "customer", customer.code, actor=by, promise=promise.id)
    return promise


def promises_of(session: Session, customer: Customer) -> list[Promise]:
    """The customer's promises, latest first."""
    return list(session.scalars(select(Promise).where(Promise.customer_id == customer.id)
                                .order_by(Promise.made_on.desc(), Promise.id.desc())))


# ---------------------------------------------------------------------------------------------- pay plans


def create_plan(session: Session, customer: Customer, *, installments: list[tuple[dt.date, int]], created_by: str,
                total_fen: int | None = None, note: str | None = None,
                created_on: dt.date | None = None) -> PayPlan:
    """A pay plan of dated installments; their amounts must add up to the total. One active plan per customer."""
    created_on = created_on or today()
    if not installments:
        raise Invalid("a pay plan needs at least one installment", code="no_installments")
    if len(installments) > MAX_INSTALLMENTS:
        raise Invalid(f"a pay plan has at most {MAX_INSTALLMENTS} installments", code="too_many_installments")
    dates = [d for d, _ in installments]
    for n, (due_on, amount) in enumerate(installments, start=1):
        if amount <= 0:
            raise Invalid(f"installment {n}: the amount must be greater than 0", code="bad_installment")
        if due_on < created_on:
            raise Invalid(f"installment {n}: due {due_on.isoformat()}, before the plan starts "
                          f"({created_on.isoformat()})", code="bad_installment")
    if dates != sorted(dates) or len(set(dates)) != len(dates):
        raise Invalid("installments must fall due on distinct dates, in order", code="bad_installment")
    scheduled = sum(a for _, a in installments)
    if total_fen is not None and scheduled != total_fen:
        from recovery.money import format_yuan

        raise Invalid(f"the installments add up to {format_yuan(scheduled)} yuan, not the plan's total "
                      f"{format_yuan(total_fen)}", code="installments_do_not_add_up")
    if session.scalar(select(PayPlan.id).where(PayPlan.customer_id == customer.id,
                                               PayPlan.status == PlanStatus.active)):
        raise Conflict(f"customer {customer.code} already has an active pay plan", code="plan_active")
    plan = PayPlan(customer_id=customer.id, total_fen=scheduled, created_on=created_on, created_by=created_by,
                   status=PlanStatus.active, note=(note or "").strip() or None)
    session.add(plan)
    session.flush()  # the installments point at the plan
    session.add_all([PayPlanInstallment(plan_id=plan.id, seq=n, due_on=d, amount_fen=a)
                     for n, (d, a) in enumerate(installments, start=1)])
    audit.record(session, "pay_plan.create", "customer", customer.code, actor=created_by, plan=plan.id,
                 total_fen=scheduled, installments=[[d.isoformat(), a] for d, a in installments])
    return plan


def cancel_plan(session: Session, customer: Customer, plan_id: int, *, by: str, reason: str) -> PayPlan:
    """End an active plan by agreement (not broken: no rating effect); audited with the reason."""
    plan = session.scalar(select(PayPlan).where(PayPlan.id == plan_id, PayPlan.customer_id == customer.id))
    if plan is None:
        raise NotFound(f"no pay plan #{plan_id} of customer {customer.code}", code="plan_not_found")
    if plan.status != PlanStatus.active:
        raise Conflict(f"pay plan #{plan_id} is {plan.status}, not active", code="plan_not_active")
    if not reason.strip():
        raise Invalid("a reason is required", code="reason_required")
    plan.status, plan.closed_on = PlanStatus.cancelled, today()
    audit.record(session, "pay_plan.cancel", "customer", customer.code, actor=by, plan=plan.id, reason=reason)
    return plan


def plans_of(session: Session, customer: Customer) -> list[dict]:
    """The customer's plans, latest first, each with its installments and what was paid since it was made."""
    plans = list(session.scalars(select(PayPlan).where(PayPlan.customer_id == customer.id)
                                 .order_by(PayPlan.created_on.desc(), PayPlan.id.desc())))
    rows = session.execute(select(PayPlanInstallment).where(PayPlanInstallment.plan_id.in_([p.id for p in plans]))
                           .order_by(PayPlanInstallment.plan_id, PayPlanInstallment.seq)).scalars().all()
    by_plan: dict[int, list] = {}
    for r in rows:
        by_plan.setdefault(r.plan_id, []).append(r)
    out = []
    for p in plans:
        paid = session.scalar(select(paid_between(literal(customer.id), p.created_on, p.closed_on or today())))
        out.append({"plan": p, "installments": by_plan.get(p.id, []), "paid_fen": int(paid or 0)})
    return out


# ---------------------------------------------------------------------------------------------- the night


def nightly(session: Session, day: dt.date) -> dict:
    """Job collections.promises for `day`: promises kept or broken, plans completed or broken. Set-based;
    a rerun of the day finds nothing left to decide."""
    grace = dunning_policy()["plan_grace_days"]
    p = Promise
    open_promise = and_(p.status == PromiseStatus.open, p.made_on <= day)
    paid_p = paid_between(p.customer_id, p.made_on, func.min(p.promised_on, day)
                          if session.get_bind().dialect.name == "sqlite" else func.least(p.promised_on, day))
    kept = list(session.scalars(select(p.id).where(open_promise, paid_p >= p.amount_fen)))
    if kept:
        session.execute(update(p).where(p.id.in_(kept)).values(status=PromiseStatus.kept, checked_on=day))
    broken = list(session.scalars(select(p.id).where(open_promise, p.promised_on < day, paid_p < p.amount_fen)))
    if broken:
        session.execute(update(p).where(p.id.in_(broken)).values(status=PromiseStatus.broken, checked_on=day))
        _follow_up(session, select(p.customer_id, p.id, p.amount_fen).where(p.id.in_(broken)), day,
                   "promise_followup", "promise_broken", "promise")

    plan = PayPlan
    active = and_(plan.status == PlanStatus.active, plan.created_on <= day)
    paid = paid_between(plan.customer_id, plan.created_on, literal(day, plan.created_on.type))
    completed = list(session.scalars(select(plan.id).where(active, paid >= plan.total_fen)))
    if completed:
        session.execute(update(plan).where(plan.id.in_(completed))
                        .values(status=PlanStatus.completed, closed_on=day))
    due = (select(func.coalesce(func.sum(PayPlanInstallment.amount_fen), 0))
           .where(PayPlanInstallment.plan_id == plan.id,
                  PayPlanInstallment.due_on < day - dt.timedelta(days=grace))
           .scalar_subquery())
    broken_plans = list(session.scalars(select(plan.id).where(active, plan.id.not_in(completed or [0]), paid < due)))
    if broken_plans:
        session.execute(update(plan).where(plan.id.in_(broken_plans)).values(status=PlanStatus.broken, closed_on=day))
        # The event the rating engine charges: one per customer per day (its natural key).
        session.execute(insert(Event).from_select(
            ["customer_id", "kind", "occurred_on", "amount_fen", "created_at"],
            select(plan.customer_id, literal(EventKind.broken_pay_plan.value), literal(day, Event.occurred_on.type),
                   func.sum(plan.total_fen), literal(now(), Event.created_at.type))
            .where(plan.id.in_(broken_plans),
                   ~exists().where(Event.customer_id == plan.customer_id, Event.kind == EventKind.broken_pay_plan,
                                   Event.occurred_on == day))
            .group_by(plan.customer_id)))
        _follow_up(session, select(plan.customer_id, plan.id, plan.total_fen).where(plan.id.in_(broken_plans)), day,
                   "plan_followup", "plan_broken", "pay_plan")
    if kept or broken or completed or broken_plans:
        audit.record(session, "collections.promises", "job", "collections.promises", actor=ACTOR,
                     day=day.isoformat(), promises_kept=kept, promises_broken=broken, plans_completed=completed,
                     plans_broken=broken_plans)

    def count(model, status, on_column) -> int:
        return session.scalar(select(func.count()).select_from(model).where(model.status == status,
                                                                            on_column == day)) or 0

    return {"day": day.isoformat(),
            "promises_kept": count(p, PromiseStatus.kept, p.checked_on),
            "promises_broken": count(p, PromiseStatus.broken, p.checked_on),
            "promises_open": session.scalar(select(func.count()).select_from(p)
                                            .where(p.status == PromiseStatus.open)) or 0,
            "plans_completed": count(plan, PlanStatus.completed, plan.closed_on),
            "plans_broken": count(plan, PlanStatus.broken, plan.closed_on),
            "plans_active": session.scalar(select(func.count()).select_from(plan)
                                           .where(plan.status == PlanStatus.active)) or 0}


def _follow_up(session: Session, rows, day: dt.date, kind: str, reason: str, source_type: str) -> None:
    """An officer's work item for each broken promise or plan (customer_id, source id, amount), once per day."""
    customer_id, source_id, amount = rows.subquery("broken").c
    w = WorkItem
    session.execute(insert(w).from_select(
        ["customer_id", "due_on", "kind", "reason", "priority_fen", "status", "source_type", "source_id",
         "created_at"],
        select(customer_id, literal(day, w.due_on.type), literal(kind), literal(reason), func.max(amount),
               literal(WorkStatus.open.value), literal(source_type), func.max(source_id),
               literal(now(), w.created_at.type))
        .where(~exists().where(w.customer_id == customer_id, w.kind == kind, w.reason == reason, w.due_on == day))
        .group_by(customer_id)))

