"""An agent's remittances against its takings: the shortfall by the day is a break of the agent's account."""

from __future__ import annotations

import datetime as dt
import json

from recovery.extensions import db
from recovery.payments.channels import agents
from tests.factories import customer, load
from tests.payments.agent_client import payment_body, signed_headers

TAKINGS_DAY = dt.date(2026, 11, 20)
PATH = "/api/v1/payments"


def _breaks(recovery, day: dt.date) -> list[dict]:
    result = recovery("reconcile", "report", "--date", day.isoformat(), "--json")
    assert result.exit_code == 0, result.output
    return [{**b, "account": ch["channel_account"]} for ch in json.loads(result.stdout)["channels"]
            if ch["channel"] == "agent" for b in ch["breaks"] if b["channel_ref"].startswith("REMIT-")]


def _run(recovery, day: dt.date) -> None:
    result = recovery("reconcile", "run", "--date", day.isoformat())
    assert result.exit_code == 0, result.output


def test_takings_not_remitted_by_the_next_day_are_a_break_until_made_good(recovery, tmp_path, app, client):
    load(recovery, tmp_path, customers=[customer("C1")])
    secret = agents.create_agent(db.session, "AG01", name="便民超市", deposit_fen=3_000_000).secret
    db.session.commit()
    for ref, amount in [("R1", "300.00"), ("R2", "200.00")]:
        body = payment_body(amount=amount, channel_ref=ref, paid_at="2026-11-20T10:00:00+08:00")
        answer = client.post(PATH, data=body, headers=signed_headers("AG01", secret, "POST", PATH, body, ref))
        assert answer.status_code == 201, answer.get_json()
    # Collection day itself: nothing is due for remittance yet.
    _run(recovery, TAKINGS_DAY)
    assert not _breaks(recovery, TAKINGS_DAY)

    agents.record_remittance(db.session, "AG01", 40_000, remitted_on=dt.date(2026, 11, 21), reference="RM-1",
                             recorded_by="clerk")
    db.session.commit()
    due_day = TAKINGS_DAY + dt.timedelta(days=1)
    _run(recovery, due_day)
    [short] = _breaks(recovery, due_day)
    assert (short["kind"], short["account"], short["statement_amount"], short["ledger_amount"]) == \
        ("amount_mismatch", "AG01", "400.00", "500.00")
    _run(recovery, due_day)  # a rerun finds the same break, once
    assert len(_breaks(recovery, due_day)) == 1

    # The rest arrives a day late: that day is short no longer; the day it was owed keeps its break.
    agents.record_remittance(db.session, "AG01", 10_000, remitted_on=dt.date(2026, 11, 22), reference="RM-2",
                             recorded_by="clerk")
    db.session.commit()
    _run(recovery, dt.date(2026, 11, 22))
    assert not _breaks(recovery, dt.date(2026, 11, 22))
    _run(recovery, due_day)
    assert len(_breaks(recovery, due_day)) == 1


def test_an_account_with_nothing_left_on_a_rerun_day_is_refreshed_not_left_stale(recovery, tmp_path, app):
    from sqlalchemy import select

    from recovery.payments.models import Payment
    from recovery.payments.reversals import reverse_payment
    from recovery.reconcile.models import ReconRun

    load(recovery, tmp_path, customers=[customer("C1")], payments=[
        {"payment_id": "", "customer_id": "C1", "channel": "agent", "channel_account": "AG07", "channel_ref": "R1",
         "amount": "80.00", "paid_at": "2026-11-20T10:00:00+08:00"}])
    _run(recovery, TAKINGS_DAY)
    run = db.session.scalar(select(ReconRun).where(ReconRun.channel_account == "AG07"))
    assert (run.ledger_payments, run.ledger_total_fen) == (1, 8_000)

    reverse_payment(db.session, db.session.scalar(select(Payment)), "posted twice", "DUP", actor="clerk",
                    on=TAKINGS_DAY)
    db.session.commit()
    _run(recovery, TAKINGS_DAY)
    db.session.expire_all()
    run = db.session.scalar(select(ReconRun).where(ReconRun.channel_account == "AG07"))
    assert (run.ledger_payments, run.ledger_total_fen, run.state) == (0, 0, "no_statement")
