"""The nightly worklist build (job collections.worklist, 05:00 for the day beginning): segments, account
managers, early warnings and today's work items, each inserted once per (customer, kind, reason, due_on).

What is due, and the expected recoverable amount that orders the list (priority_fen, integer fen):
- promise_followup / promise_due: an open promise falling due today — the promised amount;
- promise_followup / promise_broken: a promise due yesterday and still open (the promises job marks it
  broken tonight under the same key) — the promised amount;
- plan_followup / plan_due: a pay-plan installment falling due (within [worklist] plan_remind_days) that
  the payments since the plan began do not cover yet — the installments due, less what was paid;
- call or visit / follow_up: the next step an officer scheduled for today on a visit or call;
- call or visit / segment_call, segment_visit: the customer's value segment asks for contact every N
  days, the last contact of that kind is older, and the customer is in arrears or high-value (never a
  second one while one is open);
  for these two: the overdue amount x (1 - pd);
- call / early_warning_zero_consumption, early_warning_drop: the latest bill, issued in the last
  [worklist] warning_days days, shows no kWh (after some before) or fewer than (1 - drop_share) x the
  average of the previous history_min..history_max bills — the expected loss, monthly bill x pd;
- call / early_warning_first_late: a bill fell due in those days unpaid, and the customer is good (a
  good grade, or no late bill in the 12 months before) — the expected loss, its unpaid amount x pd.
A disputed bill on hold (collections.models.BillHold) is left out of the overdue amount and raises no
first-late warning while the hold lasts: nobody is sent to collect what is under dispute.
Early warnings are raised once per bill, whichever morning first sees it.
pd is the latest score's probability of arrears ([worklist] unscored_pd when never scored), taken in
integer basis points. Items are assigned to the customer's manager (the deputy when the manager no longer
covers the customer; none: whoever works the grid).

Open contacts by frequency and scheduled follow-ups are repriced each night. Superseded open items are
dismissed: promise follow-ups of promises kept or cancelled, installment
follow-ups of plans no longer active, and, for customers who owe nothing by the day, everything except
consumption warnings, scheduled follow-ups and a high-value customer's routine contacts.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Integer, and_, case, cast, exists, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from recovery import bulk
from recovery.billing.models import Bill
from recovery.collections.models import (
    BillHold,
    ContactKind,
    PayPlan,
    PayPlanInstallment,
    PlanStatus,
    Promise,
    PromiseStatus,
    Visit,
    WorkItem,
    WorkStatus,
)
from recovery.collections.promises import paid_between
from recovery.credit.models import CreditRating
from recovery.ledger.models import Allocation, LedgerEntry
from recovery.ledger.positions import positions
from recovery.timeutil import now, start_of_day
from recovery.worklist import coverage
from recovery.worklist.models import CustomerSegment, ValueSegment
from recovery.worklist.policy import segments_policy, worklist_policy

ACTOR = "job:collections.worklist"
BP = 10_000  # basis points
# Kept open when the customer has paid everything: they are not about arrears.
KEPT_WHEN_PAID_UP = ("early_warning_zero_consumption", "early_warning_drop", "follow_up", "big_customer_new")


class Reason:
    promise_due = "promise_due"
    promise_broken = "promise_broken"
    plan_due = "plan_due"
    follow_up = "follow_up"
    segment_call = "segment_call"
    segment_visit = "segment_visit"
    zero_consumption = "early_warning_zero_consumption"
    drop = "early_warning_drop"
    first_late = "early_warning_first_late"


def _held(day: dt.date):
    """The bill (correlated with Bill) is on hold on `day`: disputed, so nobody is sent to collect it."""
    return exists().where(BillHold.bill_id == Bill.id, BillHold.placed_on <= day,
                          or_(BillHold.released_on.is_(None), BillHold.released_on > day))


def _held_overdue(day: dt.date):
    """Per customer with an overdue bill on hold on `day`: what is unpaid of those bills (held_fen)."""
    held = select(Bill.id).where(_held(day), Bill.due_on < day, Bill.amount_fen > 0)
    paid = (select(Allocation.bill_id, func.sum(Allocation.amount_fen).label("paid_fen"))
            .where(Allocation.bill_id.in_(held), Allocation.allocated_at < start_of_day(day + dt.timedelta(days=1)))
            .group_by(Allocation.bill_id).subquery("held_paid"))
    return (select(Bill.customer_id, func.sum(Bill.amount_fen - func.coalesce(paid.c.paid_fen, 0)).label("held_fen"))
            .join(paid, paid.c.bill_id == Bill.id, isouter=True)
            .where(Bill.id.in_(held)).group_by(Bill.customer_id))


def _facts(session: Session, day: dt.date):
    """A temporary table of what every customer's items need: overdue (bills on hold left out), pd in basis
    points, segment, monthly bill and the assignee."""
    rules = worklist_policy()
    table = bulk.temp_table(session, "worklist_facts", {
        "customer_id": bulk.ID, "overdue_fen": bulk.FEN, "pd_bp": Integer(), "value_segment": bulk.TEXT,
        "monthly_fen": bulk.FEN, "assignee": bulk.TEXT}, key="customer_id")
    pos = positions(day).subquery("pos")
    held = _held_overdue(day).subquery("held")
    a = coverage.assignees()
    overdue = pos.c.balance_fen - pos.c.not_due_fen - func.coalesce(held.c.held_fen, 0)
    session.execute(insert(table).from_select(
        ["customer_id", "overdue_fen", "pd_bp", "value_segment", "monthly_fen", "assignee"],
        select(pos.c.customer_id, case((overdue > 0, overdue), else_=0),
               func.coalesce(cast(func.round(CustomerSegment.pd * BP), Integer), rules["unscored_pd_bp"]),
               func.coalesce(CustomerSegment.value_segment, ValueSegment.low.value),
               func.coalesce(CustomerSegment.monthly_bill_fen, 0), a.c.assignee)
        .join(held, held.c.customer_id == pos.c.customer_id, isouter=True)
        .join(CustomerSegment, CustomerSegment.customer_id == pos.c.customer_id, isouter=True)
        .join(a, a.c.customer_id == pos.c.customer_id, isouter=True)))
    return table


def recoverable(amount, pd_bp):
    """amount x (1 - pd), integer fen."""
    return amount * (BP - pd_bp) // BP


def expected_loss(amount, pd_bp):
    """amount x pd, integer fen."""
    return amount * pd_bp // BP


def _insert(session: Session, day: dt.date, facts, candidates, *, kind: str, reason: str,
            source_type: str | None) -> int:
    """Insert one item per customer of `candidates` (customer_id, priority_fen, source_id) unless the key
    (customer, kind, reason, today) is there already; returns how many were new."""
    c = candidates.subquery("candidates")
    g = (select(c.c.customer_id, func.max(c.c.priority_fen).label("priority_fen"),
                func.max(c.c.source_id).label("source_id"))
         .group_by(c.c.customer_id).subquery("grouped"))
    w = WorkItem
    # Counted through RETURNING: an INSERT ... SELECT's rowcount is -1 through SQLAlchemy on psycopg.
    result = session.execute(insert(w.__table__).from_select(
        ["customer_id", "due_on", "kind", "reason", "priority_fen", "assigned_to", "status", "source_type",
         "source_id", "created_at"],
        select(g.c.customer_id, literal(day, w.due_on.type), literal(kind), literal(reason),
               func.coalesce(g.c.priority_fen, 0), facts.c.assignee, literal(WorkStatus.open.value),
               literal(source_type, w.source_type.type), g.c.source_id, literal(now(), w.created_at.type))
        .join(facts, facts.c.customer_id == g.c.customer_id)
        .where(~exists().where(w.customer_id == g.c.customer_id, w.kind == kind, w.reason == reason,
                               w.due_on == day))).returning(w.__table__.c.id))
    return len(result.all())


def _not_raised_for(reason: str, source_type: str, source_id) -> object:
    """No work item of this reason was ever raised for this source (a bill, a promise)."""
    w = WorkItem
    return ~exists().where(w.reason == reason, w.source_type == source_type, w.source_id == source_id)


def _promises(session: Session, day: dt.date, facts) -> dict:
    p = Promise
    due = _insert(session, day, facts, select(p.customer_id, p.amount_fen.label("priority_fen"),
                                              p.id.label("source_id"))
                  .where(p.status == PromiseStatus.open, p.promised_on == day),
                  kind="promise_followup", reason=Reason.promise_due, source_type="promise")
    broken = _insert(session, day, facts, select(p.customer_id, p.amount_fen.label("priority_fen"),
                                                 p.id.label("source_id"))
                     .where(p.status == PromiseStatus.open, p.promised_on == day - dt.timedelta(days=1),
                            _not_raised_for(Reason.promise_broken, "promise", p.id)),
                     kind="promise_followup", reason=Reason.promise_broken, source_type="promise")
    return {"promise_due": due, "promise_broken": broken}


def _installments(session: Session, day: dt.date, facts) -> int:
    ahead = day + dt.timedelta(days=worklist_policy()["plan_remind_days"])
    i, plan = PayPlanInstallment, PayPlan
    through = (select(func.sum(PayPlanInstallment.amount_fen))
               .where(PayPlanInstallment.plan_id == plan.id, PayPlanInstallment.due_on <= ahead)
               .correlate(plan).scalar_subquery())
    short = through - paid_between(plan.customer_id, plan.created_on, literal(day, plan.created_on.type))
    return _insert(session, day, facts, select(plan.customer_id, short.label("priority_fen"),
                                               plan.id.label("source_id"))
                   .join(i, i.plan_id == plan.id)
                   .where(plan.status == PlanStatus.active, i.due_on >= day, i.due_on <= ahead, short > 0),
                   kind="plan_followup", reason=Reason.plan_due, source_type="pay_plan")


def _scheduled(session: Session, day: dt.date, facts) -> int:
    n = 0
    for kind in ContactKind:
        n += _insert(session, day, facts, select(
            Visit.customer_id, recoverable(facts.c.overdue_fen, facts.c.pd_bp).label("priority_fen"),
            Visit.id.label("source_id"))
            .join(facts, facts.c.customer_id == Visit.customer_id)
            .where(Visit.next_on == day, Visit.kind == kind.value),
            kind=kind.value, reason=Reason.follow_up, source_type="visit")
    return n


def _by_frequency(session: Session, day: dt.date, facts) -> dict:
    """Visits and calls the segment's frequency asks for. The frequencies are a handful of policy values,
    so each is one INSERT … SELECT with its own cut-off date."""
    out = {Reason.segment_visit: 0, Reason.segment_call: 0}
    for segment, freq in segments_policy()["frequency"].items():
        for kind, reason, every in ((ContactKind.visit, Reason.segment_visit, freq["visit_every_days"]),
                                    (ContactKind.call, Reason.segment_call, freq["call_every_days"])):
            if not every:
                continue
            since = start_of_day(day - dt.timedelta(days=every - 1))
            recent = exists().where(Visit.customer_id == facts.c.customer_id, Visit.kind == kind.value,
                                    Visit.visited_at >= since)
            still_open = exists().where(WorkItem.customer_id == facts.c.customer_id, WorkItem.kind == kind.value,
                                        WorkItem.reason == reason, WorkItem.status == WorkStatus.open)
            out[reason] += _insert(session, day, facts, select(
                facts.c.customer_id, recoverable(facts.c.overdue_fen, facts.c.pd_bp).label("priority_fen"),
                literal(None, WorkItem.source_id.type).label("source_id"))
                .where(facts.c.value_segment == segment,
                       or_(facts.c.overdue_fen > 0, facts.c.value_segment == ValueSegment.high_value.value),
                       ~recent, ~still_open),
                kind=kind.value, reason=reason, source_type=None)
    return out


def _consumption(session: Session, day: dt.date, facts) -> dict:
    """Zero or sharply dropped consumption on a bill issued in the last [worklist] warning_days days,
    against the average of the customer's previous bills (history_min to history_max of them)."""
    rules = worklist_policy()
    first = day - dt.timedelta(days=rules["warning_days"])
    recent = select(Bill.customer_id).where(Bill.issued_on >= first, Bill.issued_on < day)
    numbered = (select(Bill.id, Bill.customer_id, Bill.kwh, Bill.issued_on,
                       func.row_number().over(partition_by=Bill.customer_id,
                                              order_by=(Bill.issued_on.desc(), Bill.id.desc())).label("n"))
                .where(Bill.issued_on < day, Bill.customer_id.in_(recent)).subquery("numbered"))
    history = (select(numbered.c.customer_id, func.avg(numbered.c.kwh).label("avg_kwh"),
                      func.count().label("bills"))
               .where(numbered.c.n > 1, numbered.c.n <= rules["history_max"] + 1)
               .group_by(numbered.c.customer_id).subquery("history"))
    latest = numbered.alias("latest")
    base = (select(latest.c.customer_id, expected_loss(facts.c.monthly_fen, facts.c.pd_bp).label("priority_fen"),
                   latest.c.id.label("source_id"))
            .join(history, history.c.customer_id == latest.c.customer_id)
            .join(facts, facts.c.customer_id == latest.c.customer_id)
            .where(latest.c.n == 1, latest.c.issued_on >= first))
    zero = _insert(session, day, facts, base.where(
        latest.c.kwh <= 0, history.c.avg_kwh > 0, _not_raised_for(Reason.zero_consumption, "bill", latest.c.id)),
        kind="call", reason=Reason.zero_consumption, source_type="bill")
    drop = _insert(session, day, facts, base.where(
        latest.c.kwh > 0, history.c.bills >= rules["history_min"],
        latest.c.kwh < history.c.avg_kwh * (1 - rules["drop_share"]),
        _not_raised_for(Reason.drop, "bill", latest.c.id)),
        kind="call", reason=Reason.drop, source_type="bill")
    return {Reason.zero_consumption: zero, Reason.drop: drop}


