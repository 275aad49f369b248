"""Reversals and settlement: new ledger entries pointing at what they correct, once only."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recovery.audit.models import AuditEntry
from recovery.errors import Conflict
from recovery.extensions import db
from recovery.ledger.models import Allocation, EntryKind, LedgerEntry
from recovery.payments.channels import agents
from recovery.payments.models import Agent, Payment, PaymentState
from recovery.payments.posting import post_agent_payment
from recovery.payments.reversals import reverse_payment, settle_payments
from tests.factories import bill, customer, load, payment


@pytest.fixture
def paid(recovery, tmp_path, session):
    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "100.00", "2026-01", "2026-02-03", "2026-02-20"),
                bill("B2", "C1", "100.00", "2026-02", "2026-03-03", "2026-03-20")],
         payments=[payment("R1", "C1", "100.00", "2026-02-10T10:00:00+08:00", payment_id="P1"),
                   payment("R2", "C1", "60.00", "2026-03-10T10:00:00+08:00", payment_id="P2")])
    return session


def _payment(session, code: str) -> Payment:
    return session.scalar(select(Payment).where(Payment.code == code))


def _balance(session) -> int:
    return session.scalar(select(func.sum(LedgerEntry.amount_fen)))


def test_a_reversal_is_a_new_entry_correcting_the_payment_and_allocation_moves(paid):
    session = paid
    p1 = _payment(session, "P1")
    original = session.scalar(select(LedgerEntry).where(LedgerEntry.payment_id == p1.id))
    before = session.scalar(select(func.count()).select_from(LedgerEntry))
    entry = reverse_payment(session, p1, "cheque bounced", "AM04", "clerk1", on=dt.date(2026, 3, 15))
    session.commit()

    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == before + 1
    assert (entry.kind, entry.amount_fen, entry.corrects_id, entry.effective_on, entry.note) == (
        EntryKind.reversal, 10000, original.id, dt.date(2026, 3, 15), "AM04: cheque bounced")
    assert original.amount_fen == -10000  # the corrected entry is untouched
    assert _payment(session, "P1").state == PaymentState.reversed
    # The remaining 60.00 now settles the oldest bill, exactly as allocating from scratch would.
    rows = session.execute(select(Allocation.payment_id, Allocation.amount_fen)).all()
    assert rows == [(_payment(session, "P2").id, 6000)]
    assert _balance(session) == 20000 - 6000
    audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "payment.reverse"))
    assert (audit.actor, audit.subject_id, audit.details["code"]) == ("clerk1", "P1", "AM04")


def test_reversing_twice_is_refused(paid):
    session = paid
    p1 = _payment(session, "P1")
    reverse_payment(session, p1, "returned", "MD01", "clerk1")
    with pytest.raises(Conflict, match="already reversed"):
        reverse_payment(session, p1, "returned", "MD01", "clerk1")
    assert session.scalar(select(func.count()).where(LedgerEntry.kind == EntryKind.reversal)) == 1


def test_two_concurrent_reversals_write_one_entry(app, paid):
    paid.commit()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt() -> None:
        with app.app_context(), Session(db.engine) as own:
            p1 = own.scalar(select(Payment).where(Payment.code == "P1"))
            barrier.wait()
            try:
                reverse_payment(own, p1, "returned", "AM04", "clerk")
                own.commit()
                outcomes.append("reversed")
            except Conflict:
                own.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["refused", "reversed"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(LedgerEntry.kind == EntryKind.reversal)) == 1


def test_settling_moves_provisional_payments_only(app, recovery, tmp_path, session):
    load(recovery, tmp_path, customers=[customer("C1")], bills=[bill("B1", "C1", "500.00")])
    agent = agents.create_agent(session, "AG01", name="便民超市", deposit_fen=3_000_000).agent
    at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)  # an agent posts what it has just collected
    first = post_agent_payment(session, agent, customer_code="C1", amount_fen=1000, channel_ref="A1", paid_at=at)
    second = post_agent_payment(session, agent, customer_code="C1", amount_fen=2000, channel_ref="A2", paid_at=at)
    reverse_payment(session, second, "posted in error", "DUPL", "clerk")
    assert settle_payments(session, [first.id, second.id]) == 1
    assert settle_payments(session, [first.id]) == 0
    session.expire_all()
    assert (_payment(session, first.code).state, _payment(session, second.code).state) == ("settled", "reversed")


def test_reversing_an_agent_payment_releases_its_takings(app, recovery, tmp_path, session):
    load(recovery, tmp_path, customers=[customer("C1")], bills=[bill("B1", "C1", "500.00")])
    agent = agents.create_agent(session, "AG01", name="便民超市", deposit_fen=3_000_000).agent
    at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    post_agent_payment(session, agent, customer_code="C1", amount_fen=1000, channel_ref="A1", paid_at=at)
    wrong = post_agent_payment(session, agent, customer_code="C1", amount_fen=2500, channel_ref="A2", paid_at=at)
    reverse_payment(session, wrong, "wrong customer", "WRNG", "clerk")
    session.expire_all()
    assert session.scalar(select(Agent.unremitted_fen)) == 1000


def test_reverse_command_reverses_by_payment_id(paid, recovery):
    paid.commit()
    result = recovery("debit", "reverse", "P2", "--code", "AC04", "--reason", "account closed",
                      "--on", "2026-03-12")
    assert result.exit_code == 0, result.output
    again = recovery("debit", "reverse", "P2", "--code", "AC04", "--reason", "account closed")
    assert again.exit_code != 0 and "already reversed" in again.output
    assert recovery("debit", "reverse", "NOPE", "--code", "X", "--reason", "y").exit_code != 0
