"""The dunning ladder: steps reached by days, recomputed from the open items, exemptions, holds, and a
customer who has paid never cut off."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from recovery.collections import dunning
from recovery.collections.models import DisconnectionOrder, DunningChange, DunningState, WorkItem
from recovery.collections.policy import DunningPolicySchema
from recovery.credit.models import CreditRating
from recovery.customers.models import Customer
from recovery.events.models import Event
from recovery.extensions import db
from recovery.notifications.models import Notification
from recovery.notifications.texts import NotificationsPolicySchema
from recovery.payments import posting
from recovery.payments.models import PaymentState
from tests.factories import bill, customer, load

D = dt.date


@pytest.fixture
def district(recovery, tmp_path):
    """C1…C5 each owe one 100-yuan bill due on 20 March 2026."""
    codes = ["C1", "C2", "C3", "C4", "C5"]
    load(recovery, tmp_path, customers=[customer(c, phone=f"1380000000{n}") for n, c in enumerate(codes)],
         bills=[bill(f"B{c}", c, "100.00", "2026-02", "2026-03-01", "2026-03-20") for c in codes])
    return {c: db.session.scalar(select(Customer).where(Customer.code == c)) for c in codes}


def run(day: dt.date) -> dict:
    summary = dunning.nightly(db.session, day)
    db.session.commit()
    return summary


def step(c: Customer) -> str | None:
    db.session.expire_all()
    state = db.session.get(DunningState, c.id)
    return state.step if state else None


def notices(c: Customer) -> list[str]:
    return list(db.session.scalars(select(Notification.kind).where(Notification.subject_id == c.code)
                                   .order_by(Notification.id)))


def bodies(c: Customer) -> dict[str, str]:
    return dict(db.session.execute(select(Notification.kind, Notification.body)
                                   .where(Notification.subject_id == c.code)).all())


def orders(c: Customer) -> list[tuple[str, str]]:
    db.session.expire_all()
    return [tuple(r) for r in db.session.execute(select(DisconnectionOrder.status, DisconnectionOrder.source)
                                                  .where(DisconnectionOrder.customer_id == c.id))]


def pay(code: str, fen: int, at: str, state=PaymentState.settled, ref: str = "R1") -> None:
    posting.post_payment(db.session, channel="agent", channel_account="AG01", customer_code=code, amount_fen=fen,
                         channel_ref=ref, paid_at=dt.datetime.fromisoformat(at), state=state)
    db.session.commit()


def test_ladder_steps_are_reached_by_days_and_a_paid_customer_drops_back(district):
    c1 = district["C1"]
    run(D(2026, 3, 16))
    assert step(c1) is None  # four days before the due date
    run(D(2026, 3, 17))
    assert step(c1) == "reminder_sms"
    run(D(2026, 3, 20))
    assert step(c1) == "reminder_sms"  # due today: not overdue yet
    run(D(2026, 3, 21))
    assert step(c1) == "overdue_notice"
    run(D(2026, 4, 4))
    assert step(c1) == "final_notice"
    summary = run(D(2026, 4, 19))
    assert step(c1) == "disconnection_order"
    assert summary["orders_issued"] == 5 and summary["steps"]["disconnection_order"] == 5
    assert notices(c1) == ["dunning.reminder_sms", "dunning.overdue_notice", "dunning.final_notice",
                           "dunning.disconnection_order"]
    assert orders(c1) == [("open", "collections")]
    assert bodies(c1) == {
        "dunning.reminder_sms": "温馨提示：您的电费将于2026-03-20到期，请按时缴纳。",
        "dunning.overdue_notice": "您2026-03-20到期的电费已逾期未缴，请尽快缴纳，以免产生电费违约金。",
        "dunning.final_notice": "催缴通知：您2026-03-20到期的电费至今仍未缴纳。"
                                "请尽快缴清，否则将依照供用电有关规定中止供电。",
        "dunning.disconnection_order": "停电通知：您2026-03-20到期的电费仍未缴纳，将依规中止供电。"
                                       "立即缴清欠费可避免停电。"}

    pay("C1", 10_000, "2026-04-20T10:00:00+08:00")
    summary = run(D(2026, 4, 20))
    assert step(c1) is None
    assert orders(c1) == [("cancelled", "collections")]
    assert summary["orders_cancelled"] == 1
    changes = [(ch.from_step, ch.to_step) for ch in db.session.scalars(
        select(DunningChange).where(DunningChange.customer_id == c1.id).order_by(DunningChange.id))]
    assert changes == [(None, "reminder_sms"), ("reminder_sms", "overdue_notice"),
                       ("overdue_notice", "final_notice"), ("final_notice", "disconnection_order"),
                       ("disconnection_order", None)]


def test_critical_load_never_gets_a_disconnection_order_good_credit_gets_notices_only_and_a_held_bill_is_left_out(
        district):
    hospital, good, disputed = district["C2"], district["C3"], district["C4"]
    dunning.set_exemption(db.session, hospital, kind="critical_load", reason="county hospital",
                          valid_from=D(2026, 1, 1), valid_until=None, by="zhao")
    db.session.add(CreditRating(customer_id=good.id, rated_on=D(2026, 4, 1), points=95, points_grade="A", grade="A",
                                cash_only=False, upgrade_blocked=False, reasons={}))
    hold = dunning.place_hold(db.session, disputed, "BC4", reason="meter reading disputed", by="li",
                              on=D(2026, 4, 1))
    db.session.commit()

    run(D(2026, 4, 19))
    for exempt, why in ((hospital, "critical_load"), (good, "good_credit")):
        assert step(exempt) == "final_notice"
        assert db.session.get(DunningState, exempt.id).exemption == why
        assert "dunning.final_notice" in notices(exempt)
        assert orders(exempt) == []
    assert step(disputed) is None and notices(disputed) == [] and orders(disputed) == []
    assert orders(district["C1"]) == [("open", "collections")]

    dunning.release_hold(db.session, disputed, hold.id, by="li", on=D(2026, 4, 25))
    db.session.commit()
    run(D(2026, 4, 25))
    assert step(disputed) == "disconnection_order"  # released: the bill counts again, from its due date


def test_a_provisional_payment_cancels_the_order_at_issue_and_at_execute(district):
    run(D(2026, 4, 19))
    order = db.session.scalar(select(DisconnectionOrder).where(DisconnectionOrder.customer_id == district["C1"].id))
    # C1 pays through an agent: provisional, on no statement yet.
    pay("C1", 10_000, "2026-04-21T09:00:00+08:00", PaymentState.provisional)
    result = dunning.execute_order(db.session, order, by="zhao", on=D(2026, 4, 21))
    db.session.commit()
    assert (result["outcome"], result["reason"]) == ("cancelled", "paid")
    assert orders(district["C1"]) == [("cancelled", "collections")]
    assert not db.session.scalar(select(Event.id).where(Event.customer_id == district["C1"].id))

    # C2 paid the day after the night the job runs for (a bank's data a day late): no order is issued.
    pay("C2", 10_000, "2026-04-20T09:00:00+08:00", PaymentState.provisional, ref="R2")
    db.session.execute(DisconnectionOrder.__table__.delete())
    run(D(2026, 4, 19))
    assert orders(district["C2"]) == []
    assert step(district["C2"]) is None

    # C3 has not paid: the order is carried out, a disconnection event recorded; paying reconnects.
    order = db.session.scalar(select(DisconnectionOrder).where(DisconnectionOrder.customer_id == district["C3"].id))
    assert dunning.execute_order(db.session, order, by="zhao", on=D(2026, 4, 21))["outcome"] == "executed"
    db.session.commit()
    pay("C3", 10_000, "2026-04-22T09:00:00+08:00", ref="R3")
    assert run(D(2026, 4, 22))["reconnections"] == 1
    kinds = set(db.session.scalars(select(Event.kind).where(Event.customer_id == district["C3"].id)))
    assert kinds == {"disconnection", "reconnection"}
    said = bodies(district["C3"])
    assert said["dunning.disconnected"] == "因欠缴电费，已对您中止供电。缴清欠费后将为您恢复供电。"
    assert said["dunning.reconnection"] == "感谢您的缴费！您的欠费已结清，我们正在为您恢复供电。"


def test_with_language_en_the_notices_are_in_english_and_a_step_s_own_text_still_wins(app, district):
    app.config["POLICY_IN_FORCE"] = {
        **app.config["POLICY_IN_FORCE"], "notifications": NotificationsPolicySchema().load({"language": "en"}),
        "dunning": DunningPolicySchema().load({"steps": [
            {"name": "overdue_notice", "days": 1, "channel": "sms"},
            {"name": "second_reminder", "days": 10, "channel": "sms"},
            {"name": "disconnection_order", "days": 30, "channel": "disconnection_order",
             "text": "请于{due_on}前缴清电费。"}]})}
    c1 = district["C1"]
    run(D(2026, 3, 21))
    run(D(2026, 3, 30))
    run(D(2026, 4, 19))
    order = db.session.scalar(select(DisconnectionOrder).where(DisconnectionOrder.customer_id == c1.id))
    dunning.execute_order(db.session, order, by="zhao", on=D(2026, 4, 21))
    db.session.commit()
    assert bodies(c1) == {
        "dunning.overdue_notice": "Your electricity bill due on 2026-03-20 is overdue. Please pay now to avoid "
                                  "late-payment penalties.",
        "dunning.second_reminder": "Your electricity bill due on 2026-03-20 is not yet paid. Please pay it soon.",
        "dunning.disconnection_order": "请于2026-03-20前缴清电费。",
        "dunning.disconnected": "Supply has been disconnected for unpaid electricity bills. Pay the arrears to be "
                                "reconnected."}


def _snapshot() -> dict:
    tables = {"states": DunningState, "changes": DunningChange, "notices": Notification,
              "orders": DisconnectionOrder, "work": WorkItem}
    return {name: [tuple(r) for r in db.session.execute(select(*[c for c in m.__table__.columns
                                                                  if c.name not in ("created_at",)]))]
            for name, m in tables.items()}


def test_rerun_of_the_nightly_job_changes_nothing(app, district, recovery):
    # A ladder with an officer's visit at +10 days (the policy in force, as a policy file would give it).
    app.config["POLICY_IN_FORCE"] = {**app.config["POLICY_IN_FORCE"], "dunning": DunningPolicySchema().load({
        "steps": [{"name": "overdue_notice", "days": 1, "channel": "sms"},
                  {"name": "officer_visit", "days": 10, "channel": "officer"},
                  {"name": "disconnection_order", "days": 30, "channel": "disconnection_order",
                   "min_amount": "50.00"}]})}
    run(D(2026, 4, 4))
    result = recovery("collections", "dunning", "--date", "2026-04-19")
    assert result.exit_code == 0, result.output
    first = json.loads(result.output)
    assert first["steps"] == {"overdue_notice": 0, "officer_visit": 0, "disconnection_order": 5}
    work = db.session.execute(select(WorkItem.kind, WorkItem.reason, WorkItem.due_on, WorkItem.source_type)).all()
    assert {tuple(w) for w in work} == {("notice", "officer_visit", D(2026, 4, 4), "dunning")}
    before = _snapshot()
    assert run(D(2026, 4, 19)) == first
    assert _snapshot() == before


def test_the_ladder_policy_refuses_a_disconnection_before_the_due_date_and_duplicate_steps():
    from marshmallow import ValidationError

    for steps in ([{"name": "cut", "days": 0, "channel": "disconnection_order"}],
                  [{"name": "a", "days": 1, "channel": "sms"}, {"name": "a", "days": 2, "channel": "letter"}]):
        with pytest.raises(ValidationError):
            DunningPolicySchema().load({"steps": steps})
    assert [s["name"] for s in DunningPolicySchema().load({})["steps"]] == [
        "reminder_sms", "overdue_notice", "final_notice", "disconnection_order"]
