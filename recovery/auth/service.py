"""Users: creation, the grids an officer may see, and the lockout after repeated failed sign-ins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Select, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from recovery.audit import service as audit
from recovery.auth.models import LoginThrottle, Role, User, officer_grids
from recovery.customers.models import Customer, Grid
from recovery.errors import Conflict, Invalid, NotFound

MIN_PASSWORD = 10
USERNAME_LENGTH = 64
SOURCE_LENGTH = 64


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


def _source(address: str | None) -> str:
    return (address or "")[:SOURCE_LENGTH]


def locked_until(session: Session, username: str, *, source: str | None, at: dt.datetime) -> dt.datetime | None:
    """Until when sign-ins with this user name from this source address are refused; None when they are not."""
    until = session.scalar(select(LoginThrottle.locked_until).where(LoginThrottle.username == username,
                                                                    LoginThrottle.source == _source(source)))
    return until if until is not None and until > at else None


def _throttle_for_update(session: Session, username: str, source: str, at: dt.datetime) -> LoginThrottle:
    """The (user name, source) row, locked for this transaction; created on its first failure."""
    query = (select(LoginThrottle).where(LoginThrottle.username == username, LoginThrottle.source == source)
             .with_for_update())
    row = session.scalar(query)
    if row is not None:
        return row
    # Two failures for a new pair at once both insert: the second does nothing and reads the first's row.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(LoginThrottle).values(username=username, source=source, failures=0, window_started_at=at)
                    .on_conflict_do_nothing(index_elements=["username", "source"]))
    return session.scalar(query.execution_options(populate_existing=True))


def record_failed_sign_in(session: Session, username: str, *, at: dt.datetime, source: str | None, max_failures: int,
                          window: dt.timedelta, lockout: dt.timedelta) -> dt.datetime | None:
    """Count a failed sign-in of a user name from a source address; the failure that reaches `max_failures` within
    `window` locks that name from that address for `lockout` (audited). Returns until when it is now locked, else
    None."""
    row = _throttle_for_update(session, username[:USERNAME_LENGTH], _source(source), at)
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


def clear_failed_sign_ins(session: Session, username: str, *, source: str | None) -> None:
    """A successful sign-in forgets the name's earlier failures from that address."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.username == username,
                                                LoginThrottle.source == _source(source)))


def unlock(session: Session, username: str) -> bool:
    """Lift a user name's lockouts, from every address, before their time (an administrator's decision, audited).

    Returns False when the name was not locked.
    """
    rows = [r for r in session.scalars(select(LoginThrottle).where(LoginThrottle.username == username))
            if r.locked_until is not None]
    if not rows:
        return False
    audit.record(session, "user.unlock", "user", username, failures=sum(r.failures for r in rows),
                 locked_until=max(r.locked_until for r in rows).isoformat(), sources=sorted(r.source for r in rows))
    for row in rows:
        session.delete(row)
    return True


def end_sessions(session: Session, user: User) -> None:
    """End every session the user has open (each holds the session version it began with)."""
    session.execute(update(User).where(User.id == user.id).values(session_version=User.session_version + 1)
                    .execution_options(synchronize_session=False))
    session.refresh(user, ["session_version"])


def change_password(session: Session, username: str, password: str) -> User:
    """A new password for the user (audited); every session opened with the old one ends."""
    user = _user(session, username)
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"a password needs at least {MIN_PASSWORD} characters")
    user.set_password(password)
    end_sessions(session, user)
    audit.record(session, "user.password", "user", username)
    return user


def deactivate(session: Session, username: str) -> User:
    """The user may no longer sign in (audited), and every session they have open ends now."""
    user = _user(session, username)
    user.active = False
    end_sessions(session, user)
    audit.record(session, "user.deactivate", "user", username)
    return user


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def get_customer(session: Session, user: User, code: str) -> Customer:
    """The customer with this code, if the user may see it (else NotFound, without telling which)."""
    customer = session.scalar(
        select(Customer).where(Customer.code == code, Customer.id.in_(visible_customers(user)))
    )
    if customer is None:
        raise NotFound(f"no customer {code} in your grids", code="customer_not_found")
    return customer
