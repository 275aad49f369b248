"""Account managers: the coverage rule, automatic assignment with a named deputy, reassignment by a
supervisor, and the coverage check (orphans and load per manager).

A manager or deputy covers a customer while the user is active and (for officers) still works the
customer's grid. The work goes to the manager, else to the deputy; a customer whom neither covers is
an orphan. The next assignment run repairs coverage: the deputy of a departed manager becomes the
manager, departed deputies are replaced, and unassigned customers get a manager and a deputy.

The coverage rule ([coverage] per_manager): one manager looks after one high-value customer, two
potential ones, fifty medium, two hundred low. A customer weighs 1/per_manager; an officer's load is
the sum over the customers they manage (1.0: one manager's full load). Assignment gives customers,
largest first, to the least-loaded officers of their grid, which is the greedy fill by that rule.
The deputy is another officer of the grid (each manager's customers spread over them in turn), or a
supervisor where the grid has a single officer.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sqlalchemy import case, delete, func, literal, select, update
from sqlalchemy.orm import Session, aliased

from recovery import bulk
from recovery.audit import service as audit
from recovery.auth.models import Role, User, officer_grids
from recovery.auth.permissions import Action, may
from recovery.collections.assignment import assignees, covers
from recovery.collections.models import WorkItem, WorkStatus
from recovery.customers.models import Customer, Grid
from recovery.errors import Invalid, NotFound
from recovery.timeutil import now
from recovery.worklist.models import AccountManager, CustomerSegment, ValueSegment
from recovery.worklist.policy import coverage_policy

SEGMENT_ORDER = [s.value for s in ValueSegment]


def _weights() -> dict[str, float]:
    return {seg: 1.0 / n for seg, n in coverage_policy()["per_manager"].items()}


def _officers(session: Session, grid_ids: list[int] | None) -> pd.DataFrame:
    """Active officers per grid (user_id, username, grid_id), by username."""
    query = (select(officer_grids.c.user_id, User.username, officer_grids.c.grid_id)
             .join(User, User.id == officer_grids.c.user_id)
             .where(User.active.is_(True), User.role == Role.officer.value)
             .order_by(User.username))
    if grid_ids is not None:
        query = query.where(officer_grids.c.grid_id.in_(grid_ids))
    return bulk.read_frame(session, query)


def _repair(session: Session, grid_ids: list[int] | None) -> dict:
    """Departed managers replaced by their deputies; departed deputies cleared; rows nobody covers removed."""
    mgr, dep = aliased(User, name="mgr"), aliased(User, name="dep")
    scope = [] if grid_ids is None else [Customer.grid_id.in_(grid_ids)]
    rows = bulk.read_frame(session, select(
        AccountManager.customer_id, Customer.code, AccountManager.deputy_id,
        covers(mgr, Customer.grid_id).label("mgr_ok"),
        func.coalesce(covers(dep, Customer.grid_id), False).label("dep_ok"),
    ).join(Customer, Customer.id == AccountManager.customer_id)
        .join(mgr, mgr.id == AccountManager.manager_id)
        .join(dep, dep.id == AccountManager.deputy_id, isouter=True)
        .where(*scope))
    if rows.empty:
        return {"took_over": [], "deputies_cleared": 0, "released": 0}
    mgr_ok, dep_ok = rows["mgr_ok"].astype(bool), rows["dep_ok"].astype(bool) & rows["deputy_id"].notna()
    takeover = rows[~mgr_ok & dep_ok]
    release = rows[~mgr_ok & ~dep_ok]
    clear = rows[mgr_ok & ~dep_ok & rows["deputy_id"].notna()]
    stamp = now()
    if not takeover.empty:
        session.execute(update(AccountManager)
                        .where(AccountManager.customer_id.in_(takeover["customer_id"].tolist()))
                        .values(manager_id=AccountManager.deputy_id, deputy_id=None, updated_at=stamp))
    if not clear.empty:
        session.execute(update(AccountManager).where(AccountManager.customer_id.in_(clear["customer_id"].tolist()))
                        .values(deputy_id=None, updated_at=stamp))
    if not release.empty:
        session.execute(delete(AccountManager).where(AccountManager.customer_id.in_(release["customer_id"].tolist())))
    return {"took_over": takeover["code"].tolist(), "deputies_cleared": len(clear), "released": len(release)}


def _fill(loads: np.ndarray, count: int, weight: float) -> np.ndarray:
    """Officer index for each of `count` customers given in turn to the least-loaded officer (greedy),
    vectorised: every officer's j-th next customer would bring them to load + j*weight; the `count`
    smallest of those, in order, are the greedy choices."""
    keys = loads[:, None] + np.arange(count)[None, :] * weight
    order = np.argsort(keys.ravel(), kind="stable")[:count]
    return order // count if count else np.zeros(0, dtype=int)


def assign(session: Session, day: dt.date, grid: str | None = None, *, actor: str = "job:collections.worklist") -> dict:
    """Repair coverage and give every unassigned customer (of one grid, or all) a manager and a deputy among
    the active officers of its grid, by the coverage rule. Set-based reads and writes; audited."""
    grid_ids = None
    if grid is not None:
        grid_id = session.scalar(select(Grid.id).where(Grid.code == grid))
        if grid_id is None:
            raise NotFound(f"no grid {grid}")
        grid_ids = [grid_id]
    repaired = _repair(session, grid_ids)
    weights = _weights()
    officers = _officers(session, grid_ids)
    supervisors = np.array(list(session.scalars(select(User.id).where(
        User.active.is_(True), User.role == Role.supervisor.value).order_by(User.username))), dtype="int64")
    scope = [] if grid_ids is None else [Customer.grid_id.in_(grid_ids)]
    customers = bulk.read_frame(session, select(
        Customer.id.label("customer_id"), Customer.grid_id,
        func.coalesce(CustomerSegment.value_segment, ValueSegment.low.value).label("segment"),
        func.coalesce(CustomerSegment.value_rank, 2**31).label("rank"),
        AccountManager.manager_id, AccountManager.deputy_id,
    ).join(CustomerSegment, CustomerSegment.customer_id == Customer.id, isouter=True)
        .join(AccountManager, AccountManager.customer_id == Customer.id, isouter=True)
        .where(*scope).order_by("rank", Customer.id))
    # Every officer's load over all the customers they manage, in any grid.
    held = bulk.read_frame(session, select(
        AccountManager.manager_id, func.coalesce(CustomerSegment.value_segment, ValueSegment.low.value).label("seg"),
        func.count().label("n"),
    ).join(CustomerSegment, CustomerSegment.customer_id == AccountManager.customer_id, isouter=True)
        .group_by(AccountManager.manager_id, "seg"))
    load = (held["n"] * held["seg"].map(weights)).groupby(held["manager_id"]).sum().to_dict() if not held.empty else {}

    new_rows, deputy_rows = [], []
    for grid_id, members in officers.groupby("grid_id", sort=True):
        ids = members["user_id"].to_numpy()
        mine = customers[customers["grid_id"] == grid_id]
        todo = mine[mine["manager_id"].isna()]
        grid_new = []
        for seg in SEGMENT_ORDER:
            part = todo[todo["segment"] == seg]
            if part.empty:
                continue
            loads = np.array([load.get(int(u), 0.0) for u in ids])
            chosen = ids[_fill(loads, len(part), weights[seg])]
            for u, n in zip(*np.unique(chosen, return_counts=True), strict=True):
                load[int(u)] = load.get(int(u), 0.0) + n * weights[seg]
            grid_new.append(pd.DataFrame({"customer_id": part["customer_id"].to_numpy(), "manager_id": chosen}))
        new_rows.extend(grid_new)
        # Deputies: among the grid's other officers, each manager's customers spread over them in turn.
        managed = mine[mine["manager_id"].notna() & mine["deputy_id"].isna()][["customer_id", "manager_id"]]
        need = pd.concat([managed, *grid_new])
        if need.empty:
            continue
        if len(ids) < 2:
            # A grid with one officer: a supervisor (who sees every grid) is the named deputy.
            if len(supervisors):
                turn = np.arange(len(need)) % len(supervisors)
                deputy_rows.append(pd.DataFrame({"customer_id": need["customer_id"].to_numpy(),
                                                 "deputy_id": supervisors[turn]}))
            continue
        position = {int(u): i for i, u in enumerate(ids)}
        mpos = need["manager_id"].astype(int).map(position)
        known = mpos.notna()
        need, mpos = need[known], mpos[known].astype(int)
        turn = need.groupby("manager_id").cumcount().to_numpy()
        dpos = (mpos.to_numpy() + 1 + turn % (len(ids) - 1)) % len(ids)
        deputy_rows.append(pd.DataFrame({"customer_id": need["customer_id"].to_numpy(), "deputy_id": ids[dpos]}))

    stamp = now()
    assigned = pd.concat(new_rows) if new_rows else pd.DataFrame(columns=["customer_id", "manager_id"])
    deputies = pd.concat(deputy_rows) if deputy_rows else pd.DataFrame(columns=["customer_id", "deputy_id"])
    if not assigned.empty:
        frame = assigned.merge(deputies, on="customer_id", how="left")
        bulk.insert_frame(session, AccountManager.__table__, frame.assign(
            assigned_on=pd.Timestamp(day), assigned_by=actor, updated_at=pd.Timestamp(stamp)))
    existing = deputies[~deputies["customer_id"].isin(assigned["customer_id"])]
    if not existing.empty:
        staged = bulk.stage(session, "worklist_deputies", existing, {"customer_id": bulk.ID, "deputy_id": bulk.ID})
        session.execute(update(AccountManager)
                        .where(AccountManager.customer_id == staged.c.customer_id)
                        .values(deputy_id=staged.c.deputy_id, updated_at=stamp))
    summary = {"assigned": len(assigned), "deputies_named": len(deputies), "took_over": len(repaired["took_over"]),
               "released": repaired["released"], "orphans": len(orphans(session, grid_ids))}
    if summary["assigned"] or summary["deputies_named"] or summary["took_over"] or summary["released"]:
        audit.record(session, "worklist.assign", "grid", grid, actor=actor, day=day.isoformat(),
                     took_over_customers=repaired["took_over"], **summary)
    retarget_open_items(session)
    return summary


def retarget_open_items(session: Session) -> None:
    """Open work items follow the customer's current assignee (a manager who left hands over their list)."""
    a = assignees()
    current = select(a.c.assignee).where(a.c.customer_id == WorkItem.customer_id).scalar_subquery()
    session.execute(update(WorkItem).where(
        WorkItem.status == WorkStatus.open,
        WorkItem.customer_id.in_(select(a.c.customer_id)),
        func.coalesce(WorkItem.assigned_to, "") != func.coalesce(current, ""),
    ).values(assigned_to=current).execution_options(synchronize_session=False))


