"""Reads for the payment pages: debit batches, a customer's mandate, the agents."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from recovery.customers.models import Customer
from recovery.payments.direct_debit.models import DebitBatch, DebitMandate, MandateStatus
from recovery.payments.models import Agent

RECENT_BATCHES = 60


def recent_batches(session: Session) -> list[DebitBatch]:
    """The latest debit batches (at most RECENT_BATCHES), newest collection day first."""
    return list(session.scalars(select(DebitBatch).order_by(DebitBatch.created_for.desc()).limit(RECENT_BATCHES)))


def active_mandate(session: Session, customer: Customer) -> DebitMandate | None:
    """The customer's active direct-debit mandate, if any."""
    return session.scalar(select(DebitMandate).where(DebitMandate.customer_id == customer.id,
                                                     DebitMandate.status == MandateStatus.active))


def agents(session: Session) -> list[Agent]:
    """Every agent, by code."""
    return list(session.scalars(select(Agent).order_by(Agent.code)))
