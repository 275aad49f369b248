"""The dunning ladder (催费流程): recomputed every night from the open items, never stepped forward blindly.

`nightly` (job collections.dunning) finds, for every customer in one pass, the open items: each bill
issued by the day less what was allocated to it (oldest bill first), bills on hold left out. The
step is the furthest one of the [dunning] ladder that the oldest open item's due date and the
amount owed reach, so a customer who paid drops back to no step at once. Each step reached writes
its notice once (keyed by customer, step and due date), an officer step a work item, and a
disconnection step a disconnection order, unless the customer is exempt (a critical load, or a
good credit grade: 欠费不停机). A big customer's ladder starts with its account manager's call before the due
date ([big_customers] manager_call_days; a call on the worklist for the manager). Customers of a demolition or
clearance site are left off the ladder: their arrears are on the clearance track (recovery.buildings.clearance).

A customer who has paid is never cut off: the amounts are read on the latest data as well (every
allocation, provisional payments included, also those dated after the day, e.g. a bank's data that
came a day late), the smaller figure counts, and an order is re-checked again when its execution is
requested (`request_execution`) and when a supervisor other than the requester approves it and it is
carried out (`carry_out_execution`, `execute_order`). A disconnected customer whose arrears are cleared
is recorded as reconnected.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, and_, case, cast, delete, exists, func, insert, literal, or_, select, text, update
from sqlalchemy.orm import Session

from recovery import bulk, policy
from recovery.approvals import service as approvals
from recovery.approvals.models import ApprovalRequest
from recovery.audit import service as audit
from recovery.bigcustomers.models import BigCustomer
from recovery.billing.models import Bill
from recovery.collections.assignment import assignees
from recovery.collections.models import (
    BillHold,
    CollectionExemption,
    DisconnectionOrder,
    DunningChange,
    DunningState,
    ExemptionKind,
    OrderStatus,
    WorkItem,
    WorkStatus,
)
from recovery.collections.policy import Step, big_customer_steps, dunning_policy, ladder
from recovery.credit.models import CreditOverride, CreditRating
from recovery.customers.models import Customer
from recovery.errors import Conflict, Invalid, NotFound
from recovery.events.models import Event, EventKind
from recovery.ledger.models import Allocation, LedgerEntry
from recovery.notifications import service as notices
from recovery.notifications.models import Notification
from recovery.timeutil import now, start_of_day, today

SOURCE = "collections"
EXECUTE_KIND = "disconnection.execute"
ACTOR = "job:collections.dunning"


# ---------------------------------------------------------------------------------------------- open items


def open_items(day: dt.date, customers=None):
    """Per customer with an open (not held) bill at the end of `day`: due_on (the oldest open bill's),
    owed_fen, overdue_fen, and the same two on the latest data (latest_owed_fen, latest_overdue_fen)."""
    end = start_of_day(day + dt.timedelta(days=1))
    alloc = select(Allocation.bill_id, Allocation.amount_fen, Allocation.allocated_at)
    if customers is not None:
        alloc = alloc.where(Allocation.customer_id.in_(customers))
    alloc = alloc.subquery("alloc")
    paid = (
        select(alloc.c.bill_id,
               func.sum(case((alloc.c.allocated_at < end, alloc.c.amount_fen), else_=0)).label("by_day"),
               func.sum(alloc.c.amount_fen).label("latest"))
        .group_by(alloc.c.bill_id)
        .subquery("paid")
    )
    held = exists().where(BillHold.bill_id == Bill.id, BillHold.placed_on <= day,
                          or_(BillHold.released_on.is_(None), BillHold.released_on > day))
    bills = (
        select(Bill.customer_id, Bill.due_on,
               (Bill.amount_fen - func.coalesce(paid.c.by_day, 0)).label("unpaid"),
               (Bill.amount_fen - func.coalesce(paid.c.latest, 0)).label("latest"))
        .join(paid, paid.c.bill_id == Bill.id, isouter=True)
        .where(Bill.issued_on <= day, Bill.amount_fen > 0, ~held)
    )
    if customers is not None:
        bills = bills.where(Bill.customer_id.in_(customers))
    b = bills.subquery("open_bills")
    due = b.c.due_on < day

    def total(amount, *where):
        return func.coalesce(func.sum(case((and_(amount > 0, *where), amount), else_=0)), 0)

    return (
        select(b.c.customer_id,
               func.min(case((b.c.unpaid > 0, b.c.due_on))).label("due_on"),
               total(b.c.unpaid).label("owed_fen"), total(b.c.unpaid, due).label("overdue_fen"),
               total(b.c.latest).label("latest_owed_fen"), total(b.c.latest, due).label("latest_overdue_fen"))
        .group_by(b.c.customer_id)
        .having(func.sum(case((b.c.unpaid > 0, 1), else_=0)) > 0)
    )


def latest_balance(customers=None):
    """Per customer: the ledger balance on the latest data (every entry, whatever its date)."""
    query = select(LedgerEntry.customer_id, func.sum(LedgerEntry.amount_fen).label("balance_fen"))
    if customers is not None:
        query = query.where(LedgerEntry.customer_id.in_(customers))
    return query.group_by(LedgerEntry.customer_id)


def critical_loads(day: dt.date):
    """Ids of customers holding a critical-load exemption in force on `day`."""
    return select(CollectionExemption.customer_id).where(
        CollectionExemption.kind == ExemptionKind.critical_load, CollectionExemption.valid_from <= day,
        or_(CollectionExemption.valid_until.is_(None), CollectionExemption.valid_until >= day),
        or_(CollectionExemption.revoked_on.is_(None), CollectionExemption.revoked_on > day))


def good_credit(day: dt.date, grades: list[str]):
    """Ids of customers whose grade on `day` (a supervisor's override first, else the latest rating) is one
    of `grades`; customers never rated count with the policy's starting grade."""
    from recovery.credit.rating.ratings import rating_policy

    active = and_(CreditOverride.starts_on <= day, CreditOverride.expires_on >= day,
                  CreditOverride.revoked_at.is_(None))
    overridden = select(CreditOverride.customer_id).where(active)
    override = select(CreditOverride.customer_id).where(CreditOverride.id.in_(
        select(func.max(CreditOverride.id)).where(active).group_by(CreditOverride.customer_id)),
        CreditOverride.grade.in_(grades))
    latest = (select(CreditRating.customer_id, func.max(CreditRating.rated_on).label("rated_on"))
              .where(CreditRating.rated_on <= day).group_by(CreditRating.customer_id).subquery("latest"))
    rated = (select(CreditRating.customer_id)
             .join(latest, and_(latest.c.customer_id == CreditRating.customer_id,
                                latest.c.rated_on == CreditRating.rated_on))
             .where(CreditRating.grade.in_(grades), CreditRating.customer_id.not_in(overridden)))
    parts = [override, rated]
    if rating_policy().starting_grade in grades:
        parts.append(select(Customer.id).where(Customer.id.not_in(overridden),
                                               Customer.id.not_in(select(CreditRating.customer_id)
                                                                  .where(CreditRating.rated_on <= day))))
    return parts[0].union(*parts[1:])


def _least(a, b):
    return case((a < b, a), else_=b)


def _step_case(items, day: dt.date, steps: tuple[Step, ...], big_steps: tuple[Step, ...] = ()):
    """The furthest step each row of `items` reaches (NULL: none); `big_steps` only for big customers' rows."""
    whens = []
    for s in sorted((*steps, *big_steps), key=lambda s: s.days, reverse=True):
        amount = (_least(items.c.overdue_fen, items.c.latest_overdue_fen) if s.days > 0
                  else _least(items.c.owed_fen, items.c.latest_owed_fen))
        cond = and_(items.c.due_on <= day - dt.timedelta(days=s.days), amount >= s.min_fen)
        if s.disconnects:
            # Never a disconnection for an exempt customer, nor for one whose ledger shows nothing owed.
            cond = and_(cond, items.c.exemption.is_(None), items.c.latest_balance_fen > 0)
        if s in big_steps:
            cond = and_(cond, items.c.big == 1)
        whens.append((cond, literal(s.name)))
    return case(*whens, else_=None)


def _text(template: str, due_on):
    """The notice text with {due_on} filled in by the database (one INSERT … SELECT per step)."""
    before, placeholder, after = template.partition("{due_on}")
    return literal(before) + cast(due_on, String) + literal(after) if placeholder else literal(template)


# ---------------------------------------------------------------------------------------------- the night


def nightly(session: Session, day: dt.date) -> dict:
    """Job collections.dunning for `day`: the ladder recomputed, notices, work, orders, reconnections."""
    from recovery.buildings.clearance import covered as on_clearance_track

    rules = dunning_policy()
    steps = ladder(rules)
    # A big customer's ladder starts earlier: the account manager's call before the due date.
    extra = big_customer_steps()
    if {s.name for s in extra} & {s.name for s in steps}:
        raise Invalid(f"[dunning] steps may not be named {', '.join(s.name for s in extra)}: big customers' step")
    disconnecting = [s.name for s in steps if s.disconnects]

    items = bulk.temp_table(session, "dunning_items", {
        "customer_id": bulk.ID, "due_on": bulk.DATE_T, "owed_fen": bulk.FEN, "overdue_fen": bulk.FEN,
        "latest_owed_fen": bulk.FEN, "latest_overdue_fen": bulk.FEN, "latest_balance_fen": bulk.FEN,
        "exemption": String(20), "step": String(40), "big": bulk.ID})
    found = open_items(day).subquery("found")
    balance = latest_balance().subquery("balance")
    session.execute(insert(items).from_select(
        ["customer_id", "due_on", "owed_fen", "overdue_fen", "latest_owed_fen", "latest_overdue_fen",
         "latest_balance_fen"],
        select(found, func.coalesce(balance.c.balance_fen, 0))
        .join(balance, balance.c.customer_id == found.c.customer_id, isouter=True)))
    # The per-customer lookups below (correlated by customer_id) use this instead of scanning the table.
    session.execute(text("CREATE INDEX ix_dunning_items_customer ON dunning_items (customer_id)"))
    i = items.c
    # A demolition or clearance site's arrears are on their own track (recovery.buildings.clearance).
    session.execute(delete(items).where(i.customer_id.in_(on_clearance_track(day))))
    session.execute(update(items).where(i.customer_id.in_(
        select(BigCustomer.customer_id).where(BigCustomer.ended_on.is_(None)))).values(big=1))
    session.execute(update(items).where(i.customer_id.in_(critical_loads(day)))
                    .values(exemption=ExemptionKind.critical_load.value))
    session.execute(update(items).where(i.exemption.is_(None),
                                        i.customer_id.in_(good_credit(day, rules["good_credit_grades"])))
                    .values(exemption="good_credit"))
    session.execute(update(items).values(step=_step_case(items, day, steps, extra)))
    session.execute(delete(items).where(i.step.is_(None)))

    _store_states(session, items, day)
    issued = _act_on_steps(session, day, (*steps, *extra))
    cancelled = session.execute(
        update(DisconnectionOrder)
        .where(DisconnectionOrder.status == OrderStatus.open, DisconnectionOrder.source == SOURCE,
               DisconnectionOrder.customer_id.not_in(
                   select(DunningState.customer_id).where(DunningState.step.in_(disconnecting))))
        .values(status=OrderStatus.cancelled, closed_on=day)).rowcount
    reconnected = _reconnect(session, items, day, rules["reconnection_text"])

    counts = dict(session.execute(select(DunningState.step, func.count()).group_by(DunningState.step)).all())
    summary = {
        "day": day.isoformat(),
        "on_ladder": sum(counts.values()),
        "steps": {s.name: int(counts.get(s.name, 0)) for s in steps},
        "big_customer_steps": {s.name: int(counts.get(s.name, 0)) for s in extra},
        "exempt": session.scalar(select(func.count()).select_from(DunningState)
                                 .where(DunningState.exemption.is_not(None))) or 0,
        "changed": session.scalar(select(func.count()).select_from(DunningChange)
                                  .where(DunningChange.changed_on == day)) or 0,
        "orders_issued": session.scalar(select(func.count()).select_from(DisconnectionOrder).where(
            DisconnectionOrder.source == SOURCE, DisconnectionOrder.ordered_on == day)) or 0,
        "orders_cancelled": session.scalar(select(func.count()).select_from(DisconnectionOrder).where(
            DisconnectionOrder.source == SOURCE, DisconnectionOrder.status == OrderStatus.cancelled,
            DisconnectionOrder.closed_on == day)) or 0,
        "reconnections": session.scalar(select(func.count()).select_from(Event).where(
            Event.kind == EventKind.reconnection, Event.occurred_on == day)) or 0,
    }
    if issued or cancelled or reconnected:
        audit.record(session, "dunning.orders", "job", "collections.dunning", actor=ACTOR, day=day.isoformat(),
                     issued=issued, cancelled=cancelled, reconnected=reconnected)
    return summary


def _store_states(session: Session, items, day: dt.date) -> None:
    """dunning_states made equal to `items`; every change of step (or of due date) kept in dunning_changes."""
    i = items.c
    s = DunningState
    old = select(s.step).where(s.customer_id == i.customer_id).scalar_subquery()
    created = literal(now(), DunningChange.created_at.type)
    changed_items = or_(~exists().where(s.customer_id == i.customer_id),
                        exists().where(s.customer_id == i.customer_id, or_(s.step != i.step, s.due_on != i.due_on)))
    session.execute(insert(DunningChange).from_select(
        ["customer_id", "changed_on", "from_step", "to_step", "created_at"],
        select(i.customer_id, literal(day, DunningChange.changed_on.type), old, i.step, created)
        .where(changed_items)
        .union_all(select(s.customer_id, literal(day, DunningChange.changed_on.type), s.step,
                          literal(None, String), created)
                   .where(s.customer_id.not_in(select(i.customer_id))))))
    session.execute(delete(s).where(s.customer_id.not_in(select(i.customer_id))))
    mine = select(i.step).where(i.customer_id == s.customer_id).scalar_subquery()
    mine_due = select(i.due_on).where(i.customer_id == s.customer_id).scalar_subquery()
    session.execute(update(s).where(or_(s.step != mine, s.due_on != mine_due))
                    .values(step=mine, due_on=mine_due, since=day))
    session.execute(update(s).values(
        overdue_fen=select(i.overdue_fen).where(i.customer_id == s.customer_id).scalar_subquery(),
        exemption=select(i.exemption).where(i.customer_id == s.customer_id).scalar_subquery(),
        updated_on=day))
    session.execute(insert(s).from_select(
        ["customer_id", "step", "since", "due_on", "overdue_fen", "exemption", "updated_on"],
        select(i.customer_id, i.step, literal(day, s.since.type), i.due_on, i.overdue_fen, i.exemption,
               literal(day, s.updated_on.type))
        .where(~exists().where(s.customer_id == i.customer_id))))


def _act_on_steps(session: Session, day: dt.date, steps: tuple[Step, ...]) -> int:
    """Each step's notice once per customer, step and due date; officer work (a manager's call goes to the
    customer's account manager); disconnection orders."""
    s = DunningState
    issued = 0
    for step in steps:
        at = s.step == step.name
        if step.channel in ("sms", "letter") or step.disconnects:
            key = literal("dunning:") + Customer.code + literal(f":{step.name}:") + cast(s.due_on, String)
            session.execute(insert(Notification).from_select(
                ["recipient", "kind", "subject_type", "subject_id", "body", "channel", "dedupe_key", "attempts",
                 "created_at"],
                select(literal("customer:") + Customer.code, literal(f"dunning.{step.name}"), literal("customer"),
                       Customer.code, _text(step.text, s.due_on),
                       literal("letter" if step.disconnects else step.channel), key, literal(0),
                       literal(now(), Notification.created_at.type))
                .join(Customer, Customer.id == s.customer_id)
                .where(at, ~exists().where(Notification.dedupe_key == key))))
        if step.channel == "officer":
            w = WorkItem
            session.execute(insert(w).from_select(
                ["customer_id", "due_on", "kind", "reason", "priority_fen", "status", "source_type", "created_at"],
                select(s.customer_id, s.since, literal("notice"), literal(step.name), s.overdue_fen,
                       literal(WorkStatus.open.value), literal("dunning"), literal(now(), w.created_at.type))
                .where(at, ~exists().where(w.customer_id == s.customer_id, w.kind == "notice",
                                           w.reason == step.name, w.due_on == s.since))))
        if step.channel == "manager_call":
            _manager_calls(session, step)
        if step.disconnects:
            d = DisconnectionOrder
            # One open order at a time (whatever filed it), and one order per time on this step.
            issued += session.execute(insert(d).from_select(
                ["customer_id", "reason", "ordered_on", "status", "source", "created_at"],
                select(s.customer_id, literal(step.name), literal(day, d.ordered_on.type),
                       literal(OrderStatus.open.value), literal(SOURCE), literal(now(), d.created_at.type))
                .where(at, ~exists().where(d.customer_id == s.customer_id, d.status == OrderStatus.open),
                       ~exists().where(d.customer_id == s.customer_id, d.source == SOURCE,
                                       d.ordered_on >= s.since)))).rowcount
    return issued


def _manager_calls(session: Session, step: Step) -> None:
    """A call for the account manager (the deputy when the manager no longer covers the customer) of each
    customer on the step, once per time on it, prioritised by the monthly bill."""

    s, w, a = DunningState, WorkItem, assignees()
    session.execute(insert(w).from_select(
        ["customer_id", "due_on", "kind", "reason", "priority_fen", "assigned_to", "status", "source_type",
         "created_at"],
        select(s.customer_id, s.since, literal("call"), literal(step.name),
               func.coalesce(BigCustomer.monthly_bill_fen, 0), a.c.assignee, literal(WorkStatus.open.value),
               literal("dunning"), literal(now(), w.created_at.type))
        .join(BigCustomer, BigCustomer.customer_id == s.customer_id, isouter=True)
        .join(a, a.c.customer_id == s.customer_id, isouter=True)
        .where(s.step == step.name, ~exists().where(w.customer_id == s.customer_id, w.kind == "call",
                                                     w.reason == step.name, w.due_on == s.since))))


def _disconnected(day: dt.date):
    """Customers whose last executed collections order (by `day`) has no reconnection since."""
    d = DisconnectionOrder
    last_cut = (select(d.customer_id, func.max(d.closed_on).label("cut_on"))
                .where(d.status == OrderStatus.executed, d.source == SOURCE, d.closed_on <= day)
                .group_by(d.customer_id).subquery("last_cut"))
    return select(last_cut.c.customer_id).where(~exists().where(
        Event.customer_id == last_cut.c.customer_id, Event.kind == EventKind.reconnection,
        Event.occurred_on >= last_cut.c.cut_on, Event.occurred_on <= day))


def _reconnect(session: Session, items, day: dt.date, body: str) -> int:
    """Disconnected customers with nothing overdue on the latest data: a reconnection event and a notice."""
    i = items.c
    still_owing = select(i.customer_id).where(i.latest_overdue_fen > 0)
    done = session.execute(insert(Event).from_select(
        ["customer_id", "kind", "occurred_on", "created_at"],
        select(Customer.id, literal(EventKind.reconnection.value), literal(day, Event.occurred_on.type),
               literal(now(), Event.created_at.type))
        .where(Customer.id.in_(_disconnected(day)), Customer.id.not_in(still_owing),
               ~exists().where(Event.customer_id == Customer.id, Event.kind == EventKind.reconnection,
                               Event.occurred_on == day)))).rowcount
    key = literal("reconnection:") + Customer.code + literal(":") + cast(Event.occurred_on, String)
    session.execute(insert(Notification).from_select(
        ["recipient", "kind", "subject_type", "subject_id", "body", "channel", "dedupe_key", "attempts", "created_at"],
        select(literal("customer:") + Customer.code, literal("dunning.reconnection"), literal("customer"),
               Customer.code, literal(body), literal("sms"), key, literal(0),
               literal(now(), Notification.created_at.type))
        .join(Event, Event.customer_id == Customer.id)
        .where(Event.kind == EventKind.reconnection, Event.occurred_on == day,
               ~exists().where(Notification.dedupe_key == key))))
    return done


# ---------------------------------------------------------------------------------------------- orders


def _ledger_balance(session: Session, customer: Customer) -> int:
    """The customer's ledger balance on the latest data (every entry, whatever its date)."""
    return int(session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
                              .where(LedgerEntry.customer_id == customer.id)) or 0)


def customer_arrears(session: Session, customer: Customer, day: dt.date | None = None) -> dict:
    """One customer's open items on the latest data: overdue and owed (held bills left out), ledger balance."""
    day = day or today()
    row = session.execute(open_items(day, [customer.id])).mappings().one_or_none()
    balance = _ledger_balance(session, customer)
    return {"overdue_fen": int(row["latest_overdue_fen"]) if row else 0,
            "owed_fen": int(row["latest_owed_fen"]) if row else 0,
            "due_on": row["due_on"] if row else None, "balance_fen": balance}


def exemption_of(session: Session, customer: Customer, day: dt.date | None = None) -> str | None:
    """Why the customer may not be disconnected on `day` (critical_load, good_credit), else None."""
    day = day or today()
    if session.scalar(critical_loads(day).where(CollectionExemption.customer_id == customer.id).limit(1)):
        return ExemptionKind.critical_load.value
    good = good_credit(day, dunning_policy()["good_credit_grades"]).subquery()
    (customer_id,) = good.c
    if session.scalar(select(customer_id).where(customer_id == customer.id).limit(1)):
        return "good_credit"
    return None


def get_order(session: Session, order_id: int, visible=None) -> DisconnectionOrder:
    """A disconnection order (among the customers `visible`, a select of ids), else NotFound."""
    query = select(DisconnectionOrder).where(DisconnectionOrder.id == order_id)
    if visible is not None:
        query = query.where(DisconnectionOrder.customer_id.in_(visible))
    order = session.scalar(query)
    if order is None:
        raise NotFound(f"no disconnection order #{order_id}", code="order_not_found")
    return order


def _paid_since(session: Session, order: DisconnectionOrder, customer: Customer) -> tuple[bool, int]:
    """Whether the latest data (provisional payments included) show the order's reason gone, and what the
    customer owes on them (overdue bills; for a prepaid order, the balance owed)."""
    if order.source == "prepaid":
        stop = policy.section("prepayment")["stop_below_fen"]
        balance = _ledger_balance(session, customer)
        return -balance >= stop, max(balance, 0)
    arrears = customer_arrears(session, customer)
    step = next((s for s in ladder(dunning_policy()) if s.name == order.reason), None)
    least = step.min_fen if step else 1
    return arrears["overdue_fen"] < least or arrears["balance_fen"] <= 0, arrears["overdue_fen"]


def _recheck(session: Session, order: DisconnectionOrder, *, by: str,
             on: dt.date) -> tuple[Customer, str | None, int]:
    """Lock the order's customer and read the latest data: the order's customer, why the order must not be
    carried out (paid, or exempt), in which case it is cancelled (audited), and what the customer owes.
    Refused when the order is not open."""
    # Serialise with a payment being posted for this customer (it locks the same row).
    session.execute(select(Customer.id).where(Customer.id == order.customer_id).with_for_update())
    session.refresh(order)
    if order.status != OrderStatus.open:
        raise Conflict(f"disconnection order #{order.id} is {order.status}, not open", code="order_not_open")
    customer = session.get(Customer, order.customer_id)
    why = None
    paid, owed_fen = _paid_since(session, order, customer)
    if paid:
        why = "paid"
    elif (exempt := exemption_of(session, customer, on)) and (order.source == SOURCE
                                                               or exempt == ExemptionKind.critical_load):
        why = exempt
    if why:
        order.status, order.closed_on = OrderStatus.cancelled, on
        audit.record(session, "disconnection.cancel", "disconnection_order", str(order.id), actor=by,
                     customer=customer.code, reason=why)
    return customer, why, owed_fen


def request_execution(session: Session, order: DisconnectionOrder, *, by: str, note: str | None = None,
                      on: dt.date | None = None) -> dict:
    """Ask a supervisor other than `by` to approve carrying out an open order (four eyes: no one cuts a
    customer off alone). The latest data are checked first: an order whose customer has paid, or is exempt,
    is cancelled at once instead, with nothing to approve. One request per order waits at a time."""
    on = on or today()
    customer, why, owed_fen = _recheck(session, order, by=by, on=on)
    if why:
        return {"order": order, "outcome": "cancelled", "reason": why, "request_id": None}
    reason = (note or "").strip() or f"{order.reason} ({order.source}), ordered on {order.ordered_on.isoformat()}"
    request = approvals.request_approval(
        session, EXECUTE_KIND, "disconnection_order", str(order.id), reason=reason, requested_by=by,
        payload={"customer": customer.code, "step": order.reason, "amount_fen": owed_fen})
    return {"order": order, "outcome": "awaiting_approval", "reason": order.reason, "request_id": request.id}


def carry_out_execution(session: Session, request: ApprovalRequest, decided_by: str) -> dict:
    """Approval handler of disconnection.execute: the order is carried out by the approver's decision, after
    checking the latest data once more (a payment may have come in since the request). An order closed
    meanwhile (paid and cancelled by the night's run, or withdrawn) is left as it is."""
    order = session.get(DisconnectionOrder, int(request.subject_id))
    if order is None:
        raise NotFound(f"no disconnection order #{request.subject_id}", code="order_not_found")
    session.refresh(order)
    if order.status != OrderStatus.open:
        return {"order_id": order.id, "outcome": order.status, "reason": "closed_before_approval"}
    result = execute_order(session, order, by=decided_by)
    return {"order_id": order.id, "outcome": result["outcome"], "reason": result["reason"],
            "requested_by": request.requested_by}


def pending_execution(session: Session, order_ids: list[int]) -> dict[int, ApprovalRequest]:
    """The waiting execution request of each of these orders, by order id."""
    waiting = approvals.waiting(session, EXECUTE_KIND, "disconnection_order", [str(i) for i in order_ids])
    return {int(subject): req for subject, req in waiting.items()}


def execute_order(session: Session, order: DisconnectionOrder, *, by: str, on: dt.date | None = None) -> dict:
    """Carry out an open order after re-checking the latest data: a customer who has paid (or is exempt)
    is never cut off, the order is cancelled instead. Audited; a disconnection event is recorded.

    Only an approved request reaches this (`carry_out_execution`); people ask through `request_execution`."""
    on = on or today()
    customer, why, _owed = _recheck(session, order, by=by, on=on)
    if why:
        return {"order": order, "outcome": "cancelled", "reason": why}
    order.status, order.closed_on = OrderStatus.executed, on
    if not session.scalar(select(Event.id).where(Event.customer_id == customer.id,
                                                 Event.kind == EventKind.disconnection, Event.occurred_on == on)):
        session.add(Event(customer_id=customer.id, kind=EventKind.disconnection, occurred_on=on))
    notices.notify(session, f"customer:{customer.code}", "dunning.disconnected",
                   notices.text("dunning.disconnected"),
                   subject_type="customer", subject_id=customer.code, channel="sms")
    audit.record(session, "disconnection.execute", "disconnection_order", str(order.id), actor=by,
                 customer=customer.code, reason=order.reason)
    return {"order": order, "outcome": "executed", "reason": order.reason}


def withdraw_order(session: Session, order: DisconnectionOrder, *, by: str, reason: str) -> DisconnectionOrder:
    """Cancel an open order by hand (a supervisor's decision); audited with the reason."""
    if order.status != OrderStatus.open:
        raise Conflict(f"disconnection order #{order.id} is {order.status}, not open", code="order_not_open")
    if not reason.strip():
        raise Invalid("a reason is required", code="reason_required")
    order.status, order.closed_on = OrderStatus.cancelled, today()
    audit.record(session, "disconnection.withdraw", "disconnection_order", str(order.id), actor=by, reason=reason)
    return order


# ---------------------------------------------------------------------------------------------- exemptions, holds


def set_exemption(session: Session, customer: Customer, *, kind: str, reason: str, valid_from: dt.date,
                  valid_until: dt.date | None, by: str) -> CollectionExemption:
    """Exempt a customer from disconnection (a supervisor's decision); audited."""
    if kind not in ExemptionKind.__members__:
        raise Invalid(f"unknown exemption kind {kind!r}", code="bad_kind")
    if valid_until is not None and valid_until < valid_from:
        raise Invalid("valid_until lies before valid_from", code="bad_dates")
    if not reason.strip():
        raise Invalid("a reason is required", code="reason_required")
    row = CollectionExemption(customer_id=customer.id, kind=kind, reason=reason.strip(), valid_from=valid_from,
                              valid_until=valid_until, set_by=by)
    session.add(row)
    session.flush()  # the audit entry names the new id
    audit.record(session, "exemption.set", "customer", customer.code, actor=by, id=row.id, kind=kind, reason=reason,
                 valid_from=valid_from.isoformat(), valid_until=valid_until.isoformat() if valid_until else None)
    return row


def revoke_exemption(session: Session, customer: Customer, exemption_id: int, *, by: str) -> CollectionExemption:
    """End an exemption from today on; audited."""
    row = session.scalar(select(CollectionExemption).where(CollectionExemption.id == exemption_id,
                                                           CollectionExemption.customer_id == customer.id))
    if row is None:
        raise NotFound(f"no exemption #{exemption_id} of customer {customer.code}")
    if row.revoked_on is not None:
        raise Conflict(f"exemption #{exemption_id} is already revoked")
    row.revoked_on, row.revoked_by = today(), by
    audit.record(session, "exemption.revoke", "customer", customer.code, actor=by, id=row.id)
    return row


def place_hold(session: Session, customer: Customer, bill_code: str, *, reason: str, by: str,
               on: dt.date | None = None) -> BillHold:
    """Put a disputed bill on hold: the ladder leaves it out until it is released. Audited."""
    bill = session.scalar(select(Bill).where(Bill.code == bill_code, Bill.customer_id == customer.id))
    if bill is None:
        raise NotFound(f"no bill {bill_code} of customer {customer.code}", code="bill_not_found")
    if session.scalar(select(BillHold.id).where(BillHold.bill_id == bill.id, BillHold.released_on.is_(None))):
        raise Conflict(f"bill {bill_code} is already on hold", code="already_on_hold")
    if not reason.strip():
        raise Invalid("a reason is required", code="reason_required")
    hold = BillHold(bill_id=bill.id, customer_id=customer.id, reason=reason.strip(), placed_on=on or today(),
                    placed_by=by)
    session.add(hold)
    session.flush()  # the audit entry names the new id
    audit.record(session, "bill.hold", "bill", bill_code, actor=by, id=hold.id, reason=reason)
    return hold


def release_hold(session: Session, customer: Customer, hold_id: int, *, by: str,
                 on: dt.date | None = None) -> BillHold:
    """Release a hold: from today the bill counts on the ladder again. Audited."""
    hold = session.scalar(select(BillHold).where(BillHold.id == hold_id, BillHold.customer_id == customer.id))
    if hold is None:
        raise NotFound(f"no hold #{hold_id} of customer {customer.code}")
    if hold.released_on is not None:
        raise Conflict(f"hold #{hold_id} is already released")
    if hold.dispute_id is not None:
        raise Conflict(f"hold #{hold_id} belongs to dispute #{hold.dispute_id}: it is released when the dispute is "
                       "resolved", code="hold_of_dispute")
    on = on or today()
    if on < hold.placed_on:
        raise Invalid("a hold cannot be released before it was placed", code="bad_date")
    hold.released_on, hold.released_by = on, by
    audit.record(session, "bill.release", "bill", str(hold.bill_id), actor=by, id=hold.id)
    return hold
