"""Receipt numbers for kiosk, counter and card payments: `<prefix><account>-<YYYYMMDD>-<seq>`.

Numbered per channel account per business day from 1 without gaps, so the nightly balancing sees a
missing receipt at once. The caller holds the account's row lock (the posting's first write: the
kiosk's or the drawer's row, or the card's), so reading the day's highest number and adding one is
safe; the unique constraint on (channel, account, day, seq) is the last guard.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recovery import bulk
from recovery.ledger.models import EntryKind, LedgerEntry
from recovery.payments.models import Channel, Kiosk, Payment, Receipt

PREFIX = {Channel.kiosk: "K", Channel.counter: "C", Channel.card: "R"}
# Channels whose imported payments get receipts too (a card's payment exists only through redemption).
IMPORTED = (Channel.kiosk, Channel.counter)


def receipt_no(channel: str, account: str, day: dt.date, seq: int) -> str:
    """The printed receipt number."""
    return f"{PREFIX[Channel(channel)]}{account}-{day:%Y%m%d}-{seq:05d}"


def issue(session: Session, payment: Payment, *, day: dt.date, tender: str | None) -> Receipt:
    """The next receipt of the payment's account for `day` (the caller holds the account's lock)."""
    last = session.scalar(select(func.coalesce(func.max(Receipt.seq), 0)).where(
        Receipt.channel == payment.channel, Receipt.channel_account == payment.channel_account,
        Receipt.issued_on == day))
    seq = int(last) + 1
    receipt = Receipt(payment_id=payment.id, channel=payment.channel, channel_account=payment.channel_account,
                      issued_on=day, seq=seq, receipt_no=receipt_no(payment.channel, payment.channel_account, day, seq),
                      tender=tender)
    session.add(receipt)
    return receipt


def issue_missing(session: Session) -> int:
    """Receipts for imported kiosk and counter payments that have none (tender unknown: the payments
    file has no tender column). Set-based: one read, numbering in pandas, one bulk insert."""
    missing = bulk.read_frame(session, select(
        Payment.id.label("payment_id"), Payment.channel, Payment.channel_account,
        LedgerEntry.effective_on.label("issued_on"), Payment.paid_at,
    ).join(LedgerEntry, (LedgerEntry.payment_id == Payment.id) & (LedgerEntry.kind == EntryKind.payment))
     .where(Payment.channel.in_(IMPORTED), ~select(Receipt.id).where(Receipt.payment_id == Payment.id).exists()))
    if missing.empty:
        return 0
    # Queue behind the kiosks' own postings, which number receipts under the same rows' locks (a no-op on
    # SQLite, where the import already holds the database's write lock). Imported counter payments are
    # not queued behind a live drawer: the unique (account, day, seq) refuses a clash and the import is retried.
    kiosk_codes = missing.loc[missing["channel"] == Channel.kiosk.value, "channel_account"].unique().tolist()
    if kiosk_codes:
        session.execute(select(Kiosk.id).where(Kiosk.code.in_(kiosk_codes)).order_by(Kiosk.id).with_for_update())
    last = bulk.read_frame(session, select(
        Receipt.channel, Receipt.channel_account, Receipt.issued_on,
        func.max(Receipt.seq).label("last"),
    ).where(Receipt.channel.in_(IMPORTED)).group_by(Receipt.channel, Receipt.channel_account, Receipt.issued_on))
    keys = ["channel", "channel_account", "issued_on"]
    missing["issued_on"] = pd.to_datetime(missing["issued_on"])
    last["issued_on"] = pd.to_datetime(last["issued_on"])
    missing = missing.sort_values([*keys, "paid_at", "payment_id"]).merge(last, on=keys, how="left")
    missing["seq"] = pd.to_numeric(missing["last"]).fillna(0).astype("int64") + missing.groupby(keys).cumcount() + 1
    prefix = missing["channel"].map({c.value: p for c, p in PREFIX.items()})
    missing["receipt_no"] = (prefix + missing["channel_account"] + "-" + missing["issued_on"].dt.strftime("%Y%m%d")
                             + "-" + missing["seq"].astype(str).str.zfill(5))
    missing["tender"] = None
    columns = ["payment_id", "channel", "channel_account", "issued_on", "seq", "receipt_no", "tender"]
    return bulk.insert_frame(session, Receipt.__table__, missing[columns])
