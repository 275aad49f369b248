"""Promises to pay and pay plans: kept or broken found nightly; a broken plan feeds the rating."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from recovery.collections import promises
from recovery.collections.models import PayPlan, Promise, WorkItem
from recovery.customers.models import Customer
from recovery.errors import Conflict, Invalid
from recovery.events.models import Event
from recovery.extensions import db
from recovery.payments import posting
from recovery.payments.models import PaymentState
from tests.factories import bill, customer, load

D = dt.date


@pytest.fixture
def debtors(recovery, tmp_path):
    """C1, C2 and C3 each owe 600 yuan, due 20 March 2026."""
    codes = ["C1", "C2", "C3"]
    load(recovery, tmp_path, customers=[customer(c) for c in codes],
         bills=[bill(f"B{c}", c, "600.00", "2026-02", "2026-03-01", "2026-03-20") for c in codes])
    return {c: db.session.scalar(select(Customer).where(Customer.code == c)) for c in codes}


def pay(code: str, fen: int, on: str, ref: str) -> None:
    posting.post_payment(db.session, channel="bank", channel_account="ICBC", customer_code=code, amount_fen=fen,
                         channel_ref=ref, paid_at=dt.datetime.fromisoformat(f"{on}T10:00:00+08:00"),
                         state=PaymentState.settled)


def run(day: dt.date) -> dict:
    summary = promises.nightly(db.session, day)
    db.session.commit()
    return summary


def test_promise_kept_when_paid_by_its_date_and_broken_when_the_date_passes_without(debtors):
    kept = promises.make_promise(db.session, debtors["C1"], amount_fen=60_000, promised_on=D(2026, 4, 10),
                                 recorded_by="li", made_on=D(2026, 4, 1))
    broken = promises.make_promise(db.session, debtors["C2"], amount_fen=60_000, promised_on=D(2026, 4, 10),
                                   recorded_by="li", made_on=D(2026, 4, 1))
    pay("C1", 60_000, "2026-04-09", "P1")
    pay("C2", 30_000, "2026-04-09", "P2")  # half of what was promised
    db.session.commit()

    assert run(D(2026, 4, 10))["promises_kept"] == 1
    assert (kept.status, kept.checked_on, broken.status) == ("kept", D(2026, 4, 10), "open")
    summary = run(D(2026, 4, 11))
    assert (broken.status, broken.checked_on) == ("broken", D(2026, 4, 11))
    assert summary["promises_broken"] == 1
    follow = db.session.scalar(select(WorkItem).where(WorkItem.customer_id == debtors["C2"].id))
    assert (follow.kind, follow.reason, follow.source_id) == ("promise_followup", "promise_broken", broken.id)
    assert run(D(2026, 4, 11)) == summary  # a rerun decides nothing new

    with pytest.raises(Invalid):
        promises.make_promise(db.session, debtors["C3"], amount_fen=100, promised_on=D(2026, 3, 1),
                              recorded_by="li", made_on=D(2026, 4, 1))


def test_plan_broken_writes_a_broken_pay_plan_event_and_plan_completed_when_paid_in_full(debtors):
    schedule = [(D(2026, 4, 15), 30_000), (D(2026, 5, 15), 30_000)]
    behind = promises.create_plan(db.session, debtors["C1"], installments=schedule, total_fen=60_000,
                                  created_by="li", created_on=D(2026, 4, 1))
    on_time = promises.create_plan(db.session, debtors["C2"], installments=schedule, total_fen=60_000,
                                   created_by="li", created_on=D(2026, 4, 1))
    pay("C1", 10_000, "2026-04-14", "P1")  # short of the first installment
    pay("C2", 30_000, "2026-04-14", "P2")
    db.session.commit()

    run(D(2026, 4, 20))  # five days' grace: not broken yet
    assert behind.status == "active"
    summary = run(D(2026, 4, 21))
    assert (behind.status, behind.closed_on, on_time.status) == ("broken", D(2026, 4, 21), "active")
    assert summary["plans_broken"] == 1
    events = db.session.execute(select(Event.customer_id, Event.kind, Event.occurred_on)).all()
    assert [tuple(e) for e in events] == [(debtors["C1"].id, "broken_pay_plan", D(2026, 4, 21))]

    pay("C2", 30_000, "2026-05-10", "P3")
    db.session.commit()
    assert run(D(2026, 5, 10))["plans_completed"] == 1
    assert (on_time.status, on_time.closed_on) == ("completed", D(2026, 5, 10))
    assert run(D(2026, 5, 10))["plans_completed"] == 1
    assert db.session.scalar(select(PayPlan.status).where(PayPlan.id == on_time.id)) == "completed"


def test_pay_plan_installments_must_add_up_to_the_total_in_date_order(debtors):
    c3 = debtors["C3"]
    with pytest.raises(Invalid, match=r"add up to 500\.00 yuan, not the plan's total 600\.00"):
        promises.create_plan(db.session, c3, installments=[(D(2026, 12, 15), 20_000), (D(2027, 1, 15), 30_000)],
                             total_fen=60_000, created_by="li")
    with pytest.raises(Invalid, match="in order"):
        promises.create_plan(db.session, c3, installments=[(D(2027, 1, 15), 30_000), (D(2026, 12, 15), 30_000)],
                             created_by="li")
    promises.create_plan(db.session, c3, installments=[(D(2026, 12, 15), 60_000)], created_by="li")
    with pytest.raises(Conflict):
        promises.create_plan(db.session, c3, installments=[(D(2026, 12, 20), 60_000)], created_by="li")
    assert db.session.scalar(select(Promise.id)) is None
