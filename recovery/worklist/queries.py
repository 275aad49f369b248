"""Reads for the worklist pages: a customer's open work items."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from recovery.collections.models import WorkItem, WorkStatus
from recovery.customers.models import Customer


def open_items_due(session: Session, customer: Customer, day: dt.date) -> list[WorkItem]:
    """The customer's open work items due by `day`, highest priority first."""
    return list(session.scalars(select(WorkItem).where(
        WorkItem.customer_id == customer.id, WorkItem.status == WorkStatus.open, WorkItem.due_on <= day)
        .order_by(WorkItem.priority_fen.desc(), WorkItem.id)))
