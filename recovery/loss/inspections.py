"""Inspections (用电检查), their outcome, the charges of a confirmed theft, and tip-offs (举报) with their reward.

An inspection task names a customer and an inspector (a user with the `inspector` role) and falls due
`[loss] inspection_days` later; a customer has at most one open task. The inspector (or a supervisor) records
the outcome:
- no finding: the task is done (a tip-off behind it is unfounded);
- violation (违约用电): a `violation` event, which costs rating points; a tip-off behind it is confirmed and its
  reward paid;
- theft confirmed (窃电): the stolen kWh and the tariff (yuan per kWh, on the inspection form) give the back-billing
  (补交电费) = kWh x tariff, rounded half up to the fen, and the penalty (违约使用电费) = `[loss] penalty_multiple`
  (3 by default, per the supply rules) x the back-billed amount, rounded half up to the fen. Both wait for a
  supervisor (approval `theft.charge`, never the recorder's own): on approval the back-billing and the penalty
  become bills with their ledger entries, the `theft` event is stored (theft caps the credit grade: the
  customer's rating is recomputed at once) and a tip-off behind it is confirmed and its reward paid. A rejected
  charge can be filed again with corrected figures.
The reward is the policy's amount (`[loss] tip_reward`), recorded as paid on the day the tip is confirmed; it is
the utility's expense, not a movement on any customer's account. Every step is audited.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recovery import ledger
from recovery.approvals.models import ApprovalRequest, ApprovalStatus
from recovery.approvals.service import request_approval
from recovery.audit import service as audit
from recovery.auth.models import Role, User
from recovery.auth.permissions import Action, may
from recovery.billing.models import Bill
from recovery.customers.models import Customer
from recovery.errors import Conflict, Forbidden, Invalid, NotFound
from recovery.events.models import Event, EventKind
from recovery.ledger.allocations import reallocate
from recovery.ledger.models import EntryKind
from recovery.loss.models import Inspection, InspectionSource, InspectionStatus, Outcome, TipOff, TipStatus
from recovery.loss.policy import LossPolicy
from recovery.money import format_yuan
from recovery.timeutil import now

CHARGE = "theft.charge"
TIP_CHANNELS = ("phone", "visit", "online", "letter")
TARIFF = re.compile(r"^(\d{1,3})(?:\.(\d{1,4}))?\Z", re.ASCII)


# ---------------------------------------------------------------- money


def parse_tariff(text: str) -> int:
    """A tariff in yuan per kWh with at most four decimals ('0.5383') as ten-thousandths of a yuan (5383)."""
    m = TARIFF.match((text or "").strip())
    if not m:
        raise Invalid(f"not a tariff in yuan per kWh with at most four decimals: {text!r}", code="bad_tariff")
    value = int(m.group(1)) * 10_000 + int((m.group(2) or "0").ljust(4, "0"))
    if value <= 0:
        raise Invalid("the tariff must be above 0", code="bad_tariff")
    return value


def format_tariff(e4: int) -> str:
    return f"{e4 // 10_000}.{e4 % 10_000:04d}"


def backbill_fen(kwh: int, tariff_e4: int) -> int:
    """kWh x tariff in fen, rounded half up: 1234 kWh at 0.5383 yuan is 664.2622 yuan -> 66426 fen."""
    # tariff_e4 is hundredths of a fen per kWh: the product is in hundredths of a fen.
    return (kwh * tariff_e4 + 50) // 100


def penalty_fen(backbill: int, multiple: Decimal) -> int:
    """The theft penalty: `multiple` x the back-billed amount, rounded half up to the fen."""
    return int((Decimal(backbill) * multiple).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------- tasks


def inspectors(session: Session) -> list[User]:
    """Active users who inspect."""
    return list(session.scalars(select(User).where(User.role == Role.inspector, User.active.is_(True))
                                .order_by(User.username)))


def _inspector(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or user.role != Role.inspector:
        raise Invalid(f"{username!r} is no active inspector", code="not_an_inspector")
    return user


def assign(session: Session, customer: Customer, *, inspector: str, assigned_by: str, role: str, day: dt.date,
           p: LossPolicy, source: str = InspectionSource.manual, period: str | None = None,
           tip: TipOff | None = None, note: str | None = None) -> Inspection:
    """Send an inspector to the customer; refused while the customer has an open inspection."""
    if not may(role, Action.assign_inspections):
        raise Forbidden(f"a {role} may not assign inspections", code="role_not_allowed")
    if source not in InspectionSource.__members__:
        raise Invalid(f"unknown source {source!r}")
    user = _inspector(session, inspector)
    session.flush()  # a tip-off just added needs its id
    open_id = session.scalar(select(Inspection.id).where(Inspection.customer_id == customer.id,
                                                         Inspection.status == InspectionStatus.open))
    if open_id is not None:
        raise Conflict(f"customer {customer.code} already has an open inspection (#{open_id})",
                       code="inspection_open")
    task = Inspection(customer_id=customer.id, source=source, period=period, tip_id=tip.id if tip else None,
                      assigned_to=user.id, assigned_by=assigned_by, due_on=day + dt.timedelta(days=p.inspection_days),
                      status=InspectionStatus.open, note=(note or "").strip()[:2000] or None)
    session.add(task)
    session.flush()  # the id goes into the audit entry
    audit.record(session, "inspection.assigned", "customer", customer.code, actor=assigned_by,
                 inspection_id=task.id, inspector=user.username, source=source, period=period,
                 due_on=task.due_on.isoformat())
    return task


def get(session: Session, inspection_id: int) -> Inspection:
    task = session.get(Inspection, inspection_id)
    if task is None:
        raise NotFound(f"no inspection #{inspection_id}", code="inspection_not_found")
    return task


def _may_record(session: Session, task: Inspection, username: str, role: str) -> None:
    if may(role, Action.record_any_inspection):
        return
    assignee = session.get(User, task.assigned_to)
    if role != Role.inspector or assignee is None or assignee.username != username:
        raise Forbidden("only the inspector it is assigned to, or a supervisor, records an inspection's outcome",
                        code="not_your_inspection")


def record_outcome(session: Session, task: Inspection, *, outcome: str, inspected_on: dt.date, finding: str | None,
                   recorded_by: str, role: str, day: dt.date, p: LossPolicy, stolen_kwh: int | None = None,
                   tariff: str | None = None) -> dict:
    """Record what the inspection found (see the module's docstring); returns what it did."""
    _may_record(session, task, recorded_by, role)
    if task.status != InspectionStatus.open:
        raise Conflict(f"inspection #{task.id} is already {task.status}", code="inspection_closed")
    if outcome not in Outcome.__members__:
        raise Invalid(f"unknown outcome {outcome!r}", code="bad_outcome")
    if inspected_on > day:
        raise Invalid("the inspection date lies in the future", code="bad_date")
    if outcome == Outcome.theft_confirmed and not (finding or "").strip():
        raise Invalid("describe what was found (the evidence of theft)", code="finding_required")
    customer = session.get(Customer, task.customer_id)
    task.outcome, task.inspected_on = outcome, inspected_on
    task.finding = (finding or "").strip()[:2000] or None
    task.recorded_by, task.recorded_at = recorded_by, now()
    done: dict = {"inspection_id": task.id, "outcome": outcome}
    if outcome == Outcome.theft_confirmed:
        task.status = InspectionStatus.theft_pending
        done.update(_file_charge(session, task, customer, stolen_kwh=stolen_kwh, tariff=tariff, by=recorded_by, p=p))
    else:
        task.status = InspectionStatus.done
        if outcome == Outcome.violation:
            done["event_id"] = _event(session, customer, EventKind.violation, inspected_on, None)
            done.update(_confirm_tip(session, task, day, recorded_by, p))
        else:
            done.update(_tip_unfounded(session, task, recorded_by))
    audit.record(session, "inspection.recorded", "customer", customer.code, actor=recorded_by,
                 inspected_on=inspected_on.isoformat(), finding=task.finding, **done)
    return done


def refile_charge(session: Session, task: Inspection, *, stolen_kwh: int | None, tariff: str | None, by: str,
                  role: str, p: LossPolicy) -> dict:
    """File a confirmed theft's charges again after a supervisor rejected them (corrected figures)."""
    _may_record(session, task, by, role)
    if task.status != InspectionStatus.theft_pending:
        raise Conflict(f"inspection #{task.id} has no theft charges waiting to be filed", code="nothing_to_file")
    if charge_state(session, task) == ApprovalStatus.pending:
        raise Conflict(f"the charges of inspection #{task.id} are already waiting for a supervisor",
                       code="charge_pending")
    customer = session.get(Customer, task.customer_id)
    done = _file_charge(session, task, customer, stolen_kwh=stolen_kwh, tariff=tariff, by=by, p=p)
    audit.record(session, "inspection.charge_refiled", "customer", customer.code, actor=by, inspection_id=task.id,
                 **done)
    return done


def _file_charge(session: Session, task: Inspection, customer: Customer, *, stolen_kwh: int | None,
                 tariff: str | None, by: str, p: LossPolicy) -> dict:
    if stolen_kwh is None or isinstance(stolen_kwh, bool) or not isinstance(stolen_kwh, int) or stolen_kwh <= 0:
        raise Invalid("give the stolen energy in whole kWh, above 0", code="bad_kwh")
    tariff_e4 = parse_tariff(tariff or "")
    back = backbill_fen(stolen_kwh, tariff_e4)
    penalty = penalty_fen(back, p.penalty_multiple)
    task.stolen_kwh, task.tariff_e4, task.backbill_fen, task.penalty_fen = stolen_kwh, tariff_e4, back, penalty
    req = request_approval(
        session, CHARGE, "inspection", str(task.id), requested_by=by,
        reason=f"theft confirmed at {customer.code}: {stolen_kwh} kWh x {format_tariff(tariff_e4)} yuan",
        payload={"customer_id": customer.code, "stolen_kwh": stolen_kwh, "tariff": format_tariff(tariff_e4),
                 "backbill": format_yuan(back), "penalty": format_yuan(penalty),
                 "amount": format_yuan(back + penalty), "penalty_multiple": str(p.penalty_multiple)})
    task.approval_id = req.id
    return {"request_id": req.id, "backbill": format_yuan(back), "penalty": format_yuan(penalty)}


def charge_state(session: Session, task: Inspection) -> str | None:
    """The state of the latest charge request of a confirmed theft (pending, approved, rejected, cancelled)."""
    if task.approval_id is None:
        return None
    return session.scalar(select(ApprovalRequest.status).where(ApprovalRequest.id == task.approval_id))


def carry_out_theft_charge(session: Session, request: ApprovalRequest, decided_by: str) -> dict:
    """Approval handler of theft.charge: the back-billing and penalty bills with their ledger entries, the theft
    event, the customer's rating recomputed, a tip-off behind it confirmed (its reward paid), all audited."""
    from recovery.credit.rating.ratings import rate
    from recovery.loss.policy import loss_policy
    from recovery.timeutil import today

    task = session.scalar(select(Inspection).where(Inspection.id == int(request.subject_id)).with_for_update())
    if task is None:
        raise NotFound(f"no inspection #{request.subject_id}", code="inspection_not_found")
    if task.status != InspectionStatus.theft_pending or task.backbill_bill_id is not None:
        raise Conflict(f"inspection #{task.id} has no theft charges waiting", code="nothing_to_charge")
    if task.approval_id != request.id:
        raise Conflict(f"request #{request.id} is not the latest charge of inspection #{task.id}: reject it",
                       code="stale_charge")
    customer = session.get(Customer, task.customer_id)
    # Lock the customer, as a payment posting does: the allocation below must not race one.
    session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
    p = loss_policy()
    day = today()
    user_id = session.scalar(select(User.id).where(User.username == decided_by))
    period = task.inspected_on.strftime("%Y-%m")
    due = day + dt.timedelta(days=p.backbill_due_days)
    bills = {}
    for key, kwh, amount, note in (
            ("BACKBILL", task.stolen_kwh, task.backbill_fen,
             f"back-billing of {task.stolen_kwh} kWh stolen, inspection #{task.id}"),
            ("PENALTY", 0, task.penalty_fen,
             f"theft penalty, {p.penalty_multiple} x the back-billing, inspection #{task.id}")):
        code = f"THEFT-{task.id}-{key}"
        if session.scalar(select(Bill.id).where(Bill.code == code)) is not None:
            raise Conflict(f"bill {code} already exists", code="bill_exists")
        bill = Bill(code=code, customer_id=customer.id, period=period, kwh=kwh, amount_fen=amount, issued_on=day,
                    due_on=due)
        session.add(bill)
        session.flush()  # the bill's id goes into its ledger entry
        ledger.post(session, customer_id=customer.id, kind=EntryKind.bill, amount_fen=amount, effective_on=day,
                    bill_id=bill.id, note=note, created_by=user_id)
        bills[key] = bill
    reallocate(session, [customer.id])
    task.backbill_bill_id, task.penalty_bill_id = bills["BACKBILL"].id, bills["PENALTY"].id
    task.event_id = _event(session, customer, EventKind.theft, task.inspected_on, task.backbill_fen)
    task.status, task.charged_at = InspectionStatus.done, now()
    session.flush()  # the rating reads the new event through Core
    grades = rate(session, day, [customer.id])["grades"]
    tip = _confirm_tip(session, task, day, decided_by, p)
    done = {"inspection_id": task.id, "backbill_bill": bills["BACKBILL"].code, "penalty_bill": bills["PENALTY"].code,
            "backbill": format_yuan(task.backbill_fen), "penalty": format_yuan(task.penalty_fen),
            "event_id": task.event_id, "grade": next((g for g, n in grades.items() if n), None), **tip}
    audit.record(session, "theft.charged", "customer", customer.code, actor=decided_by, request_id=request.id,
                 requested_by=request.requested_by, **done)
    return done


def _event(session: Session, customer: Customer, kind: EventKind, day: dt.date, amount_fen: int | None) -> int:
    """The customer's event of this kind on this day (one per day is the events' natural key): stored now, or the
    one already there."""
    found = session.scalar(select(Event.id).where(Event.customer_id == customer.id, Event.kind == kind,
                                                  Event.occurred_on == day))
    if found is not None:
        return found
    event = Event(customer_id=customer.id, kind=kind, occurred_on=day, amount_fen=amount_fen)
    session.add(event)
    session.flush()  # its id is kept on the inspection
    return event.id


# ---------------------------------------------------------------- tip-offs


def record_tip(session: Session, customer: Customer, *, channel: str, received_on: dt.date, note: str,
               tipster: str | None, recorded_by: str, role: str, inspector: str, day: dt.date,
               p: LossPolicy) -> TipOff:
    """Record a tip-off and send an inspector to check it."""
    if channel not in TIP_CHANNELS:
        raise Invalid(f"unknown channel {channel!r}; one of {', '.join(TIP_CHANNELS)}", code="bad_channel")
    if not (note or "").strip():
        raise Invalid("say what the tip-off reports", code="note_required")
    if received_on > day:
        raise Invalid("the tip-off's date lies in the future", code="bad_date")
    tip = TipOff(customer_id=customer.id, received_on=received_on, channel=channel,
                 tipster=(tipster or "").strip()[:200] or None, note=note.strip()[:2000], recorded_by=recorded_by,
                 status=TipStatus.open)
    session.add(tip)
    session.flush()  # the id goes into the inspection and the audit entry
    audit.record(session, "tip.recorded", "customer", customer.code, actor=recorded_by, tip_id=tip.id,
                 channel=channel, received_on=received_on.isoformat())
    assign(session, customer, inspector=inspector, assigned_by=recorded_by, role=role, day=day, p=p,
           source=InspectionSource.tip, tip=tip, note=tip.note)
    return tip


def _confirm_tip(session: Session, task: Inspection, day: dt.date, actor: str, p: LossPolicy) -> dict:
    if task.tip_id is None:
        return {}
    tip = session.get(TipOff, task.tip_id)
    if tip.status == TipStatus.confirmed:
        return {}
    tip.status, tip.reward_fen, tip.reward_paid_on = TipStatus.confirmed, p.tip_reward_fen, day
    audit.record(session, "tip.reward_paid", "tip", str(tip.id), actor=actor, inspection_id=task.id,
                 reward=format_yuan(p.tip_reward_fen), paid_on=day.isoformat())
    return {"tip_id": tip.id, "reward": format_yuan(p.tip_reward_fen)}


def _tip_unfounded(session: Session, task: Inspection, actor: str) -> dict:
    if task.tip_id is None:
        return {}
    tip = session.get(TipOff, task.tip_id)
    tip.status = TipStatus.unfounded
    audit.record(session, "tip.unfounded", "tip", str(tip.id), actor=actor, inspection_id=task.id)
    return {"tip_id": tip.id}


# ---------------------------------------------------------------- reading


def tasks(session: Session, *, assigned_to: int | None = None, status: str | None = None,
          limit: int = 200) -> list[dict]:
    """Inspection tasks (one inspector's, or everyone's), open ones first by due date, then the latest done."""
    inspector = select(User.display_name).where(User.id == Inspection.assigned_to).scalar_subquery()
    approval = (select(ApprovalRequest.status).where(ApprovalRequest.id == Inspection.approval_id)
                .scalar_subquery())
    stmt = select(Inspection, Customer.code, Customer.name, inspector.label("inspector"),
                  approval.label("charge_state")).join(Customer, Customer.id == Inspection.customer_id)
    if assigned_to is not None:
        stmt = stmt.where(Inspection.assigned_to == assigned_to)
    if status:
        stmt = stmt.where(Inspection.status == status)
    stmt = stmt.order_by((Inspection.status == InspectionStatus.done).asc(), Inspection.due_on, Inspection.id.desc())
    return [{"task": t, "code": code, "name": name, "inspector": who, "charge_state": state,
             "tariff": format_tariff(t.tariff_e4) if t.tariff_e4 else None}
            for t, code, name, who, state in session.execute(stmt.limit(limit)).all()]


def tips(session: Session, limit: int = 100) -> list[dict]:
    """The latest tip-offs with their customer and status."""
    rows = session.execute(select(TipOff, Customer.code, Customer.name)
                           .join(Customer, Customer.id == TipOff.customer_id)
                           .order_by(TipOff.received_on.desc(), TipOff.id.desc()).limit(limit)).all()
    return [{"tip": t, "code": code, "name": name} for t, code, name in rows]


def open_count(session: Session, user_id: int) -> int:
    """How many open inspections an inspector has."""
    return session.scalar(select(func.count()).select_from(Inspection).where(
        Inspection.assigned_to == user_id, Inspection.status == InspectionStatus.open)) or 0
