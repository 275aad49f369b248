"""Recharge cards: hashed PINs, sale to distributors, redemption exactly once, voiding, stock alerts."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from recovery.audit.models import AuditEntry
from recovery.auth.service import create_user
from recovery.errors import Conflict, Invalid
from recovery.extensions import db
from recovery.ledger.models import LedgerEntry
from recovery.notifications.models import Notification
from recovery.payments.channels import cards
from recovery.payments.models import Card, CardStatus, Distributor, Payment, Receipt
from recovery.timeutil import today
from tests.factories import bill, customer, load

PASSWORD = "correct horse battery"


@pytest.fixture
def batch(app, recovery, tmp_path):
    """Batch CB1 of five 100-yuan cards (serial -> PIN); distributor D1 bought three; customer C1 owes 150."""
    load(recovery, tmp_path, customers=[customer("C1"), customer("C2")],
         bills=[bill("B1", "C1", "150.00", "2026-01", "2026-02-03", "2026-02-20")])
    pins = dict(cards.create_batch(db.session, "CB1", face_value_fen=10_000, count=5, created_by="clerk"))
    cards.create_distributor(db.session, "D1", name="城东报刊亭", manager_contact="13800000001")
    cards.sell(db.session, "D1", "CB1", 3, reference="PO-1", sold_by="clerk")
    db.session.commit()
    return pins


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_pins_are_stored_only_as_salted_hashes_and_serials_are_unique(batch):
    stored = dict(db.session.execute(select(Card.serial, Card.pin_hash)).all())
    assert sorted(stored) == [f"CB1-{i:06d}" for i in range(1, 6)]
    for serial, pin in batch.items():
        assert len(pin) == 16 and pin.isdigit()
        assert pin not in stored[serial] and stored[serial].startswith("scrypt:")
        assert cards.check_pin(pin, stored[serial])
        assert not cards.check_pin(str((int(pin) + 1) % 10**16).zfill(16), stored[serial])
    assert len(set(stored.values())) == 5  # one salt per card
    audited = " ".join(json.dumps(e.details) for e in db.session.scalars(select(AuditEntry)))
    assert not any(pin in audited for pin in batch.values())


def test_selling_marks_the_next_cards_sold_and_raises_the_distributors_stock(batch):
    statuses = dict(db.session.execute(select(Card.serial, Card.status)).all())
    assert [statuses[f"CB1-{i:06d}"] for i in range(1, 6)] == ["sold"] * 3 + ["issued"] * 2
    assert db.session.scalar(select(Distributor.stock)) == 3


def test_selling_more_cards_than_are_left_is_refused_and_changes_nothing(batch):
    with pytest.raises(Conflict, match="only 2 unsold"):
        cards.sell(db.session, "D1", "CB1", 3, reference="PO-2", sold_by="clerk")
    db.session.rollback()
    assert _count(Card, Card.status == CardStatus.sold) == 3
    assert db.session.scalar(select(Distributor.stock)) == 3


def test_redeeming_a_sold_card_credits_the_customer_its_face_value_once(batch):
    payment, receipt = cards.redeem(db.session, "CB1-000001", batch["CB1-000001"], "C1", redeemed_by="cashier1")
    db.session.commit()

    assert (payment.channel, payment.channel_account, payment.channel_ref) == ("card", "CB1", "CB1-000001")
    assert (payment.amount_fen, payment.state) == (10_000, "settled")
    assert receipt.receipt_no == f"RCB1-{today():%Y%m%d}-00001"
    card = db.session.scalar(select(Card).where(Card.serial == "CB1-000001"))
    assert (card.status, card.payment_id, card.redeemed_on) == ("redeemed", payment.id, today())
    with pytest.raises(Conflict, match="already redeemed") as refused:
        cards.redeem(db.session, "CB1-000001", batch["CB1-000001"], "C2", redeemed_by="cashier1")
    assert refused.value.status == 409
    db.session.rollback()
    assert _count(Payment) == 1
    assert _count(LedgerEntry, LedgerEntry.kind == "payment") == 1
    assert db.session.scalar(select(Distributor.stock)) == 2


def test_a_wrong_pin_and_an_unknown_serial_get_the_same_answer(batch):
    for serial, pin in (("CB1-000001", "0" * 16), ("CB1-999999", batch["CB1-000001"])):
        with pytest.raises(Invalid, match="do not match") as refused:
            cards.redeem(db.session, serial, pin, "C1", redeemed_by="x")
        assert (refused.value.status, refused.value.code) == (422, "card_pin_mismatch")
    assert _count(Payment) == 0


def test_unsold_and_void_cards_cannot_be_redeemed(batch):
    with pytest.raises(Conflict, match="not been sold") as unsold:
        cards.redeem(db.session, "CB1-000005", batch["CB1-000005"], "C1", redeemed_by="x")
    assert unsold.value.code == "card_issued"
    cards.void(db.session, ["CB1-000002"], reason="reported stolen", voided_by="clerk")
    db.session.commit()
    with pytest.raises(Conflict, match="is void"):
        cards.redeem(db.session, "CB1-000002", batch["CB1-000002"], "C1", redeemed_by="x")
    assert _count(Payment) == 0


def test_voiding_takes_sold_cards_off_the_stock_and_refuses_redeemed_ones(batch):
    cards.redeem(db.session, "CB1-000001", batch["CB1-000001"], "C1", redeemed_by="x")
    db.session.commit()
    with pytest.raises(Conflict, match="already redeemed or void"):
        cards.void(db.session, ["CB1-000001", "CB1-000002"], reason="damaged", voided_by="clerk")
    db.session.rollback()
    assert cards.void(db.session, ["CB1-000002", "CB1-000004"], reason="damaged", voided_by="clerk") == 2
    db.session.commit()
    assert db.session.scalar(select(Distributor.stock)) == 1
    assert _count(Card, Card.status == CardStatus.void) == 2


def test_the_manager_is_alerted_once_when_the_distributors_stock_runs_out(batch):
    for serial in ("CB1-000001", "CB1-000002"):
        cards.redeem(db.session, serial, batch[serial], "C1", redeemed_by="x")
    db.session.commit()
    assert _count(Notification) == 0

    cards.redeem(db.session, "CB1-000003", batch["CB1-000003"], "C2", redeemed_by="x")
    db.session.commit()
    alert = db.session.scalar(select(Notification))
    assert (alert.recipient, alert.kind, alert.subject_id, alert.sent_at) == ("13800000001", "cards.stock_out", "D1",
                                                                               None)
    assert "0 recharge card(s) left" in alert.body
    assert db.session.scalar(select(Distributor.stock)) == 0 == _count(Card, Card.status == CardStatus.sold)


def test_cards_day_shows_sold_redeemed_voided_and_stock_per_distributor_and_batch(batch):
    cards.redeem(db.session, "CB1-000001", batch["CB1-000001"], "C1", redeemed_by="x")
    cards.void(db.session, ["CB1-000002"], reason="damaged", voided_by="clerk")
    db.session.commit()

    rows = cards.cards_day(db.session, today()).to_dict("records")
    assert rows == [{"distributor": "D1", "batch": "CB1", "face_value_fen": 10_000, "sold_count": 3,
                     "sold_fen": 30_000, "redeemed_count": 1, "redeemed_fen": 10_000, "voided_count": 1, "stock": 1}]
    yesterday = cards.cards_day(db.session, today() - dt.timedelta(days=1)).to_dict("records")
    assert yesterday[0]["sold_count"] == 0 and yesterday[0]["redeemed_count"] == 0


def test_the_cards_commands_issue_sell_and_redeem(recovery, tmp_path, session):
    load(recovery, tmp_path, customers=[customer("C1")])
    out = tmp_path / "cards.csv"
    assert recovery("cards", "batch", "CB9", "--face-value", "50.00", "--count", "3", "--out", out).exit_code == 0
    printed = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["serial"] for r in printed] == ["CB9-000001", "CB9-000002", "CB9-000003"]
    again = recovery("cards", "batch", "CB9", "--face-value", "50.00", "--count", "3", "--out", tmp_path / "b.csv")
    assert again.exit_code != 0 and not (tmp_path / "b.csv").exists()
    assert recovery("cards", "distributor", "D9", "--name", "便利店", "--manager", "wang@example.com").exit_code == 0
    assert recovery("cards", "sell", "D9", "--batch", "CB9", "--count", "2", "--reference", "INV-1").exit_code == 0

    result = recovery("cards", "redeem", "CB9-000001", "--customer", "C1", "--pin", printed[0]["pin"], "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["face_value"] == "50.00"
    twice = recovery("cards", "redeem", "CB9-000001", "--customer", "C1", "--pin", printed[0]["pin"])
    assert twice.exit_code != 0 and "already redeemed" in twice.output
    assert recovery("cards", "void", "--batch", "CB9", "--reason", "withdrawn").exit_code == 0
    assert session.scalar(select(func.count()).select_from(Card).where(Card.status == CardStatus.void)) == 2


def _sign_in(client, username: str) -> None:
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def test_staff_redeem_through_the_api_and_officers_may_not(client, batch):
    create_user(db.session, "cash1", role="cashier", password=PASSWORD)
    create_user(db.session, "li", role="officer", password=PASSWORD, grids=["G1"])
    db.session.commit()
    payload = {"serial": "CB1-000001", "pin": batch["CB1-000001"], "customer_id": "C1"}
    assert client.post("/api/v1/cards/redeem", json=payload).status_code == 401

    _sign_in(client, "li")
    refused = client.post("/api/v1/cards/redeem", json=payload)
    assert (refused.status_code, refused.json["code"]) == (403, "role_not_allowed")
    client.post("/logout")

    _sign_in(client, "cash1")
    response = client.post("/api/v1/cards/redeem", json=payload)
    assert response.status_code == 201, response.json
    assert (response.json["balance"], response.json["serial"], response.json["face_value"]) == ("50.00", "CB1-000001",
                                                                                                 "100.00")
    assert response.json["allocations"] == [{"bill_id": "B1", "amount": "100.00"}]
    twice = client.post("/api/v1/cards/redeem", json=payload)
    assert (twice.status_code, twice.json["code"]) == (409, "card_redeemed")
    bad = client.post("/api/v1/cards/redeem", json={**payload, "pin": "12"})
    assert bad.status_code == 422 and "pin" in bad.json["errors"]["json"]
    assert _count(Receipt) == 1


def test_a_day_without_cards_gives_an_empty_frame_with_the_columns(app, session):
    frame = cards.cards_day(session, today())
    assert frame.empty and list(frame.columns) == cards.CARDS_DAY_COLUMNS


def test_the_nightly_reconciliation_compares_cards_redeemed_with_the_batchs_card_payments(batch, recovery):
    from recovery.payments.reversals import reverse_payment
    from recovery.reconcile.models import ReconBreak
    from recovery.timeutil import today

    sold = cards.batch_serials(db.session, "CB1")[:3]
    first, _ = cards.redeem(db.session, sold[0], batch[sold[0]], "C1", redeemed_by="clerk")
    cards.redeem(db.session, sold[1], batch[sold[1]], "C2", redeemed_by="clerk")
    db.session.commit()
    day = today().isoformat()
    assert recovery("reconcile", "run", "--date", day, "--channel", "card").exit_code == 0
    assert _count(ReconBreak, ReconBreak.channel == "card") == 0  # 200 yuan redeemed, 200 yuan in the ledger

    # The ledger loses one redemption's payment while the card stays redeemed: the batch is 100 yuan off.
    reverse_payment(db.session, first, "posted in error", "R01", actor="clerk")
    db.session.commit()
    assert recovery("reconcile", "run", "--date", day, "--channel", "card").exit_code == 0
    [off] = db.session.scalars(select(ReconBreak).where(ReconBreak.channel == "card")).all()
    assert (off.kind, off.channel_account, off.statement_amount_fen, off.ledger_amount_fen) == \
        ("amount_mismatch", "CB1", 20_000, 10_000)


def test_a_distributor_that_has_not_paid_for_its_cards_by_the_next_day_is_a_break_until_it_pays(batch, recovery):
    import datetime as dt

    from recovery.payments.models import CardSale
    from recovery.reconcile.models import ReconBreak
    from recovery.timeutil import today

    # D1 bought three 100-yuan cards yesterday: they are to be paid by the end of today.
    db.session.execute(CardSale.__table__.update().values(sold_on=today() - dt.timedelta(days=1)))
    db.session.commit()
    day = today().isoformat()
    assert recovery("reconcile", "run", "--date", day, "--channel", "card").exit_code == 0
    [owed] = db.session.scalars(select(ReconBreak).where(ReconBreak.channel == "card")).all()
    assert (owed.kind, owed.channel_account, owed.statement_amount_fen, owed.ledger_amount_fen, owed.status) == \
        ("amount_mismatch", "distributor:D1", 0, 30_000, "open")

    paid = recovery("cards", "remit", "D1", "300.00", "--date", day, "--reference", "TT-881")
    assert paid.exit_code == 0, paid.output
    assert recovery("cards", "remit", "D1", "300.00", "--date", day, "--reference", "TT-881").exit_code == 1
    assert recovery("reconcile", "run", "--date", day, "--channel", "card").exit_code == 0
    db.session.expire_all()
    assert _count(ReconBreak, ReconBreak.channel == "card", ReconBreak.status == "open") == 0
