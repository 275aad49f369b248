"""Users: creation, the grids an officer may see, and the lockout after repeated failed sign-ins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Select, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from recovery.audit import service as audit
from recovery.auth.models import LoginThrottle, Role, User, officer_grids
from recovery.customers.models import Customer, Grid
from recovery.errors import Conflict, Invalid, NotFound

MIN_PASSWORD = 10
USERNAME_LENGTH = 64


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


def locked_until(session: Session, username: str, *, at: dt.datetime) -> dt.datetime | None:
    """Until when sign-ins with this user name are refused; None when they are not."""
    until = session.scalar(select(LoginThrottle.locked_until).where(LoginThrottle.username == username))
    return until if until is not None and until > at else None


def _throttle_for_update(session: Session, username: str, at: dt.datetime) -> LoginThrottle:
    """The user name's row, locked for this transaction; created on its first failure."""
    query = select(LoginThrottle).where(LoginThrottle.username == username).with_for_update()
    row = session.scalar(query)
    if row is not None:
        return row
    # Two failures for a new name at once both insert: the second does nothing and reads the first's row.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(LoginThrottle).values(username=username, failures=0, window_started_at=at)
                    .on_conflict_do_nothing(index_elements=["username"]))
    return session.scalar(query.execution_options(populate_existing=True))


def record_failed_sign_in(session: Session, username: str, *, at: dt.datetime, source: str, max_failures: int,
                          window: dt.timedelta, lockout: dt.timedelta) -> dt.datetime | None:
    """Count a failed sign-in; the failure that reaches `max_failures` within `window` locks the name
    for `lockout` (audited). Returns until when the name is now locked, else None."""
    row = _throttle_for_update(session, username[:USERNAME_LENGTH], at)
    if row.window_started_at + window <= at or (row.locked_until is not None and row.locked_until <= at):
        # The window has passed (or a lock has run out): counting starts again.
        row.failures, row.window_started_at, row.locked_until = 0, at, None
    row.failures += 1
    if row.failures < max_failures:
        return None
    row.locked_until = at + lockout
    audit.record(session, "user.lock", "user", row.username, actor="system", failures=row.failures,
                 source=source, until=row.locked_until.isoformat())
    return row.locked_until


def clear_failed_sign_ins(session: Session, username: str) -> None:
    """A successful sign-in forgets the name's earlier failures."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.username == username))


def unlock(session: Session, username: str) -> bool:
    """Lift a user name's lockout before its time (an administrator's decision, audited).

    Returns False when the name was not locked.
    """
    row = session.scalar(select(LoginThrottle).where(LoginThrottle.username == username))
    if row is None or row.locked_until is None:
        return False
    audit.record(session, "user.unlock", "user", username, failures=row.failures,
                 locked_until=row.locked_until.isoformat())
    session.delete(row)
    return True
