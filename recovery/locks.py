"""One writer at a time for work that reads, computes and writes back (penalty accrual, …).

PostgreSQL: a transaction-scoped advisory lock per kind of work. SQLite has one writer per database,
but its driver opens the transaction only at the first write: reads made before it see whatever was
committed then, and two runs that both read before either wrote would both post the same change.
Taking the write lock first, with a harmless write, makes every later read in the transaction see
the other run's work (the second run waits for the first, up to the busy timeout).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def exclusive(session: Session, key: int) -> None:
    """Hold the lock for `key` (PostgreSQL) or the database's write lock (SQLite) until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        session.execute(text("UPDATE alembic_version SET version_num = version_num"))
