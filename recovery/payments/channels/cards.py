"""Prepaid recharge cards (充值卡): batches, sales to distributors, redemption, voiding, the day's figures.

Life cycle: issued (printed, held by the utility) -> sold (to a distributor, who sells it on) ->
redeemed (a customer's account is credited its face value), or void (withdrawn). Only a sold card
can be redeemed: an issued card has not left the utility, so its PIN in a customer's hands means a
leak. A distributor's stock is the cards sold to it and not yet redeemed or voided; when it falls to
the policy's alert level (default 0) its manager is told through the notifications outbox.

PINs are 16 random digits (about 53 bits) and stored only as salted scrypt hashes. Because the
PIN is random, not chosen by a person, the hash need not be slow to resist guessing: scrypt with
N=2^7, r=4 (64 KiB, a fraction of a millisecond) still leaves an attacker who stole the table 10^16
candidates per card, each card with its own salt: at a million guesses a second some 300 years per
100-yuan card. Slower settings would only slow the printing of a batch: 10,000 cards hash in about
two seconds on one core (measured ~5 s on a heavily shared 2-core machine).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
import secrets

import pandas as pd
from marshmallow import Schema, fields, validate
from sqlalchemy import case, func, insert, select, update
from sqlalchemy.orm import Session

from recovery import policy
from recovery.audit import service as audit
from recovery.errors import Conflict, Invalid, NotFound
from recovery.money import format_yuan
from recovery.notifications.service import notify
from recovery.payments import posting, receipts
from recovery.payments.models import (
    Card,
    CardBatch,
    CardSale,
    CardStatus,
    Channel,
    Distributor,
    DistributorRemittance,
    Payment,
    PaymentState,
    Receipt,
)
from recovery.timeutil import business_date, now

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**7, 4, 1
PIN_DIGITS = 16
MAX_BATCH = 100_000
CODE = re.compile(r"^[A-Za-z0-9_-]{1,24}\Z")


class CardsPolicySchema(Schema):
    """[cards] in the policy: a distributor's manager is alerted when its stock falls to `stock_alert_at`."""

    stock_alert_at = fields.Integer(load_default=0, validate=validate.Range(min=0))


# ---------------------------------------------------------------- PINs


