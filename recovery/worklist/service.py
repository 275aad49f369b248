"""Reading the worklist within what the user may see, and doing an item: an outcome in one step (a call or
visit also lands in the visits log), or a dismissal."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, true, union
from sqlalchemy.orm import Session, aliased

from recovery.audit import service as audit
from recovery.auth.models import Role, User
from recovery.auth.permissions import Action, may
from recovery.auth.service import visible_customers
from recovery.collections.models import ContactKind, WorkItem, WorkStatus
from recovery.collections.visits import OUTCOMES, record_visit
from recovery.customers.models import Customer, Grid
from recovery.errors import Conflict, Forbidden, Invalid, NotFound
from recovery.timeutil import now, start_of_day

CONTACT_KINDS = frozenset(k.value for k in ContactKind)


def visible_items(user: User):
    """Items the user may see: officers those of their grids' customers and those assigned to them.

    Written as the ids of two selects, each led by its own index (by customer, by assignee), not as an OR of the
    two conditions, which keeps the database from using either index: it walked every open item of the utility
    to find an officer's few thousand."""
    if user.sees_all_grids:
        return true()
    item = aliased(WorkItem)
    return WorkItem.id.in_(union(select(item.id).where(item.customer_id.in_(visible_customers(user))),
                                 select(item.id).where(item.assigned_to == user.username)))


def worklist(session: Session, user: User, day: dt.date, *, officer: str | None = None,
             grid: str | None = None, done_only: bool = False) -> dict:
    """Open items due by `day` (earlier ones still open included), highest expected recoverable amount first,
    and the items done or dismissed by someone that day (`done_only`: those alone, the open ones left empty)."""
    if not may(user, Action.work_customers):
        raise Forbidden(f"a {user.role} has no worklist", code="role_not_allowed")
    base = (select(WorkItem, Customer.code, Customer.name, Grid.code.label("grid"))
            .join(Customer, Customer.id == WorkItem.customer_id)
            .join(Grid, Grid.id == Customer.grid_id)
            .where(visible_items(user)))
    if officer:
        base = base.where(WorkItem.assigned_to == officer)
    if grid:
        base = base.where(Grid.code == grid)
    open_ = base.where(WorkItem.status == WorkStatus.open, WorkItem.due_on <= day).order_by(
        WorkItem.priority_fen.desc(), WorkItem.due_on, WorkItem.id)
    # Done by people: the night's dismissals of superseded items are not news to anyone.
    done = base.where(WorkItem.status != WorkStatus.open, func.coalesce(WorkItem.outcome, "") != "superseded",
                      WorkItem.done_at >= start_of_day(day),
                      WorkItem.done_at < start_of_day(day + dt.timedelta(days=1))).order_by(
        WorkItem.done_at.desc(), WorkItem.id.desc())
    return {"open": [] if done_only else [item_doc(*row) for row in session.execute(open_).all()],
            "done": [item_doc(*row) for row in session.execute(done).all()]}


def item_doc(item: WorkItem, code: str, name: str, grid: str) -> dict:
    return {"id": item.id, "customer_id": code, "customer_name": name, "grid": grid, "due_on": item.due_on,
            "kind": item.kind, "reason": item.reason, "priority_fen": item.priority_fen,
            "assigned_to": item.assigned_to, "status": item.status, "outcome": item.outcome, "note": item.note,
            "done_by": item.done_by, "done_at": item.done_at, "cause": item.cause, "source_type": item.source_type,
            "source_id": item.source_id}


def get_item(session: Session, user: User, item_id: int) -> WorkItem:
    """The item, if the user may see it (else NotFound, the same answer as for an item that does not exist)."""
    if not 0 < item_id < 2**63:  # beyond any id: a driver would refuse the number itself
        raise NotFound(f"no work item #{item_id} on your list", code="work_item_not_found")
    item = session.scalar(select(WorkItem).where(WorkItem.id == item_id, visible_items(user)))
    if item is None:
        raise NotFound(f"no work item #{item_id} on your list", code="work_item_not_found")
    return item


def _open_item(session: Session, user: User, item_id: int) -> WorkItem:
    if not may(user, Action.work_customers):
        raise Forbidden(f"a {user.role} may not work the list", code="role_not_allowed")
    item = get_item(session, user, item_id)
    if item.status != WorkStatus.open:
        raise Conflict(f"work item #{item_id} is already {item.status}", code="work_item_closed")
    return item


def complete(session: Session, user: User, item_id: int, *, outcome: str, note: str | None = None) -> WorkItem:
    """Mark an item done with its outcome; a call or visit is also logged as a Visit. Audited."""
    if outcome not in OUTCOMES:
        raise Invalid(f"outcome must be one of {', '.join(OUTCOMES)}", code="bad_outcome")
    item = _open_item(session, user, item_id)
    note = (note or "").strip() or None
    item.status, item.outcome, item.note = WorkStatus.done, outcome, note
    item.done_by, item.done_at = user.username, now()
    visit_id = None
    if item.kind in CONTACT_KINDS:
        customer = session.get(Customer, item.customer_id)
        visit_id = record_visit(session, customer, user.username, item.kind, outcome, note=note).id
    audit.record(session, "work_item.done", "work_item", str(item.id), actor=user.username, outcome=outcome,
                 kind=item.kind, reason=item.reason, visit=visit_id)
    return item


def dismiss(session: Session, user: User, item_id: int, *, note: str | None = None) -> WorkItem:
    """Set an item aside without an outcome (nothing left to do); audited."""
    item = _open_item(session, user, item_id)
    item.status, item.note = WorkStatus.dismissed, (note or "").strip() or None
    item.done_by, item.done_at = user.username, now()
    audit.record(session, "work_item.dismiss", "work_item", str(item.id), actor=user.username, kind=item.kind,
                 reason=item.reason)
    return item


def officers(session: Session) -> list[str]:
    """Usernames of active officers (the supervisor's filter)."""
    return list(session.scalars(select(User.username).where(User.role == Role.officer, User.active.is_(True))
                                .order_by(User.username)))
