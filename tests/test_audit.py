"""Changes to money and users leave an audit trail that cannot be rewritten."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DatabaseError

from recovery.audit.models import AuditEntry
from recovery.auth.service import create_user
from tests.factories import BILL_COLUMNS, bill, customer, load, write_csv


def test_an_import_is_audited_with_the_file_digest_and_counts(recovery, tmp_path, session, monkeypatch):
    monkeypatch.setenv("RECOVERY_ACTOR", "batch:billing-sync")
    load(recovery, tmp_path, customers=[customer("C1")])
    path = write_csv(tmp_path / "bills.csv", BILL_COLUMNS, [bill("B1"), bill("B2", period="2026-02")])
    assert recovery("import", "bills", path).exit_code == 0

    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "import.bills")).one()
    assert (entry.actor, entry.subject_id, entry.details["rows"], entry.details["inserted"]) == (
        "batch:billing-sync", "bills.csv", 2, 2)
    assert len(entry.details["sha256"]) == 64


def test_a_rejected_import_leaves_no_audit_entry_and_no_rows(recovery, tmp_path, session):
    load(recovery, tmp_path, customers=[customer("C1")])
    path = write_csv(tmp_path / "bills.csv", BILL_COLUMNS, [bill("B1", amount="oops")])
    assert recovery("import", "bills", path).exit_code != 0
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "import.bills")).all() == []


def test_user_creation_is_audited(session):
    create_user(session, "zhang", role="officer", password="long enough pw")
    session.commit()
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.create")).one()
    assert entry.subject_id == "zhang" and entry.details["role"] == "officer"


def test_the_audit_log_refuses_edits_and_deletions(session):
    create_user(session, "zhang", role="officer", password="long enough pw")
    session.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(update(AuditEntry).values(actor="someone else"))
    session.rollback()
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(delete(AuditEntry))
    session.rollback()
    assert session.scalar(select(AuditEntry.actor)) != "someone else"
