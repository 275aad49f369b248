"""Counter payments (坐收): cashiers at a service hall, each with a drawer per business day.

A cashier opens the day's drawer with a float, takes payments (cash, or a bank card at the POS),
and closes it with the cash counted. Cash at the counter is in the utility's hands, so it is
settled at once; a bank-card payment stays provisional until the acquirer settles it.
"""

from __future__ import annotations

import datetime as dt
import secrets

import pandas as pd
from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session

from recovery.audit import service as audit
from recovery.auth.models import Role, User
from recovery.customers.models import Customer
from recovery.errors import Conflict, Invalid, NotFound
from recovery.payments import posting, receipts
from recovery.payments.models import (
    CashierDrawer,
    Channel,
    DrawerStatus,
    Payment,
    PaymentState,
    Receipt,
    Tender,
)
from recovery.timeutil import now, today


def _cashier(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username}", code="user_not_found")
    if user.role != Role.cashier or not user.active:
        raise Invalid(f"{username} is not an active cashier", code="not_a_cashier")
    return user


def drawer(session: Session, username: str, day: dt.date | None = None) -> CashierDrawer:
    """The cashier's drawer for the day (default today), or NotFound."""
    day = day or today()
    row = session.scalar(select(CashierDrawer).where(CashierDrawer.cashier == username,
                                                     CashierDrawer.business_day == day))
    if row is None:
        raise NotFound(f"{username} has no drawer for {day.isoformat()}; open it first", code="drawer_not_open")
    return row


def open_drawer(session: Session, username: str, *, opening_float_fen: int, opened_by: str) -> CashierDrawer:
    """Open today's drawer of a cashier with its float (once a day)."""
    user = _cashier(session, username)
    if opening_float_fen < 0:
        raise Invalid("an opening float cannot be negative")
    day = today()
    if session.scalar(select(CashierDrawer.id).where(CashierDrawer.user_id == user.id,
                                                     CashierDrawer.business_day == day)):
        raise Conflict(f"{username}'s drawer for {day.isoformat()} is already open or closed", code="drawer_exists")
    row = CashierDrawer(user_id=user.id, cashier=username, business_day=day, status=DrawerStatus.open,
                        opening_float_fen=opening_float_fen, opened_at=now(), opened_by=opened_by, payments_count=0)
    session.add(row)
    audit.record(session, "counter.open", "drawer", f"{username}/{day.isoformat()}",
                 opening_float_fen=opening_float_fen)
    return row


