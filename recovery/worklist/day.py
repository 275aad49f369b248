"""The officer's day: one row per customer, sized to the officer's capacity, with what does not fit carried.

The nightly build (build.py) keeps its items, one per (customer, kind, reason, day); the day's list is
read from them. A customer's open items become one row that carries all their reasons and a suggested
action (a visit when any item asks for one, else a call). Rows are ranked by the expected recoverable
amount (the largest of the customer's items) raised by [worklist] carry_weight for each day the oldest
item has waited, and taken in that order while the officer's capacity for the day ([worklist] capacity,
or the officer's own line) lasts, less what the officer has already done today. The rest is carried:
it stays open, ages, and ranks higher tomorrow. Rows with an item due within hours (URGENT: a new big
customer's first contact) come before all others.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from recovery import bulk
from recovery.audit import service as audit
from recovery.auth.models import Role, User
from recovery.auth.permissions import Action, may
from recovery.collections.models import ContactKind, WorkItem, WorkStatus
from recovery.collections.visits import OUTCOMES, record_visit
from recovery.customers.models import Customer, Grid
from recovery.errors import Forbidden, Invalid, NotFound
from recovery.timeutil import now, start_of_day
from recovery.worklist.policy import capacity_of, worklist_policy
from recovery.worklist.service import visible_items

BP = 10_000
EARLY_WARNING = "early_warning_"
# What an early warning called back turned out to be (recorded on the items, reported to supervisors).
CAUSES = ("vacant", "moved_out", "seasonal", "financial_difficulty", "meter_fault", "suspected_theft", "other")
# Outcomes that reached the customer: an early warning closed with one of these must say its cause.
REACHED = frozenset({"contacted", "promised", "paid", "refused", "disputed"})
FOLLOW_UP_DAYS = 30
# Items with a deadline of hours, not days: a customer with one is at the top of the day's list, whatever its
# amount (a new big customer is contacted within [big_customers] contact_hours).
URGENT = ("big_customer_new",)


def _window(day: dt.date):
    return start_of_day(day), start_of_day(day + dt.timedelta(days=1))


def _candidates(session: Session, user: User, day: dt.date, officer: str | None, grid: str | None) -> pd.DataFrame:
    """One row per customer with open items due by `day`: assignee, best priority, oldest due date, and
    whether any item asks for a visit."""
    w = WorkItem
    query = (select(w.customer_id, func.max(w.assigned_to).label("assignee"),
                    func.max(w.priority_fen).label("priority_fen"), func.min(w.due_on).label("since"),
                    func.max(case((w.kind == ContactKind.visit.value, 1), else_=0)).label("visit"),
                    func.max(case((w.reason.in_(URGENT), 1), else_=0)).label("urgent"))
             .where(visible_items(user), w.status == WorkStatus.open, w.due_on <= day)
             .group_by(w.customer_id))
    if officer:
        query = query.where(w.assigned_to == officer)
    if grid:
        query = query.where(w.customer_id.in_(select(Customer.id).join(Grid, Grid.id == Customer.grid_id)
                                              .where(Grid.code == grid)))
    frame = bulk.read_frame(session, query)
    if frame.empty:
        return frame.assign(waiting=pd.Series(dtype="int64"), rank=pd.Series(dtype="int64"))
    frame["urgent"] = frame["urgent"].astype("int64")
    frame["since"] = pd.to_datetime(frame["since"]).dt.date
    frame["waiting"] = [(day - s).days for s in frame["since"]]
    carry = worklist_policy()["carry_weight_bp"]
    frame["rank"] = frame["priority_fen"].astype("int64") * (BP + carry * frame["waiting"].astype("int64")) // BP
    return frame.sort_values(["urgent", "rank", "customer_id"], ascending=[False, False, True], kind="stable")


def _done_today(session: Session, user: User, day: dt.date) -> pd.DataFrame:
    """Customers each person did something for today (one contact per customer), visit or call."""
    w = WorkItem
    start, end = _window(day)
    return bulk.read_frame(session, select(
        w.done_by, w.customer_id, func.max(case((w.kind == ContactKind.visit.value, 1), else_=0)).label("visit"))
        .where(visible_items(user), w.status == WorkStatus.done, w.done_at >= start, w.done_at < end)
        .group_by(w.done_by, w.customer_id))


def _used(done: pd.DataFrame, officer: str | None, rules: dict) -> dict:
    mine = done[done["done_by"] == officer] if officer is not None and not done.empty else done.iloc[0:0]
    visits = int(mine["visit"].sum()) if len(mine) else 0
    calls = len(mine) - visits
    return {"calls": calls, "visits": visits,
            "minutes": calls * rules["call_minutes"] + visits * rules["visit_minutes"], "customers": len(mine)}


def fill(candidates: pd.DataFrame, capacity: dict, used: dict, rules: dict) -> list[bool]:
    """Which of the ranked candidates fit the day: taken in order while calls, visits and minutes last (a
    visit that no longer fits does not stop a call that does)."""
    calls = capacity["calls"] - used["calls"]
    visits = capacity["visits"] - used["visits"]
    minutes = capacity["minutes"] - used["minutes"]
    cheapest = min(rules["call_minutes"], rules["visit_minutes"])
    taken = []
    for visit in candidates["visit"].tolist():
        fits = False
        if minutes >= cheapest and (calls > 0 or visits > 0):
            need = rules["visit_minutes"] if visit else rules["call_minutes"]
            left = visits if visit else calls
            if left > 0 and minutes >= need:
                fits = True
                minutes -= need
                if visit:
                    visits -= 1
                else:
                    calls -= 1
        taken.append(fits)
    return taken


def _plan(candidates: pd.DataFrame, done: pd.DataFrame, rules: dict) -> pd.DataFrame:
    """The candidates with a `fits` column, each assignee's day filled against their own capacity."""
    if candidates.empty:
        return candidates.assign(fits=pd.Series(dtype=bool))
    parts = []
    for assignee, group in candidates.groupby("assignee", dropna=False, sort=False):
        who = None if pd.isna(assignee) else assignee
        parts.append(group.assign(fits=fill(group, capacity_of(rules, who), _used(done, who, rules), rules)))
    return pd.concat(parts).sort_values(["urgent", "rank", "customer_id"], ascending=[False, False, True],
                                        kind="stable")


