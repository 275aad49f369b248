"""Posting one payment from a channel: ledger entry, allocation, and the answer the channel gets."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recovery.billing.models import Bill, EntryKind, LedgerEntry
from recovery.customers.models import Customer
from recovery.errors import Conflict, Invalid, NotFound
from recovery.money import format_yuan
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
    if paid_at > now() + FUTURE_TOLERANCE:
        raise Invalid("paid_at lies in the future", code="paid_at_in_future")
    customer = session.scalar(select(Customer).where(Customer.code == customer_code))
    if customer is None:
        raise NotFound(f"no customer {customer_code}", code="customer_not_found")
    existing = session.scalar(select(Payment).where(
        Payment.channel == Channel.agent, Payment.channel_account == agent.code, Payment.channel_ref == channel_ref))
    if existing is not None:
        raise Conflict(f"channel_ref {channel_ref} is already posted as payment {existing.code}",
                       code="channel_ref_already_posted")
    # The limit check is the transaction's first write: from here on this agent's postings queue.
    agents.take(session, agent, amount_fen)
    payment = Payment(code=new_payment_code(), customer_id=customer.id, channel=Channel.agent,
                      channel_account=agent.code, channel_ref=channel_ref, amount_fen=amount_fen, paid_at=paid_at,
                      state=PaymentState.provisional)
    session.add(payment)
    session.flush()  # the ledger entry and the allocation need payment.id
    session.add(LedgerEntry(customer_id=customer.id, kind=EntryKind.payment, amount_fen=-amount_fen,
                            effective_on=business_date(paid_at), payment_id=payment.id))
    session.flush()  # re-allocation reads the new payment through SQL
    reallocate(session, [customer.id])
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