def close_drawer(session: Session, username: str, *, counted_fen: int, closed_by: str) -> CashierDrawer:
    """Close today's drawer with the cash counted in it (float included); no payments after that."""
    if counted_fen < 0:
        raise Invalid("a counted amount cannot be negative")
    row = drawer(session, username)
    done = session.execute(
        update(CashierDrawer).where(CashierDrawer.id == row.id, CashierDrawer.status == DrawerStatus.open)
        .values(status=DrawerStatus.closed, counted_fen=counted_fen, closed_at=now(), closed_by=closed_by)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not done:
        raise Conflict(f"{username}'s drawer for {row.business_day.isoformat()} is already closed",
                       code="drawer_closed")
    session.refresh(row)
    audit.record(session, "counter.close", "drawer", f"{username}/{row.business_day.isoformat()}",
                 counted_fen=counted_fen)
    return row


def post_counter_payment(session: Session, username: str, *, customer_code: str, amount_fen: int, tender: str,
                         channel_ref: str | None = None) -> tuple[Payment, Receipt]:
    """Take a payment at the counter into the cashier's open drawer; the receipt number is its reference
    unless the counter system gave one."""
    if tender not in Tender.__members__:
        raise Invalid(f"tender must be cash or card, not {tender!r}", code="bad_tender")
    row = drawer(session, username)
    drawer_id, day = row.id, row.business_day
    stamp = now()

    def take() -> None:
        # The first write: refuses a closed drawer, and queues the cashier's postings so receipt numbers
        # run without gaps.
        done = session.execute(
            update(CashierDrawer).where(CashierDrawer.id == drawer_id, CashierDrawer.status == DrawerStatus.open)
            .values(payments_count=CashierDrawer.payments_count + 1).execution_options(synchronize_session=False)
        ).rowcount
        if not done:
            raise Conflict(f"{username}'s drawer is closed", code="drawer_closed")

    # The counter system's own reference if it sent one (a retried form finds its payment), else a fresh one.
    ref = channel_ref or "CT" + secrets.token_hex(10).upper()
    state = PaymentState.settled if tender == Tender.cash else PaymentState.provisional
    payment = posting.post_payment(session, channel=Channel.counter, channel_account=username,
                                   customer_code=customer_code, amount_fen=amount_fen, channel_ref=ref, paid_at=stamp,
                                   state=state, guard=take)
    receipt = receipts.issue(session, payment, day=day, tender=tender)
    audit.record(session, "counter.payment", "payment", payment.code, cashier=username, amount_fen=amount_fen,
                 tender=tender, receipt_no=receipt.receipt_no)
    return payment, receipt


DRAWERS_DAY_COLUMNS = ["cashier", "status", "opening_float_fen", "cash_count", "cash_fen", "card_count", "card_fen",
                       "expected_cash_fen", "counted_fen", "difference_fen", "opened_at", "opened_by", "closed_at",
                       "closed_by"]


def drawers_day(session: Session, day: dt.date) -> pd.DataFrame:
    """Per cashier for one business day: float, cash and card takings, the cash expected in the drawer
    (float + cash), what was counted at close, the difference, and who opened and closed it when."""

    def part(tender, what):
        return func.coalesce(func.sum(case((Receipt.tender == tender, what), else_=0)), 0)

    takings = (
        select(Receipt.channel_account.label("cashier"),
               part(Tender.cash, 1).label("cash_count"), part(Tender.cash, Payment.amount_fen).label("cash_fen"),
               part(Tender.card, 1).label("card_count"), part(Tender.card, Payment.amount_fen).label("card_fen"))
        .join(Payment, and_(Payment.id == Receipt.payment_id, Payment.state != PaymentState.reversed))
        .where(Receipt.channel == Channel.counter, Receipt.issued_on == day)
        .group_by(Receipt.channel_account)
        .subquery()
    )
    rows = session.execute(
        select(CashierDrawer.cashier, CashierDrawer.status, CashierDrawer.opening_float_fen,
               func.coalesce(takings.c.cash_count, 0), func.coalesce(takings.c.cash_fen, 0),
               func.coalesce(takings.c.card_count, 0), func.coalesce(takings.c.card_fen, 0),
               CashierDrawer.counted_fen, CashierDrawer.opened_at, CashierDrawer.opened_by, CashierDrawer.closed_at,
               CashierDrawer.closed_by)
        .join(takings, takings.c.cashier == CashierDrawer.cashier, isouter=True)
        .where(CashierDrawer.business_day == day).order_by(CashierDrawer.cashier)
    ).all()
    frame = pd.DataFrame(rows, columns=["cashier", "status", "opening_float_fen", "cash_count", "cash_fen",
                                        "card_count", "card_fen", "counted_fen", "opened_at", "opened_by",
                                        "closed_at", "closed_by"])
    frame["counted_fen"] = frame["counted_fen"].astype("Int64")
    frame["expected_cash_fen"] = (frame["opening_float_fen"] + frame["cash_fen"]).astype("int64")
    frame["difference_fen"] = frame["counted_fen"] - frame["expected_cash_fen"]
    return frame[DRAWERS_DAY_COLUMNS]


def receipts_of(session: Session, username: str, day: dt.date) -> list[dict]:
    """The cashier's receipts of the day, newest first (for the counter page)."""
    rows = session.execute(
        select(Receipt.receipt_no, Receipt.tender, Payment.amount_fen, Payment.paid_at, Payment.state, Customer.code,
               Customer.name)
        .join(Payment, Payment.id == Receipt.payment_id).join(Customer, Customer.id == Payment.customer_id)
        .where(Receipt.channel == Channel.counter, Receipt.channel_account == username, Receipt.issued_on == day)
        .order_by(Receipt.seq.desc())
    ).all()
    return [r._asdict() for r in rows]