def orphans(session: Session, grid_ids: list[int] | None = None) -> list[dict]:
    """Customers nobody covers: no account manager, or neither manager nor deputy active in the grid."""
    a = assignees()
    query = (select(Customer.code, Grid.code.label("grid"), a.c.manager, a.c.deputy,
                    case((a.c.customer_id.is_(None), literal("unassigned")), else_=literal("manager_and_deputy_gone"))
                    .label("why"))
             .join(Grid, Grid.id == Customer.grid_id)
             .join(a, a.c.customer_id == Customer.id, isouter=True)
             .where(a.c.assignee.is_(None))
             .order_by(Grid.code, Customer.code))
    if grid_ids is not None:
        query = query.where(Customer.grid_id.in_(grid_ids))
    return [dict(r) for r in session.execute(query).mappings()]


def loads(session: Session) -> list[dict]:
    """Per manager: customers by value segment, the load by the coverage rule, customers deputised."""
    weights = _weights()
    frame = bulk.read_frame(session, select(
        User.username, User.active, func.coalesce(CustomerSegment.value_segment, ValueSegment.low.value).label("seg"),
        func.count().label("n"),
    ).join(AccountManager, AccountManager.manager_id == User.id)
        .join(CustomerSegment, CustomerSegment.customer_id == AccountManager.customer_id, isouter=True)
        .group_by(User.username, User.active, "seg"))
    deputised = dict(session.execute(select(User.username, func.count()).join(
        AccountManager, AccountManager.deputy_id == User.id).group_by(User.username)).all())
    out = []
    for username, rows in frame.groupby("username", sort=True):
        counts = dict(zip(rows["seg"], rows["n"].astype(int), strict=True))
        out.append({"manager": username, "active": bool(rows["active"].iloc[0]),
                    "customers": int(rows["n"].sum()), **{s: counts.get(s, 0) for s in SEGMENT_ORDER},
                    "load": round(sum(counts.get(s, 0) * weights[s] for s in SEGMENT_ORDER), 2),
                    "deputy_for": int(deputised.get(username, 0))})
    return out