def day_list(session: Session, user: User, day: dt.date, *, officer: str | None = None,
             grid: str | None = None) -> dict:
    """The day's rows (one per customer, ranked, within each officer's capacity), today's progress and the
    capacity in force (of the one officer the list is for; None over several)."""
    if not may(user, Action.work_customers):
        raise Forbidden(f"a {user.role} has no worklist", code="role_not_allowed")
    rules = worklist_policy()
    done = _done_today(session, user, day)
    plan = _plan(_candidates(session, user, day, officer, grid), done, rules)
    taken = plan[plan["fits"]] if len(plan) else plan
    one = officer or (user.username if user.role == Role.officer else None)
    mine_done = done if one is None or done.empty else done[done["done_by"] == one]
    return {"rows": _rows(session, user, day, taken),
            "progress": {"done": int(mine_done["customer_id"].nunique()) if len(mine_done) else 0,
                         "left": len(taken), "carried": int(len(plan) - len(taken))},
            "capacity": capacity_of(rules, one) if one else None,
            "used": _used(done, one, rules) if one else None,
            "rules": {"call_minutes": rules["call_minutes"], "visit_minutes": rules["visit_minutes"]}}


def _rows(session: Session, user: User, day: dt.date, taken: pd.DataFrame) -> list[dict]:
    """The taken customers' rows with every open reason, in rank order."""
    if taken.empty:
        return []
    ids = [int(i) for i in taken["customer_id"]]
    w = WorkItem
    items = session.execute(
        select(w, Customer.code, Customer.name, Grid.code)
        .join(Customer, Customer.id == w.customer_id).join(Grid, Grid.id == Customer.grid_id)
        .where(w.customer_id.in_(ids), visible_items(user), w.status == WorkStatus.open, w.due_on <= day)
        .order_by(w.priority_fen.desc(), w.id)).all()
    by_customer: dict[int, list] = {}
    for item, code, name, grid in items:
        by_customer.setdefault(item.customer_id, []).append((item, code, name, grid))
    rows = []
    for row in taken.itertuples():
        found = by_customer.get(int(row.customer_id))
        if not found:
            continue
        first = found[0]
        reasons = list(dict.fromkeys(i.reason for i, *_ in found))
        rows.append({"customer_id": first[1], "customer_name": first[2], "grid": first[3],
                     "action": ContactKind.visit.value if row.visit else ContactKind.call.value,
                     "reasons": reasons, "items": [i.id for i, *_ in found],
                     "early_warning": any(r.startswith(EARLY_WARNING) for r in reasons),
                     "priority_fen": int(row.priority_fen), "since": row.since, "waiting": int(row.waiting),
                     "assigned_to": None if pd.isna(row.assignee) else row.assignee})
    return rows


