"""Soak versions of the fuzzing and crash tests: many more examples, many more kills."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from recovery.extensions import db
from recovery.ledger.models import EntryKind, LedgerEntry
from recovery.payments.models import Payment
from tests.conftest import FreshContextClient
from tests.factories import PAYMENT_COLUMNS, customer, load, payment, write_csv
from tests.faults import procs
from tests.fuzz.api import fuzz, seed
from tests.soak.conftest import rounds
from tests.web.data import cheap_password_hashing

pytestmark = pytest.mark.soak


def test_soak_fuzz_finds_no_server_error_in_many_random_requests(app, recovery, tmp_path, monkeypatch):
    cheap_password_hashing(monkeypatch)
    secrets = seed(recovery, tmp_path)
    n = rounds(200)
    assert fuzz(app, FreshContextClient, secrets, max_examples=n, derandomize=False) >= n


def test_soak_imports_killed_again_and_again_are_always_whole_or_absent(app, recovery, tmp_path, database_url):
    load(recovery, tmp_path, customers=[customer(f"C{i + 1}") for i in range(5)])
    rows = [payment(f"IMP-{i}", f"C{i % 5 + 1}", "1.00", account="ICBC") for i in range(20_000)]
    path = write_csv(tmp_path / "payments.csv", PAYMENT_COLUMNS, rows)
    env = procs.environment(app, database_url)
    for _ in range(rounds(20)):
        proc = procs.start([str(procs.BIN / "recovery"), "import", "payments", str(path)], env)
        killed = procs.kill_mid_transaction(proc, database_url)
        db.session.rollback()
        count = db.session.scalar(select(func.count()).select_from(Payment))
        assert count == (0 if killed else 20_000)
        if not killed:
            break
    assert recovery("import", "payments", path).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 20_000
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)
                             .where(LedgerEntry.kind == EntryKind.payment)) == 20_000
