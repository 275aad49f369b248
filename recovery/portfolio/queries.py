"""The portfolio's reads for pages: the customer page's one overview (CustomerOverview), everything the page
shows of a customer, read before it renders.

Its own figures (position, score, credit standing, bills, penalties, payments, disconnection orders, the
ledger) and each domain's part of the page (recovery.sections: security, collection work, the worklist's
items, disputes, big-customer status, the building, direct debit, write-offs), so that the page's templates
read the database nowhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from recovery import sections
from recovery.collections import queries as collection_queries
from recovery.credit import queries as credit_queries
from recovery.customers.models import Customer
from recovery.portfolio import service

CREDIT_CHANGES = 5  # the latest rating changes shown; the credit page has the whole history and its chart


@dataclass
class CustomerOverview:
    """What the customer page shows of `customer` as of `as_of`; `parts`: each domain's part, by name."""

    customer: Customer
    as_of: dt.date
    position: dict
    score: dict | None
    credit: dict
    bills: list[dict]
    penalties: list[dict]
    payments: list[dict]
    orders: list
    ledger: list[dict]
    parts: dict[str, Any] = field(default_factory=dict)

    @property
    def credit_changes(self) -> list:
        """The latest changes of the rating, newest first."""
        return self.credit["history"][::-1][:CREDIT_CHANGES]

    @classmethod
    def read(cls, session: Session, customer: Customer, as_of: dt.date) -> CustomerOverview:
        """Read everything, the domains' parts last (they may use the page's own figures, e.g. its credit)."""
        overview = cls(
            customer=customer, as_of=as_of, position=service.position(session, customer, as_of),
            score=service.latest_score(session, customer), credit=credit_queries.rating_of(session, customer),
            bills=service.bills(session, customer), penalties=service.penalties(session, customer),
            payments=service.payments(session, customer),
            orders=collection_queries.disconnection_orders(session, customer),
            # Newest first like the bills and payments: the top row's running balance is today's.
            ledger=service.ledger(session, customer)[::-1],
        )
        overview.parts = sections.gather("customer", overview)
        return overview