def _open_items_of(session: Session, user: User, code: str, day: dt.date) -> list[WorkItem]:
    if not may(user, Action.work_customers):
        raise Forbidden(f"a {user.role} may not work the list", code="role_not_allowed")
    items = list(session.scalars(
        select(WorkItem).join(Customer, Customer.id == WorkItem.customer_id)
        .where(Customer.code == code, visible_items(user), WorkItem.status == WorkStatus.open, WorkItem.due_on <= day)
        .order_by(WorkItem.id)))
    if not items:
        raise NotFound(f"nothing open for {code} on your list", code="work_item_not_found")
    return items


def complete_customer(session: Session, user: User, code: str, day: dt.date, *, outcome: str,
                      note: str | None = None, cause: str | None = None) -> list[WorkItem]:
    """The customer's row is done: every open item closes with the outcome, one call or visit (the suggested
    action) lands in the visits log, and an early warning records its cause. Audited per item."""
    if outcome not in OUTCOMES:
        raise Invalid(f"outcome must be one of {', '.join(OUTCOMES)}", code="bad_outcome")
    if cause is not None and cause not in CAUSES:
        raise Invalid(f"cause must be one of {', '.join(CAUSES)}", code="bad_cause")
    items = _open_items_of(session, user, code, day)
    warning = any(i.reason.startswith(EARLY_WARNING) for i in items)
    if warning and outcome in REACHED and cause is None:
        raise Invalid("an early warning called back records its cause", code="cause_required")
    note = (note or "").strip() or None
    kind = ContactKind.visit.value if any(i.kind == ContactKind.visit.value for i in items) else ContactKind.call.value
    customer = session.get(Customer, items[0].customer_id)
    visit = record_visit(session, customer, user.username, kind, outcome, note=note)
    at = now()
    for item in items:
        item.status, item.outcome, item.note, item.done_by, item.done_at = (
            WorkStatus.done, outcome, note, user.username, at)
        if item.reason.startswith(EARLY_WARNING):
            item.cause = cause
        audit.record(session, "work_item.done", "work_item", str(item.id), actor=user.username, outcome=outcome,
                     kind=item.kind, reason=item.reason, visit=visit.id, cause=item.cause)
    return items


def dismiss_customer(session: Session, user: User, code: str, day: dt.date, *, note: str | None = None) -> int:
    """Set the customer's row aside: every open item is dismissed (nothing left to do). Audited per item."""
    items = _open_items_of(session, user, code, day)
    at = now()
    for item in items:
        item.status, item.note, item.done_by, item.done_at = (
            WorkStatus.dismissed, (note or "").strip() or None, user.username, at)
        audit.record(session, "work_item.dismiss", "work_item", str(item.id), actor=user.username, kind=item.kind,
                     reason=item.reason)
    return len(items)


def team(session: Session, user: User, day: dt.date) -> dict:
    """Supervisors: each officer's load today (capacity, on the list, done, carried, items overdue) and the
    follow-up of early warnings raised in the last FOLLOW_UP_DAYS days (called back, cause recorded, open)."""
    rules = worklist_policy()
    done = _done_today(session, user, day)
    plan = _plan(_candidates(session, user, day, None, None), done, rules)
    w = WorkItem
    overdue = dict(session.execute(select(w.assigned_to, func.count())
                                   .where(w.status == WorkStatus.open, w.due_on < day)
                                   .group_by(w.assigned_to)).all())
    officers = list(session.scalars(select(User.username).where(User.role == Role.officer, User.active.is_(True))
                                    .order_by(User.username)))
    load = []
    for name in officers:
        mine = plan[plan["assignee"] == name] if len(plan) else plan
        used = _used(done, name, rules)
        cap = capacity_of(rules, name)
        load.append({"officer": name, "capacity": cap, "open_customers": len(mine),
                     "today": int(mine["fits"].sum()) if len(mine) else 0,
                     "carried": int((~mine["fits"]).sum()) if len(mine) else 0,
                     "done": used["customers"], "overdue_items": int(overdue.get(name, 0))})
    since = day - dt.timedelta(days=FOLLOW_UP_DAYS - 1)
    who = func.coalesce(w.assigned_to, w.done_by)
    warnings = session.execute(
        select(who.label("officer"), func.count(),
               func.count().filter(w.status == WorkStatus.done),
               func.count().filter(w.cause.is_not(None)),
               func.count().filter(w.status == WorkStatus.open))
        .where(w.reason.like(EARLY_WARNING + "%"), w.due_on >= since, w.due_on <= day,
               or_(w.outcome.is_(None), w.outcome != "superseded"))
        .group_by(who).order_by(who)).all()
    follow = [{"officer": o, "raised": int(n), "called_back": int(c), "cause_recorded": int(k), "open": int(op),
               "share": None if not n else round(100 * c / n)} for o, n, c, k, op in warnings]
    return {"load": load, "warnings": follow, "since": since}
