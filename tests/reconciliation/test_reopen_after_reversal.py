"""A payment reversed after its day reconciled reopens that day's run for its channel account; the nightly
job reruns the reopened day and the clerk's report shows the new break (both databases, through the CLI)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
from sqlalchemy import select

from recovery import bulk
from recovery.auth.service import create_user
from recovery.extensions import db
from recovery.payments.models import Payment
from recovery.payments.reversals import reverse_many
from tests.factories import customer, load, payment, write_csv
from tests.web.data import PASSWORD, cheap_password_hashing

DAY, NEXT = "2026-11-22", "2026-11-23"


def _agent(recovery, day: str = DAY) -> dict:
    result = recovery("reconcile", "report", "--date", day, "--json")
    assert result.exit_code == 0, result.output
    [agent] = [c for c in json.loads(result.stdout)["channels"] if c["channel"] == "agent"]
    return agent


def _balanced_day(recovery, tmp_path) -> None:
    """Agent AG01's day: two payments, the agent's statement lists both; reconciled, balanced."""
    load(recovery, tmp_path, customers=[customer("C1"), customer("C2")],
         payments=[payment("R1", "C1", "120.50", f"{DAY}T09:00:00+08:00", channel="agent", account="AG01",
                           payment_id="P1"),
                   payment("R2", "C2", "80.00", f"{DAY}T10:00:00+08:00", channel="agent", account="AG01",
                           payment_id="P2")])
    statement = write_csv(tmp_path / "ag01.csv", ["channel_ref", "customer_id", "amount", "paid_at"], [
        {"channel_ref": "R1", "customer_id": "C1", "amount": "120.50", "paid_at": f"{DAY}T09:00:30+08:00"},
        {"channel_ref": "R2", "customer_id": "C2", "amount": "80.00", "paid_at": f"{DAY}T10:00:30+08:00"}])
    run = recovery("reconcile", "run", "--date", DAY, "--channel", "agent", "--statement", statement,
                   "--format", "csv", "--account", "AG01")
    assert run.exit_code == 0, run.output


def test_a_reversal_reopens_a_balanced_day_and_the_night_finds_the_break(recovery, tmp_path, client, monkeypatch):
    _balanced_day(recovery, tmp_path)
    before = _agent(recovery)
    assert (before["state"], before["matched"], before["breaks"], before["reopened"]) == ("balanced", 2, [], False)

    reversed_ = recovery("debit", "reverse", "P1", "--code", "R01", "--reason", "agent cancelled", "--on", NEXT)
    assert reversed_.exit_code == 0, reversed_.output
    waiting = _agent(recovery)
    assert (waiting["state"], waiting["reopened"]) == ("balanced", True)  # reopened, not yet rerun

    night = recovery("jobs", "run", "reconcile.daily", "--date", NEXT)
    assert night.exit_code == 0, night.output
    assert json.loads(night.stdout)["summary"]["reopened_rerun"] == [f"{DAY} agent:AG01"]
    after = _agent(recovery)
    assert (after["state"], after["matched"], after["reopened"]) == ("breaks", 1, False)
    assert (after["statement_total"], after["ledger_total"]) == ("200.50", "80.00")
    assert [(b["kind"], b["channel_ref"], b["statement_amount"], b["ledger_amount"], b["status"])
            for b in after["breaks"]] == [("missing_in_ledger", "R1", "120.50", None, "open")]

    # The clerk's break list shows it.
    cheap_password_hashing(monkeypatch)
    create_user(db.session, "qian", role="clerk", password=PASSWORD, display_name="钱会计")
    db.session.commit()
    assert client.post("/login", data={"username": "qian", "password": PASSWORD}).status_code == 302
    page = client.get(f"/reconcile/breaks?date={DAY}&kind=missing_in_ledger&lang=en")
    assert page.status_code == 200 and 'class="code">R1<' in page.get_data(as_text=True)

    again = recovery("jobs", "run", "reconcile.daily", "--date", NEXT)
    assert again.exit_code == 0, again.output
    assert "reopened_rerun" not in json.loads(again.stdout)["summary"]
    assert _agent(recovery) == after


def test_reversals_of_a_whole_result_file_reopen_their_days_too(recovery, tmp_path, session):
    """reverse_many (a bank's returns) reopens through the same call as a single reversal."""
    _balanced_day(recovery, tmp_path)
    p2 = session.scalar(select(Payment.id).where(Payment.code == "P2"))
    returns = bulk.stage(session, "returns", pd.DataFrame({"payment_id": [p2], "code": ["AM04"], "reason": ["x"]}),
                         {"payment_id": bulk.ID, "code": bulk.TEXT, "reason": bulk.TEXT})
    assert reverse_many(session, returns, on=dt.date.fromisoformat(NEXT), actor="test") == [p2]
    session.commit()
    assert _agent(recovery)["reopened"] is True
    assert recovery("jobs", "run", "reconcile.daily", "--date", NEXT).exit_code == 0
    after = _agent(recovery)
    assert [(b["kind"], b["channel_ref"], b["statement_amount"]) for b in after["breaks"]] == [
        ("missing_in_ledger", "R2", "80.00")]
