"""Concurrent redemptions, each in its own thread with its own session and transaction."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import current_app
from sqlalchemy import func, select

from recovery.errors import DomainError
from recovery.extensions import db
from recovery.ledger.models import LedgerEntry
from recovery.notifications.models import Notification
from recovery.payments.channels import cards
from recovery.payments.models import Card, Distributor, Payment
from tests.factories import customer, load


@pytest.fixture
def pins(app, recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1"), customer("C2")])
    pins = dict(cards.create_batch(db.session, "CB1", face_value_fen=5_000, count=2, created_by="clerk"))
    cards.create_distributor(db.session, "D1", name="报刊亭", manager_contact="13800000001")
    cards.sell(db.session, "D1", "CB1", 2, reference="PO-1", sold_by="clerk")
    db.session.commit()
    return pins


def _redeem_at_once(attempts: list[tuple[str, str, str]]) -> list[str]:
    """Run every (serial, pin, customer) redemption at the same moment; 'ok' or the refusal's code each."""
    app = current_app._get_current_object()
    barrier = threading.Barrier(len(attempts))

    def attempt(item: tuple[str, str, str]) -> str:
        serial, pin, customer_code = item
        with app.app_context():  # its own scoped session, connection and transaction
            try:
                barrier.wait()
                cards.redeem(db.session, serial, pin, customer_code, redeemed_by="t")
                db.session.commit()
                return "ok"
            except DomainError as e:
                db.session.rollback()
                return e.code
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return list(pool.map(attempt, attempts))


def test_a_card_redeemed_concurrently_credits_once(pins):
    serial = "CB1-000001"
    outcomes = _redeem_at_once([(serial, pins[serial], "C1" if i % 2 else "C2") for i in range(8)])

    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) - {"ok"} <= {"card_redeemed", "channel_ref_already_posted"}
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    assert db.session.scalar(select(func.count()).where(LedgerEntry.kind == "payment")) == 1
    assert db.session.scalar(select(Card.status).where(Card.serial == serial)) == "redeemed"
    assert db.session.scalar(select(Distributor.stock)) == 1


def test_the_last_two_cards_redeemed_together_alert_the_manager_once(pins):
    outcomes = _redeem_at_once([(s, p, "C1") for s, p in pins.items()])

    assert outcomes == ["ok", "ok"]
    db.session.expire_all()
    assert db.session.scalar(select(Distributor.stock)) == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 1
