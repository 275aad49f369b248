"""Two supervisors approving at the same moment cannot pay the same deposit money out twice."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import func, select

from recovery.approvals.service import decide
from recovery.credit.security import deposits
from recovery.credit.security.models import Deposit, DepositEntry
from recovery.extensions import db
from recovery.ledger.models import LedgerEntry
from recovery.payments.models import Payment
from recovery.timeutil import today
from tests.credit.security_helpers import one_customer


def test_concurrent_application_and_refund_of_the_whole_deposit_pay_it_out_once(app, recovery, tmp_path):
    c = one_customer(recovery, tmp_path, amounts=["300.00"] * 3, last_issued=today() - dt.timedelta(days=40))
    deposits.receive(db.session, c, amount_fen=50_000, reference="R1", received_by="li")
    d = db.session.scalar(select(Deposit).where(Deposit.customer_id == c.id))
    apply = deposits.propose_application(db.session, d, requested_by="li", reason="arrears")
    refund = deposits.propose_refund(db.session, d, requested_by="li", reason="account closed")
    db.session.commit()
    requests = [(apply.id, "zhao"), (refund.id, "qian")]
    start = threading.Barrier(len(requests))
    outcomes: list[str] = []

    def approve(request_id: int, supervisor: str) -> None:
        with app.app_context():
            try:
                start.wait()
                decide(db.session, request_id, approve=True, decided_by=supervisor, role="supervisor")
                db.session.commit()
                outcomes.append("done")
            except Exception as e:  # the loser: a Conflict (PostgreSQL) or a busy snapshot (SQLite)
                db.session.rollback()
                outcomes.append(type(e).__name__)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve, args=r) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    db.session.expire_all()
    assert outcomes.count("done") == 1, outcomes
    paid_out = db.session.scalar(select(func.sum(DepositEntry.amount_fen)).where(
        DepositEntry.deposit_id == d.id, DepositEntry.kind.in_(("applied", "refunded"))))
    assert paid_out == -50_000
    assert db.session.get(Deposit, d.id).held_fen == 0
    applied = db.session.scalar(select(func.count()).select_from(Payment))
    balance = db.session.scalar(select(func.sum(LedgerEntry.amount_fen)).where(LedgerEntry.customer_id == c.id))
    assert (applied, balance) in ((1, 40_000), (0, 90_000))  # whichever won, the books agree with it
