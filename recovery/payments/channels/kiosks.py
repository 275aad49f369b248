"""Self-service kiosks (自助终端): registration, signed postings with receipts, cash collections, the day's figures.

A kiosk signs its requests exactly as a partner agent does (recovery.payments.channels.agents) with its own
secret and `X-Kiosk-Id`; its payments are provisional until the nightly balancing (cash counted at
collection, the bank-card part against the acquirer's settlement) settles them.
"""

from __future__ import annotations

import datetime as dt
import secrets as token
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session

from recovery import crypto
from recovery.audit import service as audit
from recovery.errors import Conflict, Forbidden, Invalid, NotFound
from recovery.payments import idempotency, posting, receipts
from recovery.payments.channels import agents
from recovery.payments.models import (
    Channel,
    Kiosk,
    KioskCollection,
    KioskSecret,
    KioskStatus,
    Payment,
    PaymentState,
    Receipt,
    Tender,
)
from recovery.payments.policy import signed_max_age
from recovery.timeutil import business_date, now, start_of_day


@dataclass(frozen=True)
class NewKiosk:
    kiosk: Kiosk
    secret: str


def register_kiosk(session: Session, code: str, *, location: str) -> NewKiosk:
    """Register a terminal; its API secret is returned once and stored only encrypted."""
    if not agents.CODE.fullmatch(code):
        raise Invalid("a kiosk id is 1-32 letters, digits, '_' or '-'")
    if not location or not location.strip():
        raise Invalid("a kiosk needs a location")
    if session.scalar(select(Kiosk.id).where(Kiosk.code == code)):
        raise Conflict(f"kiosk {code} already exists")
    kiosk = Kiosk(code=code, location=location.strip()[:200], status=KioskStatus.active)
    session.add(kiosk)
    session.flush()  # the secret row needs kiosk.id
    secret = token.token_urlsafe(32)
    session.add(KioskSecret(kiosk_id=kiosk.id, secret_encrypted=crypto.encrypt(secret)))
    audit.record(session, "kiosk.register", "kiosk", code, location=kiosk.location)
    return NewKiosk(kiosk, secret)


def get_kiosk(session: Session, code: str) -> Kiosk:
    """The kiosk with this id, or NotFound."""
    kiosk = session.scalar(select(Kiosk).where(Kiosk.code == code))
    if kiosk is None:
        raise NotFound(f"no kiosk {code}", code="kiosk_not_found")
    return kiosk


def _load_kiosk(session: Session, code: str) -> agents.Caller | None:
    kiosk = session.execute(select(Kiosk.id, Kiosk.code, Kiosk.status).where(Kiosk.code == code)).first()
    if kiosk is None:
        return None
    rows = session.execute(select(KioskSecret.secret_encrypted, KioskSecret.expires_at)
                           .where(KioskSecret.kiosk_id == kiosk.id)).all()
    return agents.Caller(kiosk.id, kiosk.code, kiosk.status, tuple((crypto.decrypt(t), until) for t, until in rows))


def authenticate(session: Session, *, presented: str | None, timestamp: str | None, signature: str | None,
                 method: str, path: str, key: str, body: bytes) -> agents.Caller:
    """The kiosk whose valid secret signed this request; 401 otherwise, 403 when it is retired."""
    kiosk = agents.authenticate_caller(session, "kiosk", _load_kiosk, id_header="X-Kiosk-Id", presented=presented,
                                       timestamp=timestamp, signature=signature, method=method, path=path, key=key,
                                       body=body)
    if kiosk.status != KioskStatus.active:
        raise Forbidden(f"kiosk {kiosk.code} is retired", code="kiosk_retired")
    return kiosk


def _lock(session: Session, kiosk_id: int, code: str) -> None:
    # The first write: the kiosk's postings queue here, so its receipt numbers never collide or skip.
    done = session.execute(update(Kiosk).where(Kiosk.id == kiosk_id, Kiosk.status == KioskStatus.active)
                           .values(last_payment_at=now())).rowcount
    if not done:
        raise Forbidden(f"kiosk {code} is retired", code="kiosk_retired")


def post_kiosk_payment(session: Session, kiosk: Kiosk | agents.Caller, *, customer_code: str, amount_fen: int,
                       channel_ref: str, paid_at: dt.datetime, tender: str,
                       request: idempotency.Request | None = None) -> tuple[posting.Posted, Receipt]:
    """Post a kiosk payment (cash or bank card) and issue its receipt; provisional until balanced. The
    request's key is claimed with the payment."""
    if tender not in Tender.__members__:
        raise Invalid(f"tender must be cash or card, not {tender!r}", code="bad_tender")
    kiosk_id, code = kiosk.id, kiosk.code
    payment = posting.post_payment(
        session, channel=Channel.kiosk, channel_account=code, customer_code=customer_code, amount_fen=amount_fen,
        channel_ref=channel_ref, paid_at=paid_at, state=PaymentState.provisional,
        guard=lambda: _lock(session, kiosk_id, code), max_age=signed_max_age(), request=request)
    receipt = receipts.issue(session, payment, day=business_date(paid_at), tender=tender)
    return payment, receipt


