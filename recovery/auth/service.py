"""Users: creation and the grids an officer may see."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from recovery.audit import service as audit
from recovery.auth.models import Role, User, officer_grids
from recovery.customers.models import Customer, Grid
from recovery.errors import Conflict, Invalid, NotFound

MIN_PASSWORD = 10


def create_user(session: Session, username: str, *, role: str, password: str, display_name: str | None = None,
                grids: Iterable[str] = ()) -> User:
    """A new user; officers are given the grids they work."""
    if role not in Role.__members__:
        raise Invalid(f"unknown role {role!r}")
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"a password needs at least {MIN_PASSWORD} characters")
    if session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"user {username!r} already exists")
    codes = list(grids)
    found = list(session.scalars(select(Grid).where(Grid.code.in_(codes)))) if codes else []
    if missing := sorted(set(codes) - {g.code for g in found}):
        raise NotFound(f"unknown grid(s): {', '.join(missing)}")
    user = User(username=username, role=role, display_name=display_name or username, grids=found)
    user.set_password(password)
    session.add(user)
    session.flush()  # the caller may need user.id before it commits
    audit.record(session, "user.create", "user", username, role=role, grids=codes)
    return user


def visible_customers(user: User) -> Select:
    """Customer ids the user may see: officers their own grids, other staff every grid."""
    if user.sees_all_grids:
        return select(Customer.id)
    return select(Customer.id).where(
        Customer.grid_id.in_(select(officer_grids.c.grid_id).where(officer_grids.c.user_id == user.id))
    )
