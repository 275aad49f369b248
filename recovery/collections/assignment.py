"""Who a customer's collection work goes to: its account manager while they cover the customer, else the deputy.

The managers and deputies are kept by recovery.worklist.coverage (assignment, repair, reassignment); the
dunning files its manager calls with `assignees()`, and the worklist its items.
"""

from __future__ import annotations

from sqlalchemy import and_, case, exists, or_, select
from sqlalchemy.orm import aliased

from recovery.auth.models import Role, User, officer_grids
from recovery.customers.models import Customer
from recovery.worklist.models import AccountManager


def covers(user, grid_id):
    """SQL: the user (an aliased User) covers a customer of the grid: active and, for officers, works the grid."""
    works = exists().where(officer_grids.c.user_id == user.id, officer_grids.c.grid_id == grid_id)
    return and_(user.active.is_(True), or_(user.role != Role.officer.value, works))


def assignees():
    """customer_id, manager, deputy, assignee (usernames; assignee: the manager if they cover the customer,
    else the deputy if they do, else NULL) for every customer with an account manager (a subquery)."""
    mgr, dep = aliased(User, name="mgr"), aliased(User, name="dep")
    return (
        select(AccountManager.customer_id, mgr.username.label("manager"), dep.username.label("deputy"),
               case((covers(mgr, Customer.grid_id), mgr.username),
                    (covers(dep, Customer.grid_id), dep.username), else_=None).label("assignee"),
               covers(dep, Customer.grid_id).label("deputy_covers"))
        .join(Customer, Customer.id == AccountManager.customer_id)
        .join(mgr, mgr.id == AccountManager.manager_id)
        .join(dep, dep.id == AccountManager.deputy_id, isouter=True)
        .subquery("assignees")
    )
