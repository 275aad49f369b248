"""The audit log cannot be rewritten: the database itself refuses UPDATE and DELETE of its rows, and on
PostgreSQL the service's role (granted as the operations guide says) cannot even try, nor TRUNCATE."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from recovery.audit.service import record
from recovery.extensions import db


def test_plain_sql_update_and_delete_of_audit_rows_are_refused(session):
    record(session, "user.create", "user", "zhang", actor="admin", role="officer")
    session.commit()
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT actor FROM audit_log")).scalars().all() == ["admin"]


def _guide_grants() -> list[str]:
    """The grant statements of step 3 of docs/operations.md, as the guide tells operators to run them."""
    guide = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")
    block = re.search(r"Grant the service role.*?```sql\n(.*?)```", guide, re.S).group(1)
    sql = "\n".join(line.split("--")[0] for line in block.splitlines())
    return [s.strip() for s in sql.split(";") if s.strip()]


def test_on_postgresql_the_service_role_of_the_operations_guide_cannot_rewrite_or_empty_the_audit_log(
        backend, session):
    if backend["name"] != "postgresql":
        pytest.skip("roles and grants are PostgreSQL's; SQLite has the triggers only")
    record(session, "user.create", "user", "zhang", actor="admin", role="officer")
    session.commit()
    role = f"recovery_app_{os.getpid()}"
    grants = [g.replace("recovery_app", role) for g in _guide_grants()]
    assert any("TRUNCATE ON audit_log" in g for g in grants)
    with db.engine.begin() as conn:
        conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        conn.execute(text(f'CREATE ROLE "{role}"'))
        for grant in grants:
            conn.execute(text(grant))
    try:
        refused = ["UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log", "TRUNCATE audit_log",
                   "TRUNCATE ledger_entries", "TRUNCATE deposit_entries",
                   "ALTER TABLE audit_log DISABLE TRIGGER ALL", "DROP TABLE audit_log"]
        for statement in refused:
            with pytest.raises(DatabaseError, match=r"permission denied|must be owner"), db.engine.begin() as conn:
                conn.execute(text(f'SET LOCAL ROLE "{role}"'))
                conn.execute(text(statement))
        with db.engine.begin() as conn:  # and it still reads and appends, as the service must
            conn.execute(text(f'SET LOCAL ROLE "{role}"'))
            conn.execute(text("INSERT INTO audit_log (at, actor, action, subject_type, subject_id, details) "
                              "SELECT at, 'clerk', 'user.unlock', subject_type, subject_id, details FROM audit_log"))
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT actor FROM audit_log ORDER BY id")).scalars().all() == ["admin", "clerk"]
    finally:
        with db.engine.begin() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))
