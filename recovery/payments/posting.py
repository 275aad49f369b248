"""Posting one payment from a channel: ledger entry, allocation, and the answer the channel gets."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recovery.billing.models import Bill, EntryKind, LedgerEntry
from recovery.customers.models import Customer
from recovery.errors import Conflict, Invalid, NotFound
from recovery.money import format_yuan
from recovery.ops import metrics
from recovery.payments import agents
from recovery.payments.models import Agent, Allocation, Channel, Payment, PaymentState
from recovery.payments.service import reallocate
from recovery.timeutil import business_date, now

FUTURE_TOLERANCE = dt.timedelta(minutes=5)


def new_payment_code() -> str:
    return "P" + secrets.token_hex(12).upper()


def post_agent_payment(session: Session, agent: Agent, *, customer_code: str, amount_fen: int, channel_ref: str,
                       paid_at: dt.datetime) -> Payment:
    """Post an agent's payment: provisional until the agent's daily statement settles it."""
    # The limit check is the transaction's first write: from here on this agent's postings queue.
    return post_payment(session, channel=Channel.agent, channel_account=agent.code, customer_code=customer_code,
                        amount_fen=amount_fen, channel_ref=channel_ref, paid_at=paid_at,
                        state=PaymentState.provisional, first_write=lambda: agents.take(session, agent, amount_fen))


def post_payment(session: Session, *, channel: Channel, channel_account: str, customer_code: str, amount_fen: int,
                 channel_ref: str, paid_at: dt.datetime, state: PaymentState,
                 first_write: Callable[[], None] | None = None, note: str | None = None) -> Payment:
    """Post one payment from any channel: checks, ledger entry, oldest-bill-first allocation.

    `first_write` runs after the checks and before anything is stored: the channel's guard (a limit,
    a card's state, a drawer's row) that serialises its postings and may refuse this one.
    """
    if paid_at > now() + FUTURE_TOLERANCE:
        raise Invalid("paid_at lies in the future", code="paid_at_in_future")
    if amount_fen <= 0:
        raise Invalid("a payment must be greater than 0", code="bad_amount")
    customer = session.scalar(select(Customer).where(Customer.code == customer_code))
    if customer is None:
        raise NotFound(f"no customer {customer_code}", code="customer_not_found")
    existing = session.scalar(select(Payment).where(
        Payment.channel == channel, Payment.channel_account == channel_account, Payment.channel_ref == channel_ref))
    if existing is not None:
        raise Conflict(f"channel_ref {channel_ref} is already posted as payment {existing.code}",
                       code="channel_ref_already_posted")
    if first_write is not None:
        first_write()
    # Lock the customer before inserting: the payment's foreign key takes a share lock on the customer's row,
    # and two postings for one customer each holding it would deadlock at re-allocation's FOR UPDATE.
    session.execute(select(Customer.id).where(Customer.id == customer.id).with_for_update())
    payment = Payment(code=new_payment_code(), customer_id=customer.id, channel=channel,
                      channel_account=channel_account, channel_ref=channel_ref, amount_fen=amount_fen, paid_at=paid_at,
                      state=state)
    session.add(payment)
    session.flush()  # the ledger entry and the allocation need payment.id
    session.add(LedgerEntry(customer_id=customer.id, kind=EntryKind.payment, amount_fen=-amount_fen,
                            effective_on=business_date(paid_at), payment_id=payment.id, note=note))
    session.flush()  # re-allocation reads the new payment through SQL
    reallocate(session, [customer.id])
    metrics.payment_posted(session, channel, amount_fen)  # counted when the caller commits
    return payment


def payment_answer(session: Session, payment: Payment) -> dict:
    """The contract's answer for a posted payment: allocations and the customer's balance after it."""
    allocations = session.execute(
        select(Bill.code, Allocation.amount_fen).join(Bill, Bill.id == Allocation.bill_id)
        .where(Allocation.payment_id == payment.id).order_by(Bill.due_on, Bill.id)
    ).all()
    balance = session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
                             .where(LedgerEntry.customer_id == payment.customer_id))
    customer_code = session.scalar(select(Customer.code).where(Customer.id == payment.customer_id))
    return {
        "payment_id": payment.code,
        "customer_id": customer_code,
        "amount": format_yuan(payment.amount_fen),
        "channel_ref": payment.channel_ref,
        "paid_at": payment.paid_at.isoformat(),
        "status": payment.state,
        "allocations": [{"bill_id": code, "amount": format_yuan(amount)} for code, amount in allocations],
        "balance": format_yuan(int(balance)),
    }


def agent_payment(session: Session, agent: Agent, code: str) -> Payment:
    """One of the agent's own payments; another agent's answers NotFound, as if it did not exist."""
    payment = session.scalar(select(Payment).where(
        Payment.code == code, Payment.channel == Channel.agent, Payment.channel_account == agent.code))
    if payment is None:
        raise NotFound(f"no payment {code} of agent {agent.code}", code="payment_not_found")
    return payment