def _first_late(session: Session, day: dt.date, facts) -> int:
    """A bill that fell due in the last warning_days days and was not paid by its due date, of a good
    customer: a good grade ([worklist] good_grades, latest rating by the day), or no other bill paid late
    (or still unpaid) among those due in the 12 months before it."""
    rules = worklist_policy()
    first = day - dt.timedelta(days=rules["warning_days"])
    year = day - dt.timedelta(days=365 + rules["warning_days"])
    candidates = select(Bill.customer_id).where(Bill.due_on >= first, Bill.due_on < day, Bill.amount_fen > 0)
    bills = bulk.read_frame(session, select(Bill.id, Bill.customer_id, Bill.amount_fen, Bill.due_on,
                                            case((_held(day), 1), else_=0).label("held"))
                            .where(Bill.customer_id.in_(candidates), Bill.due_on >= year, Bill.due_on < day,
                                   Bill.amount_fen > 0))
    if bills.empty:
        return 0
    paid = bulk.read_frame(session, select(Allocation.bill_id, Allocation.amount_fen, Allocation.allocated_at)
                           .where(Allocation.bill_id.in_(bills["id"].tolist()),
                                  Allocation.allocated_at < start_of_day(day)))
    # What each bill had been paid by the end of its due date, and in all (to the start of today).
    due = bills.set_index("id")["due_on"]
    if paid.empty:
        paid_in_time = paid_all = pd.Series(dtype="int64")
    else:
        ends = pd.Series([start_of_day(d + dt.timedelta(days=1)) for d in due.reindex(paid["bill_id"])],
                         index=paid.index)
        in_time = paid["allocated_at"] < ends
        paid_in_time = paid[in_time].groupby("bill_id")["amount_fen"].sum()
        paid_all = paid.groupby("bill_id")["amount_fen"].sum()
    bills["late"] = bills["id"].map(paid_in_time).fillna(0) < bills["amount_fen"]
    bills["unpaid_fen"] = (bills["amount_fen"] - bills["id"].map(paid_all).fillna(0)).astype("int64")
    # A disputed bill on hold is no warning: nobody is sent to collect it while the dispute is open.
    fresh = bills[(pd.to_datetime(bills["due_on"]) >= pd.Timestamp(first)) & bills["late"]
                  & (bills["unpaid_fen"] > 0) & (bills["held"] == 0)]
    if fresh.empty:
        return 0
    # Earlier late bills of the customer (before the new one, within its 12 months).
    earlier = bills[bills["late"]].merge(fresh[["customer_id", "id", "due_on"]], on="customer_id",
                                         suffixes=("", "_new"))
    earlier = earlier[(earlier["due_on"] < earlier["due_on_new"])
                      & (pd.to_datetime(earlier["due_on"]) >= pd.to_datetime(earlier["due_on_new"])
                         - pd.Timedelta(days=365))]
    clean = ~fresh["id"].isin(earlier["id_new"])
    ratings = bulk.read_frame(session, select(CreditRating.customer_id, CreditRating.grade, CreditRating.rated_on)
                              .where(CreditRating.customer_id.in_(fresh["customer_id"].unique().tolist()),
                                     CreditRating.rated_on < day)
                              .order_by(CreditRating.customer_id, CreditRating.rated_on))
    grade = ratings.drop_duplicates("customer_id", keep="last").set_index("customer_id")["grade"] \
        if not ratings.empty else pd.Series(dtype=object)
    good = fresh["customer_id"].map(grade).isin(rules["good_grades"])
    warn = fresh[clean | good]
    if warn.empty:
        return 0
    staged = bulk.stage(session, "worklist_first_late", warn[["customer_id", "id", "unpaid_fen"]].rename(
        columns={"id": "bill_id"}), {"customer_id": bulk.ID, "bill_id": bulk.ID, "unpaid_fen": bulk.FEN})
    return _insert(session, day, facts, select(
        staged.c.customer_id, expected_loss(staged.c.unpaid_fen, facts.c.pd_bp).label("priority_fen"),
        staged.c.bill_id.label("source_id"))
        .join(facts, facts.c.customer_id == staged.c.customer_id)
        .where(_not_raised_for(Reason.first_late, "bill", staged.c.bill_id)),
        kind="call", reason=Reason.first_late, source_type="bill")


