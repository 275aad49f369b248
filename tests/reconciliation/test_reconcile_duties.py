"""Kiosk cash and cashier drawers are balanced as totals on both databases: a difference is a break of the
kiosk's or cashier's account, a balanced kiosk's cash payments become settled, and reruns keep the breaks."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from recovery.auth.service import create_user
from recovery.extensions import db
from recovery.payments.channels import counter, kiosks
from recovery.payments.models import Payment
from recovery.reconcile.models import ReconBreak, ReconRun
from recovery.reconcile.report import day_report
from recovery.reconcile.service import reconcile_day
from recovery.timeutil import now, start_of_day, today
from tests.factories import customer, load
from tests.web.data import PASSWORD, cheap_password_hashing


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def customers(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1"), customer("C2")])


def _kiosk_day(session, counted_fen: int) -> dt.date:
    kiosk = kiosks.register_kiosk(session, "K1", location="营业厅").kiosk
    # A few minutes ago, but never before today's business day began (a run just after midnight).
    at = max(now() - dt.timedelta(minutes=5), start_of_day(today()))
    kiosks.post_kiosk_payment(session, kiosk, customer_code="C1", amount_fen=10000, channel_ref="K1-1", paid_at=at,
                              tender="cash")
    kiosks.post_kiosk_payment(session, kiosk, customer_code="C2", amount_fen=5000, channel_ref="K1-2", paid_at=at,
                              tender="cash")
    kiosks.post_kiosk_payment(session, kiosk, customer_code="C2", amount_fen=7000, channel_ref="K1-3", paid_at=at,
                              tender="card")
    kiosks.record_collection(session, "K1", counted_fen, collected_by="押运员", reference="BAG-1")
    session.commit()
    return today()


def test_kiosk_cash_counted_short_is_an_amount_mismatch(session, customers):
    day = _kiosk_day(session, 14000)
    reconcile_day(session, day)
    session.commit()
    [kiosk] = [c for c in day_report(session, day)["channels"] if c["channel"] == "kiosk"]
    assert kiosk["channel_account"] == "K1"
    assert [(b["kind"], b["channel_ref"], b["statement_amount"], b["ledger_amount"]) for b in kiosk["breaks"]] == [
        ("amount_mismatch", f"CASH-{day.isoformat()}", "140.00", "150.00")]
    # The card part waits for the acquirer's statement: no break for it yet.
    assert kiosk["ledger_total"] == "220.00" and kiosk["statement_total"] == "140.00"
    before = session.execute(select(ReconBreak.id, ReconBreak.status)).all()
    reconcile_day(session, day)
    session.commit()
    assert session.execute(select(ReconBreak.id, ReconBreak.status)).all() == before


def test_a_balanced_kiosk_settles_its_cash_payments(session, customers):
    day = _kiosk_day(session, 15000)
    reconcile_day(session, day)
    session.commit()
    assert session.scalar(select(ReconRun.state).where(ReconRun.channel == "kiosk")) == "balanced"
    states = dict(session.execute(select(Payment.channel_ref, Payment.state)).all())
    assert states == {"K1-1": "settled", "K1-2": "settled", "K1-3": "provisional"}


def test_a_drawer_counted_over_and_one_never_closed_are_breaks(session, customers):
    for name in ("sun", "zhou"):
        create_user(session, name, role="cashier", password=PASSWORD)
        counter.open_drawer(session, name, opening_float_fen=20000, opened_by="班长")
    counter.post_counter_payment(session, "sun", customer_code="C1", amount_fen=3000, tender="cash")
    counter.post_counter_payment(session, "zhou", customer_code="C2", amount_fen=4000, tender="cash")
    counter.close_drawer(session, "sun", counted_fen=23100, closed_by="班长")
    session.commit()
    day = today()
    reconcile_day(session, day)
    session.commit()
    found = {(c["channel_account"], b["kind"], b["statement_amount"], b["ledger_amount"])
             for c in day_report(session, day)["channels"] if c["channel"] == "counter" for b in c["breaks"]}
    assert found == {("sun", "amount_mismatch", "231.00", "230.00"), ("zhou", "missing_in_statement", None, "240.00")}
    assert db.session.scalar(select(ReconRun.statement_total_fen).where(ReconRun.channel_account == "sun")) == 3100
