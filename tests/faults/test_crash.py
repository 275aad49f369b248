"""Crashes and dropped connections in the middle of a payment load: afterwards every acknowledged payment
exists exactly once, an import is whole or absent, and retrying finishes the work without duplicates."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, update

from recovery.extensions import db
from recovery.ledger.models import EntryKind, LedgerEntry
from recovery.payments.channels import agents
from recovery.payments.idempotency import ABANDONED_AFTER
from recovery.payments.models import Agent, IdempotencyKey, Payment
from recovery.timeutil import now
from tests.factories import PAYMENT_COLUMNS, customer, load, payment, write_csv
from tests.faults import procs

CUSTOMERS = 5


def _count(model, *where) -> int:
    db.session.rollback()  # see what other processes committed
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _payments_file(tmp_path, n: int):
    rows = [payment(f"IMP-{i}", f"C{i % CUSTOMERS + 1}", f"{1 + i % 50}.{i % 100:02d}",
                    paid_at="2026-03-10T09:15:00+08:00", account="ICBC") for i in range(n)]
    return write_csv(tmp_path / "payments.csv", PAYMENT_COLUMNS, rows)


def test_an_import_killed_mid_transaction_leaves_nothing_and_a_rerun_imports_every_row_once(
        app, recovery, tmp_path, database_url):
    load(recovery, tmp_path, customers=[customer(f"C{i + 1}") for i in range(CUSTOMERS)])
    path = _payments_file(tmp_path, 4000)
    env = procs.environment(app, database_url)
    command = [str(procs.BIN / "recovery"), "import", "payments", str(path)]

    proc = procs.start(command, env)
    assert procs.kill_mid_transaction(proc, database_url), proc.stdout.read().decode()[-2000:]
    assert _count(Payment) == 0 and _count(LedgerEntry, LedgerEntry.kind == EntryKind.payment) == 0

    rerun = recovery("import", "payments", path)  # the rerun imports it whole
    assert rerun.exit_code == 0, rerun.output
    assert _count(Payment) == 4000
    assert _count(LedgerEntry, LedgerEntry.kind == EntryKind.payment) == 4000


@pytest.fixture
def agent_secret(app, recovery, tmp_path) -> str:
    load(recovery, tmp_path, customers=[customer(f"C{i + 1}") for i in range(CUSTOMERS)])
    secret = agents.create_agent(db.session, "AG01", name="便民超市", deposit_fen=10_000_000).secret
    db.session.commit()
    return secret


def _acknowledged(answers: dict) -> dict[int, str]:
    return {n: body["payment_id"] for n, (status, body) in answers.items() if status == 201}


def _check_each_once(acked: dict[int, str]) -> None:
    db.session.rollback()
    rows = db.session.execute(select(Payment.code, Payment.channel_ref).where(Payment.channel == "agent")).all()
    by_code = dict(rows)
    for n, code in acked.items():
        assert by_code.get(code) == f"R-{n}"
    refs = [ref for _, ref in rows]
    assert len(refs) == len(set(refs)), "a payment was posted twice"
    entries = db.session.execute(select(LedgerEntry.payment_id, func.count()).where(
        LedgerEntry.kind == EntryKind.payment).group_by(LedgerEntry.payment_id)).all()
    assert all(count == 1 for _, count in entries) and len(entries) == len(rows)


def test_a_server_killed_mid_load_and_dropped_connections_lose_and_double_no_acknowledged_payment(
        app, database_url, agent_secret, backend):
    env = procs.environment(app, database_url)
    port = procs.free_port()
    total = range(160)
    server = procs.serve(env, port)
    answers: dict = {}
    try:
        loader = threading.Thread(target=procs.load, args=(port, "AG01", agent_secret, total, CUSTOMERS),
                                  kwargs={"into": answers})
        loader.start()
        dropped = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            posted = _count(Payment)
            if backend["name"] == "postgresql" and not dropped and posted >= 20:
                assert procs.terminate_backends(database_url) >= 1  # the workers' connections, mid-request
                dropped = True
            if posted >= 60:
                break
            time.sleep(0.01)
        procs.kill(server)  # SIGKILL: master and workers, requests in flight
        loader.join(timeout=60)
    finally:
        procs.kill(server)
    acked = _acknowledged(answers)
    assert 0 < len(acked) < len(total)
    # Whatever a dropped connection or a 5xx refused is retried below; what was acknowledged is there once.
    _check_each_once(acked)

    # The partner retries everything with the same keys. A key a killed worker had claimed stays in flight
    # (409, retry later) until it counts as abandoned: let that time pass, then retry again.
    server = procs.serve(env, port)
    try:
        retried = procs.load(port, "AG01", agent_secret, total, CUSTOMERS)
        assert {s for s, _ in retried.values()} <= {201, 409}, retried  # no 5xx once the server is up
        in_flight = [n for n, (s, _) in retried.items() if s == 409]
        assert all(retried[n][1]["code"] == "idempotency_key_in_flight" for n in in_flight)
        db.session.execute(update(IdempotencyKey).where(IdempotencyKey.state == "in_flight").values(
            created_at=now() - 2 * ABANDONED_AFTER))
        db.session.commit()
        for n in in_flight:
            retried[n] = procs.post_payment(port, "AG01", agent_secret, n, CUSTOMERS)
    finally:
        procs.kill(server)
    final = _acknowledged(retried)
    assert set(final) == set(total)
    assert all(final[n] == code for n, code in acked.items()), "a retry of an acknowledged payment posted anew"
    _check_each_once(final)
    # The agent's takings count each payment once.
    expected = sum(100 + n % 100 for n in total)
    assert db.session.scalar(select(Agent.unremitted_fen).where(Agent.code == "AG01")) == expected