def hash_pin(pin: str) -> str:
    """'scrypt:N:r:p$salt$hash' (hex), with a fresh 16-byte salt."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt:{SCRYPT_N}:{SCRYPT_R}:{SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_pin(pin: str, stored: str) -> bool:
    """Whether `pin` is the one hashed in `stored` (parameters read from the stored hash)."""
    try:
        params, salt, digest = stored.split("$")
        _, n, r, p = params.split(":")
        candidate = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


# ---------------------------------------------------------------- batches and distributors


def create_batch(session: Session, code: str, *, face_value_fen: int, count: int,
                 created_by: str) -> list[tuple[str, str]]:
    """Issue a batch: returns (serial, PIN) pairs once, for the printer; only PIN hashes are stored."""
    if not CODE.match(code):
        raise Invalid("a batch code is 1-24 letters, digits, '_' or '-'")
    if face_value_fen <= 0:
        raise Invalid("a card's face value must be greater than 0")
    if not 1 <= count <= MAX_BATCH:
        raise Invalid(f"a batch holds 1 to {MAX_BATCH} cards")
    if session.scalar(select(CardBatch.id).where(CardBatch.code == code)):
        raise Conflict(f"card batch {code} already exists")
    batch = CardBatch(code=code, face_value_fen=face_value_fen, count=count, created_by=created_by)
    session.add(batch)
    session.flush()  # the cards need batch.id
    pins = [str(secrets.randbelow(10**PIN_DIGITS)).zfill(PIN_DIGITS) for _ in range(count)]
    hashes = [hash_pin(pin) for pin in pins]
    serials = [f"{code}-{i:06d}" for i in range(1, count + 1)]
    session.execute(insert(Card), [
        {"batch_id": batch.id, "serial": s, "pin_hash": h, "status": CardStatus.issued.value}
        for s, h in zip(serials, hashes, strict=True)])
    audit.record(session, "cards.batch", "card_batch", code, face_value_fen=face_value_fen, count=count)
    return list(zip(serials, pins, strict=True))


def create_distributor(session: Session, code: str, *, name: str, manager_contact: str) -> Distributor:
    """Register a card distributor and whom to tell when its stock runs out."""
    if not CODE.match(code):
        raise Invalid("a distributor code is 1-24 letters, digits, '_' or '-'")
    if not manager_contact or not manager_contact.strip():
        raise Invalid("a distributor needs its manager's contact (phone, e-mail or user name)")
    if session.scalar(select(Distributor.id).where(Distributor.code == code)):
        raise Conflict(f"distributor {code} already exists")
    distributor = Distributor(code=code, name=name, manager_contact=manager_contact.strip(), stock=0)
    session.add(distributor)
    audit.record(session, "cards.distributor", "distributor", code, name=name)
    return distributor


def _batch(session: Session, code: str) -> CardBatch:
    batch = session.scalar(select(CardBatch).where(CardBatch.code == code))
    if batch is None:
        raise NotFound(f"no card batch {code}", code="card_batch_not_found")
    return batch


def _distributor(session: Session, code: str) -> Distributor:
    distributor = session.scalar(select(Distributor).where(Distributor.code == code))
    if distributor is None:
        raise NotFound(f"no distributor {code}", code="distributor_not_found")
    return distributor


def sell(session: Session, distributor_code: str, batch_code: str, count: int, *, reference: str,
         sold_by: str) -> CardSale:
    """Sell the next `count` issued cards of a batch (by serial) to a distributor."""
    distributor = _distributor(session, distributor_code)
    batch = _batch(session, batch_code)
    if count <= 0:
        raise Invalid("sell at least one card")
    if not reference or not reference.strip():
        raise Invalid("a sale needs a reference (the distributor's order or invoice number)")
    if session.scalar(select(CardSale.id).where(CardSale.distributor_id == distributor.id,
                                                CardSale.reference == reference)):
        raise Conflict(f"sale {reference} to distributor {distributor_code} is already recorded")
    stamp = now()
    sale = CardSale(distributor_id=distributor.id, batch_id=batch.id, count=count,
                    amount_fen=count * batch.face_value_fen, sold_on=business_date(stamp), sold_at=stamp,
                    sold_by=sold_by, reference=reference.strip())
    session.add(sale)
    session.flush()  # the cards point at sale.id
    # One conditional UPDATE: a card another sale took meanwhile no longer matches status = 'issued'.
    chosen = (select(Card.id).where(Card.batch_id == batch.id, Card.status == CardStatus.issued)
              .order_by(Card.serial).limit(count))
    taken = session.execute(
        update(Card).where(Card.id.in_(chosen.scalar_subquery()), Card.status == CardStatus.issued)
        .values(status=CardStatus.sold, sale_id=sale.id, distributor_id=distributor.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != count:
        raise Conflict(f"batch {batch_code} has only {taken} unsold card(s), not {count}", code="cards_not_available")
    session.execute(update(Distributor).where(Distributor.id == distributor.id)
                    .values(stock=Distributor.stock + count))
    audit.record(session, "cards.sell", "distributor", distributor_code, batch=batch_code, count=count,
                 amount_fen=sale.amount_fen, reference=sale.reference)
    return sale


def _lower_stock(session: Session, distributor_id: int, by: int) -> None:
    """Take `by` cards off a distributor's stock; tell its manager when that crosses the alert level."""
    # RETURNING under the row lock: concurrent redemptions each see their own result, so exactly
    # one of them crosses the level and only it writes the alert.
    left = session.execute(update(Distributor).where(Distributor.id == distributor_id)
                           .values(stock=Distributor.stock - by).returning(Distributor.stock)).scalar_one()
    level = policy.section("cards")["stock_alert_at"]
    if left <= level < left + by:
        code, contact = session.execute(select(Distributor.code, Distributor.manager_contact)
                                        .where(Distributor.id == distributor_id)).one()
        notify(session, contact, "cards.stock_out",
               f"Distributor {code} has {left} recharge card(s) left in stock; sell it more cards.",
               subject_type="distributor", subject_id=code)


# ---------------------------------------------------------------- redemption and voiding