def _dismiss(session: Session, day: dt.date, *where) -> int:
    w = WorkItem
    result = session.execute(update(w).where(w.status == WorkStatus.open, *where).values(
        status=WorkStatus.dismissed, outcome="superseded", done_by=ACTOR, done_at=now())
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def _supersede(session: Session, day: dt.date) -> int:
    """Dismiss open items that no longer need doing."""
    w = WorkItem
    n = _dismiss(session, day, w.source_type == "promise", w.source_id.in_(
        select(Promise.id).where(Promise.status.in_([PromiseStatus.kept, PromiseStatus.cancelled]))))
    n += _dismiss(session, day, w.reason == Reason.plan_due, w.source_type == "pay_plan", w.source_id.in_(
        select(PayPlan.id).where(PayPlan.status != PlanStatus.active)))
    owing = (select(LedgerEntry.customer_id).where(LedgerEntry.effective_on <= day)
             .group_by(LedgerEntry.customer_id).having(func.sum(LedgerEntry.amount_fen) > 0))
    high = select(CustomerSegment.customer_id).where(CustomerSegment.value_segment == ValueSegment.high_value.value)
    routine = and_(w.reason.in_([Reason.segment_call, Reason.segment_visit]), w.customer_id.in_(high))
    n += _dismiss(session, day, w.customer_id.not_in(owing), w.reason.not_in(KEPT_WHEN_PAID_UP), ~routine)
    return n


def _reprice(session: Session, facts) -> None:
    """Open collection contacts follow the customer's overdue amount and score as they change."""
    w = WorkItem
    session.execute(update(w.__table__).where(
        w.status == WorkStatus.open, w.reason.in_([Reason.segment_call, Reason.segment_visit, Reason.follow_up]),
        w.customer_id == facts.c.customer_id,
    ).values(priority_fen=recoverable(facts.c.overdue_fen, facts.c.pd_bp)))


def build(session: Session, day: dt.date) -> dict:
    """Today's work items (for `day`), set-based and idempotent: a rerun adds nothing and dismisses only
    what has been superseded since."""
    facts = _facts(session, day)
    summary = {"day": day.isoformat()}
    summary |= _promises(session, day, facts)
    summary["plan_due"] = _installments(session, day, facts)
    summary["follow_up"] = _scheduled(session, day, facts)
    summary |= _by_frequency(session, day, facts)
    summary |= _consumption(session, day, facts)
    summary[Reason.first_late] = _first_late(session, day, facts)
    _reprice(session, facts)
    summary["dismissed"] = _supersede(session, day)
    coverage.retarget_open_items(session)
    summary["created"] = sum(v for k, v in summary.items() if k not in ("day", "dismissed"))
    summary["open"] = session.scalar(select(func.count()).select_from(WorkItem).where(
        WorkItem.status == WorkStatus.open, WorkItem.due_on <= day)) or 0
    return summary


def nightly(session: Session, day: dt.date) -> dict:
    """Job collections.worklist: segments, account-manager coverage, then today's work items."""
    from recovery.worklist import segments

    seg = segments.refresh(session, day)
    assigned = coverage.assign(session, day, actor=ACTOR)
    items = build(session, day)
    return {**items, "segments": seg, "coverage": assigned}