def kiosk_answer(session: Session, payment: Payment | posting.Posted, receipt: Receipt | None = None) -> dict:
    """The agent API's answer plus the kiosk's receipt number and tender."""
    if receipt is None:
        receipt = session.scalar(select(Receipt).where(Receipt.payment_id == payment.id))
    return {**posting.payment_answer(session, payment), "kiosk_id": payment.channel_account,
            "receipt_no": receipt.receipt_no if receipt else None, "tender": receipt.tender if receipt else None}


def kiosk_payment(session: Session, kiosk: Kiosk | agents.Caller, code: str) -> Payment:
    """One of the kiosk's own payments; another's answers NotFound."""
    payment = session.scalar(select(Payment).where(
        Payment.code == code, Payment.channel == Channel.kiosk, Payment.channel_account == kiosk.code))
    if payment is None:
        raise NotFound(f"no payment {code} of kiosk {kiosk.code}", code="payment_not_found")
    return payment


def record_collection(session: Session, code: str, counted_fen: int, *, collected_by: str, reference: str,
                      collected_at: dt.datetime | None = None) -> KioskCollection:
    """Cash taken out of a kiosk and counted (the bag's seal number as reference); audited."""
    kiosk = get_kiosk(session, code)
    if counted_fen < 0:
        raise Invalid("a counted amount cannot be negative")
    if not reference or not reference.strip():
        raise Invalid("a collection needs the cash bag's reference")
    if not collected_by or not collected_by.strip():
        raise Invalid("a collection needs the name of who collected it")
    at = collected_at or now()
    if at > now() + posting.FUTURE_TOLERANCE:
        raise Invalid("collected_at lies in the future")
    if session.scalar(select(KioskCollection.id).where(KioskCollection.kiosk_id == kiosk.id,
                                                       KioskCollection.reference == reference)):
        raise Conflict(f"collection {reference} of kiosk {code} is already recorded")
    row = KioskCollection(kiosk_id=kiosk.id, collected_on=business_date(at), collected_at=at, counted_fen=counted_fen,
                          collected_by=collected_by.strip(), reference=reference.strip())
    session.add(row)
    audit.record(session, "kiosk.collect", "kiosk", code, counted_fen=counted_fen, reference=reference,
                 collected_by=row.collected_by, collected_at=at.isoformat())
    return row


KIOSK_DAY_COLUMNS = ["kiosk_id", "location", "cash_count", "cash_fen", "card_count", "card_fen", "unknown_count",
                     "unknown_fen", "counted_fen", "collections", "cash_difference_fen"]


def kiosk_day(session: Session, day: dt.date) -> pd.DataFrame:
    """Per kiosk for one business day: cash and bank-card payments (count, fen), the cash counted at
    collection, and counted less cash taken. Imported payments of unknown tender are shown apart."""
    lo, hi = start_of_day(day), start_of_day(day + dt.timedelta(days=1))

    def part(tender, what):
        cond = Receipt.tender.is_(None) if tender is None else Receipt.tender == tender
        return func.coalesce(func.sum(case((cond, what), else_=0)), 0)

    takings = (
        select(Payment.channel_account.label("kiosk_id"),
               part(Tender.cash, 1).label("cash_count"), part(Tender.cash, Payment.amount_fen).label("cash_fen"),
               part(Tender.card, 1).label("card_count"), part(Tender.card, Payment.amount_fen).label("card_fen"),
               part(None, 1).label("unknown_count"), part(None, Payment.amount_fen).label("unknown_fen"))
        .join(Receipt, Receipt.payment_id == Payment.id, isouter=True)
        .where(Payment.channel == Channel.kiosk, Payment.paid_at >= lo, Payment.paid_at < hi,
               Payment.state != PaymentState.reversed)
        .group_by(Payment.channel_account)
    )
    counted = (
        select(Kiosk.code.label("kiosk_id"), Kiosk.location,
               func.coalesce(func.sum(KioskCollection.counted_fen), 0).label("counted_fen"),
               func.count(KioskCollection.id).label("collections"))
        .join(KioskCollection, and_(KioskCollection.kiosk_id == Kiosk.id, KioskCollection.collected_on == day),
              isouter=True)
        .group_by(Kiosk.code, Kiosk.location)
    )
    a = pd.DataFrame(session.execute(takings).all(), columns=KIOSK_DAY_COLUMNS[:1] + KIOSK_DAY_COLUMNS[2:8])
    b = pd.DataFrame(session.execute(counted).all(), columns=["kiosk_id", "location", "counted_fen", "collections"])
    out = b.merge(a, on="kiosk_id", how="outer")
    for c in KIOSK_DAY_COLUMNS[2:10]:
        out[c] = pd.to_numeric(out[c]).fillna(0).astype("int64")
    out["cash_difference_fen"] = out["counted_fen"] - out["cash_fen"]
    return out[KIOSK_DAY_COLUMNS].sort_values("kiosk_id", ignore_index=True)