def redeem(session: Session, serial: str, pin: str, customer_code: str, *, redeemed_by: str) -> tuple[Payment, Receipt]:
    """Credit a customer a sold card's face value, exactly once.

    The card's state changes in one conditional UPDATE ... WHERE status = 'sold', the transaction's
    first write: of two concurrent redemptions the second finds nothing to update and is refused
    (and the payment's unique channel reference, the card's serial, would refuse it again).
    """
    card = session.scalar(select(Card).where(Card.serial == serial))
    # One answer for an unknown serial and a wrong PIN: no probing for serials.
    if card is None or not check_pin(pin, card.pin_hash):
        raise Invalid("the serial and PIN do not match a recharge card", code="card_pin_mismatch")
    if card.status != CardStatus.sold:
        raise Conflict(_not_redeemable(card), code=f"card_{card.status}")
    batch = session.get(CardBatch, card.batch_id)
    card_id, distributor_id = card.id, card.distributor_id
    stamp = now()

    def claim() -> None:
        done = session.execute(
            update(Card).where(Card.id == card_id, Card.status == CardStatus.sold)
            .values(status=CardStatus.redeemed, redeemed_at=stamp, redeemed_on=business_date(stamp))
            .execution_options(synchronize_session=False)
        ).rowcount
        if not done:
            raise Conflict(f"card {serial} was redeemed or voided a moment ago", code="card_redeemed")

    # A card was paid for when the distributor bought it: its payment is settled at once.
    payment = posting.post_payment(session, channel=Channel.card, channel_account=batch.code,
                                   customer_code=customer_code, amount_fen=batch.face_value_fen, channel_ref=serial,
                                   paid_at=stamp, state=PaymentState.settled, guard=claim)
    session.execute(update(Card).where(Card.id == card_id)
                    .values(customer_id=payment.customer_id, payment_id=payment.id)
                    .execution_options(synchronize_session=False))
    receipt = receipts.issue(session, payment, day=business_date(stamp), tender=None)
    if distributor_id is not None:
        _lower_stock(session, distributor_id, 1)
    audit.record(session, "cards.redeem", "card", serial, customer=customer_code, amount_fen=batch.face_value_fen,
                 payment=payment.code, redeemed_by=redeemed_by)
    return payment, receipt


def _not_redeemable(card: Card) -> str:
    if card.status == CardStatus.redeemed:
        return f"card {card.serial} was already redeemed on {card.redeemed_on}"
    if card.status == CardStatus.void:
        return f"card {card.serial} is void"
    return f"card {card.serial} has not been sold yet and cannot be redeemed"


def void(session: Session, serials: list[str], *, reason: str, voided_by: str) -> int:
    """Withdraw unredeemed cards (lost, stolen, damaged); all named cards or none."""
    if not serials:
        raise Invalid("name at least one card")
    if not reason or not reason.strip():
        raise Invalid("a reason is required")
    rows = session.execute(select(Card.serial, Card.status).where(Card.serial.in_(serials))).all()
    unknown = sorted(set(serials) - {s for s, _ in rows})
    if unknown:
        raise NotFound(f"no card(s) {', '.join(unknown[:10])}", code="card_not_found")
    spent = sorted(s for s, status in rows if status in (CardStatus.redeemed, CardStatus.void))
    if spent:
        raise Conflict(f"already redeemed or void: {', '.join(spent[:10])}", code="card_not_voidable")
    day = business_date(now())
    held = session.execute(
        update(Card).where(Card.serial.in_(serials), Card.status == CardStatus.sold)
        .values(status=CardStatus.void, voided_on=day).returning(Card.distributor_id)
        .execution_options(synchronize_session=False)
    ).scalars().all()
    unsold = session.execute(
        update(Card).where(Card.serial.in_(serials), Card.status == CardStatus.issued)
        .values(status=CardStatus.void, voided_on=day).execution_options(synchronize_session=False)
    ).rowcount
    if len(held) + unsold != len(set(serials)):
        raise Conflict("some of the cards were redeemed a moment ago; nothing was voided", code="card_not_voidable")
    for distributor_id, n in pd.Series(held, dtype="int64").value_counts().items():
        _lower_stock(session, int(distributor_id), int(n))
    audit.record(session, "cards.void", "cards", serials[0] if len(serials) == 1 else f"{len(serials)} cards",
                 serials=sorted(set(serials)), reason=reason.strip(), voided_by=voided_by)
    return len(set(serials))


