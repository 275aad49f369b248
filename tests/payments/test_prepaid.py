"""Prepayment: warn below 50 yuan, stop below 0, one disconnection order after 7 days stopped; never for a
customer who has paid since."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from recovery import create_app
from recovery.collections.models import DisconnectionOrder
from recovery.customers.models import Customer
from recovery.errors import Invalid
from recovery.extensions import db
from recovery.notifications.models import Notification
from recovery.payments import posting, prepaid
from recovery.payments.models import PaymentState, PrepaidAccount
from tests.conftest import _settings
from tests.factories import bill, customer, load, payment

D = dt.date


@pytest.fixture
def accounts(app, recovery, tmp_path):
    """Prepaid P1 bought 100 yuan on 1 March and consumed 60 on 5 March and 50 on 8 March; prepaid P2 holds
    100 yuan; post-paid C1 owes 500 (not prepaid: never warned)."""
    load(recovery, tmp_path, customers=[customer("P1"), customer("P2"), customer("C1")],
         bills=[bill("U1", "P1", "60.00", "2026-03", "2026-03-05", "2026-03-05"),
                bill("U2", "P1", "50.00", "2026-03", "2026-03-08", "2026-03-08"),
                bill("B1", "C1", "500.00", "2026-02", "2026-03-01", "2026-03-10")],
         payments=[payment("T1", "P1", "100.00", "2026-03-01T10:00:00+08:00"),
                   payment("T2", "P2", "100.00", "2026-03-01T10:00:00+08:00")])
    for code in ("P1", "P2"):
        prepaid.enrol(db.session, code, opened_on=D(2026, 1, 1))
    db.session.commit()


def run(day: dt.date) -> dict:
    summary = prepaid.monitor(db.session, day)
    db.session.commit()
    return summary


def _account(code: str = "P1") -> PrepaidAccount:
    db.session.expire_all()
    return db.session.scalar(select(PrepaidAccount).join(Customer, Customer.id == PrepaidAccount.customer_id)
                             .where(Customer.code == code))


def _notes(kind: str) -> list[tuple[str, str]]:
    return [tuple(r) for r in db.session.execute(
        select(Notification.recipient, Notification.subject_id).where(Notification.kind == kind))]


def _bodies(kind: str) -> list[str]:
    return list(db.session.scalars(select(Notification.body).where(Notification.kind == kind)))


def _orders() -> list[tuple[int, dt.date, str, str]]:
    return [tuple(r) for r in db.session.execute(
        select(DisconnectionOrder.customer_id, DisconnectionOrder.ordered_on, DisconnectionOrder.status,
               DisconnectionOrder.reason).order_by(DisconnectionOrder.id))]


def test_a_balance_below_fifty_yuan_is_warned_of_once(accounts):
    assert run(D(2026, 3, 4))["warned"] == 0
    summary = run(D(2026, 3, 5))  # 100 - 60 = 40 yuan left
    assert (summary["accounts"], summary["warned"], summary["stopped"]) == (2, 1, 0)
    assert _notes("prepaid.low_balance") == [("customer:P1", "P1")]
    assert _bodies("prepaid.low_balance") == ["您的预付电费余额已低于50.00元，请及时充值，以免影响用电。"]
    assert _account().warned_on == D(2026, 3, 5)

    assert run(D(2026, 3, 5)) == summary  # a rerun of the day gives the same result
    run(D(2026, 3, 6))
    assert len(_notes("prepaid.low_balance")) == 1


def test_a_negative_balance_stops_supply_and_seven_days_later_one_order_is_filed(accounts):
    run(D(2026, 3, 8))  # 100 - 110 = -10 yuan
    account = _account()
    assert (account.status, account.stopped_since) == ("stopped", D(2026, 3, 8))
    assert _notes("prepaid.stopped") == [("customer:P1", "P1")]
    assert _bodies("prepaid.stopped") == ["您的预付电费余额已低于0.00元，供电已暂停。"
                                          "请在7天内充值，逾期将依规中止供电。"]

    assert run(D(2026, 3, 14))["disconnection_orders"] == 0
    summary = run(D(2026, 3, 15))
    assert summary["disconnection_orders"] == 1
    p1 = account.customer_id
    assert _orders() == [(p1, D(2026, 3, 15), "open", "prepaid_negative_balance")]
    assert run(D(2026, 3, 15)) == summary
    run(D(2026, 3, 16))
    assert _orders() == [(p1, D(2026, 3, 15), "open", "prepaid_negative_balance")]
    assert len(_notes("prepaid.stopped")) == 1


def test_a_customer_who_paid_since_gets_no_order_even_if_the_payment_is_provisional(accounts):
    run(D(2026, 3, 8))
    # Paid after the day the job runs for, through an agent: provisional, not yet on any statement.
    posting.post_payment(db.session, channel="agent", channel_account="AG01", customer_code="P1", amount_fen=2_000,
                         channel_ref="R-1", paid_at=dt.datetime.fromisoformat("2026-03-16T00:30:00+08:00"),
                         state=PaymentState.provisional)
    db.session.commit()

    assert run(D(2026, 3, 15))["disconnection_orders"] == 0
    assert _orders() == []
    account = _account()
    assert (account.status, account.stopped_since) == ("active", None)


def test_an_open_order_is_withdrawn_when_the_customer_pays(accounts):
    run(D(2026, 3, 8))
    run(D(2026, 3, 15))
    posting.post_payment(db.session, channel="agent", channel_account="AG01", customer_code="P1", amount_fen=10_000,
                         channel_ref="R-2", paid_at=dt.datetime.fromisoformat("2026-03-16T09:00:00+08:00"),
                         state=PaymentState.provisional)
    db.session.commit()
    run(D(2026, 3, 16))
    assert [status for _, _, status, _ in _orders()] == ["cancelled"]
    assert _account().warned_on is None  # 90 yuan now: the next drop below 50 is warned of again


def test_thresholds_the_grace_period_and_the_notices_language_come_from_the_policy(accounts, database_url, tmp_path):
    custom = create_app({**_settings(database_url, tmp_path),
                         "POLICY": {"prepayment": {"warn_below": "30.00", "order_after_days": 2},
                                    "notifications": {"language": "en"}}})
    with custom.app_context():
        assert prepaid.monitor(db.session, D(2026, 3, 5))["warned"] == 0  # 40 yuan is above 30
        prepaid.monitor(db.session, D(2026, 3, 8))
        assert prepaid.monitor(db.session, D(2026, 3, 10))["disconnection_orders"] == 1
        assert _bodies("prepaid.low_balance") == [
            "Your prepaid electricity balance is below 30.00 yuan; please top up."]
        assert _bodies("prepaid.stopped") == ["Your prepaid electricity balance is below 0.00 yuan and supply is "
                                              "stopped; top up within 2 days to avoid disconnection."]
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def test_a_policy_stopping_above_the_warning_level_is_refused_at_start(database_url, tmp_path):
    with pytest.raises(Invalid, match="prepayment"):
        create_app({**_settings(database_url, tmp_path), "POLICY": {"prepayment": {"stop_below": "60.00"}}})


def test_the_nightly_job_and_the_commands(accounts, recovery):
    result = recovery("jobs", "run", "payments.prepaid_monitor", "--date", "2026-03-08")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["stopped"] == 1
    shown = json.loads(recovery("prepaid", "show", "P1").stdout)
    assert shown == {"customer_id": "P1", "status": "stopped", "balance": "-10.00", "warned_on": "2026-03-08",
                     "stopped_since": "2026-03-08"}
    assert recovery("prepaid", "enrol", "P1").exit_code != 0
    assert recovery("prepaid", "enrol", "C1").exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(PrepaidAccount)) == 3