def without_deputy(session: Session) -> int:
    """Customers with a manager but no deputy who covers them."""
    a = assignees()
    return session.scalar(select(func.count()).select_from(a).where(~func.coalesce(a.c.deputy_covers, False))) or 0


def report(session: Session) -> dict:
    """The coverage check: orphans, customers without a deputy, load per manager."""
    return {"orphans": orphans(session), "without_deputy": without_deputy(session), "managers": loads(session)}


def _user(session: Session, username: str, customer: Customer) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username}", code="user_not_found")
    if not user.active:
        raise Invalid(f"user {username} is not active", code="user_inactive")
    if user.role == Role.officer and customer.grid_id not in {g.id for g in user.grids}:
        raise Invalid(f"{username} does not work grid {customer.grid.code}", code="not_in_grid")
    if not may(user, Action.manage_accounts):
        raise Invalid(f"a {user.role} cannot manage customers", code="role_not_allowed")
    return user


def reassign(session: Session, customer: Customer, *, manager: str, deputy: str | None, by: str,
             day: dt.date) -> AccountManager:
    """A supervisor's choice of manager and deputy for a customer; open work follows; audited."""
    if deputy is not None and deputy == manager:
        raise Invalid("the deputy must be someone other than the manager", code="deputy_is_manager")
    m = _user(session, manager, customer)
    d = _user(session, deputy, customer) if deputy else None
    row = session.get(AccountManager, customer.id)
    before = None
    if row is None:
        row = AccountManager(customer_id=customer.id, manager_id=m.id)
        session.add(row)
    else:
        before = {"manager": session.get(User, row.manager_id).username,
                  "deputy": session.get(User, row.deputy_id).username if row.deputy_id else None}
    row.manager_id, row.deputy_id = m.id, d.id if d else None
    row.assigned_on, row.assigned_by, row.updated_at = day, by, now()
    session.flush()  # the open items below follow the new assignment
    session.execute(update(WorkItem).where(WorkItem.customer_id == customer.id, WorkItem.status == WorkStatus.open)
                    .values(assigned_to=m.username).execution_options(synchronize_session=False))
    audit.record(session, "worklist.reassign", "customer", customer.code, actor=by, before=before,
                 manager=m.username, deputy=d.username if d else None)
    return row


def manager_of(session: Session, customer: Customer) -> dict | None:
    """The customer's manager, deputy and who gets the work now."""
    a = assignees()
    row = session.execute(select(a).where(a.c.customer_id == customer.id)).mappings().one_or_none()
    return None if row is None else {"manager": row["manager"], "deputy": row["deputy"], "assignee": row["assignee"]}