def batch_serials(session: Session, batch_code: str) -> list[str]:
    """Serials of a batch's cards that are not yet redeemed or void (to void a whole batch)."""
    batch = _batch(session, batch_code)
    return list(session.scalars(select(Card.serial).where(
        Card.batch_id == batch.id, Card.status.in_((CardStatus.issued, CardStatus.sold))).order_by(Card.serial)))


# ---------------------------------------------------------------- the day's figures

CARDS_DAY_COLUMNS = ["distributor", "batch", "face_value_fen", "sold_count", "sold_fen", "redeemed_count",
                     "redeemed_fen", "voided_count", "stock"]


def record_remittance(session: Session, distributor_code: str, amount_fen: int, *, remitted_on: dt.date,
                      reference: str, recorded_by: str) -> DistributorRemittance:
    """Money a distributor paid for its cards. The nightly reconciliation holds the remittances against the
    sales (recovery/reconcile/duties.py); a remittance is never refused for exceeding them (a prepayment)."""
    distributor = _distributor(session, distributor_code)
    if amount_fen <= 0:
        raise Invalid("a remittance must be greater than 0")
    if not reference or not reference.strip():
        raise Invalid("a remittance needs a reference (the bank transfer's or receipt's number)")
    if session.scalar(select(DistributorRemittance.id).where(DistributorRemittance.distributor_id == distributor.id,
                                                             DistributorRemittance.reference == reference.strip())):
        raise Conflict(f"remittance {reference} of distributor {distributor_code} is already recorded")
    remittance = DistributorRemittance(distributor_id=distributor.id, amount_fen=amount_fen, remitted_on=remitted_on,
                                       reference=reference.strip(), recorded_by=recorded_by)
    session.add(remittance)
    audit.record(session, "cards.remittance", "distributor", distributor_code, amount_fen=amount_fen,
                 reference=remittance.reference, remitted_on=remitted_on.isoformat())
    return remittance


def cards_day(session: Session, day: dt.date) -> pd.DataFrame:
    """Per distributor and batch for one business day: cards sold to it, redeemed, voided, and the
    stock it holds now (sold to it, not yet redeemed or voided)."""
    keys = ["distributor", "batch"]
    sold = pd.DataFrame(session.execute(
        select(Distributor.code, CardBatch.code, func.sum(CardSale.count), func.sum(CardSale.amount_fen))
        .join(Distributor, Distributor.id == CardSale.distributor_id).join(CardBatch, CardBatch.id == CardSale.batch_id)
        .where(CardSale.sold_on == day).group_by(Distributor.code, CardBatch.code)).all(),
        columns=[*keys, "sold_count", "sold_fen"])
    status = pd.DataFrame(session.execute(
        select(Distributor.code, CardBatch.code, CardBatch.face_value_fen,
               _count_if(Card.redeemed_on == day),
               _count_if((Card.voided_on == day) & (Card.status == CardStatus.void)),
               _count_if(Card.status == CardStatus.sold))
        .join(Distributor, Distributor.id == Card.distributor_id).join(CardBatch, CardBatch.id == Card.batch_id)
        .group_by(Distributor.code, CardBatch.code, CardBatch.face_value_fen)).all(),
        columns=[*keys, "face_value_fen", "redeemed_count", "voided_count", "stock"])
    out = status.merge(sold, on=keys, how="outer")
    for c in ["face_value_fen", "sold_count", "sold_fen", "redeemed_count", "voided_count", "stock"]:
        out[c] = pd.to_numeric(out[c]).fillna(0).astype("int64")
    out["redeemed_fen"] = out["redeemed_count"] * out["face_value_fen"]
    return out[CARDS_DAY_COLUMNS].sort_values(keys, ignore_index=True)


def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def stock_answer(distributor: Distributor) -> dict:
    """A distributor as the CLI prints it."""
    return {"distributor": distributor.code, "name": distributor.name, "stock": distributor.stock,
            "manager": distributor.manager_contact}


def redemption_answer(session: Session, payment: Payment, receipt: Receipt) -> dict:
    """The staff API's answer to a redemption: the payment answer, the card and the receipt."""
    return {**posting.payment_answer(session, payment), "serial": payment.channel_ref, "batch": payment.channel_account,
            "receipt_no": receipt.receipt_no, "face_value": format_yuan(payment.amount_fen)}
