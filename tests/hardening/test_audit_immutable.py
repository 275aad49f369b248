"""The audit log cannot be rewritten: the database itself refuses UPDATE and DELETE of its rows."""

from __future__ import annotations

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
