"""Visits and calls (上门催费, 电话催费) as the grid practice logs them: who, when, outcome, next step."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from recovery.audit import service as audit
from recovery.collections.models import ContactKind, Visit
from recovery.customers.models import Customer
from recovery.errors import Invalid
from recovery.timeutil import business_date, now

OUTCOMES = ("contacted", "promised", "paid", "not_home", "refused", "disputed", "wrong_number")


def record_visit(session: Session, customer: Customer, officer: str, kind: str, outcome: str, note: str | None = None,
                 next_step: str | None = None, next_on: dt.date | None = None,
                 at: dt.datetime | None = None) -> Visit:
    """Log one visit or call; audited. `at` defaults to now and may not lie in the future."""
    if kind not in ContactKind.__members__:
        raise Invalid(f"kind must be one of {', '.join(ContactKind)}", code="bad_kind")
    if outcome not in OUTCOMES:
        raise Invalid(f"outcome must be one of {', '.join(OUTCOMES)}", code="bad_outcome")
    at = at or now()
    if at.tzinfo is None:
        raise Invalid("the time of the visit needs a time zone", code="naive_time")
    if at > now() + dt.timedelta(minutes=5):
        raise Invalid("a visit cannot be logged for a time still to come", code="visit_in_future")
    if next_on is not None and next_on < business_date(at):
        raise Invalid("the next step's date lies before the visit", code="bad_next_on")
    visit = Visit(customer_id=customer.id, kind=kind, officer=officer, visited_at=at, outcome=outcome,
                  note=(note or "").strip() or None, next_step=(next_step or "").strip() or None, next_on=next_on)
    session.add(visit)
    session.flush()  # the audit entry and a promise made on the visit need its id
    audit.record(session, "visit.record", "customer", customer.code, actor=officer, visit=visit.id, kind=kind,
                 outcome=outcome)
    return visit


def visits_of(session: Session, customer: Customer, limit: int = 50) -> list[Visit]:
    """The customer's latest visits and calls, newest first."""
    return list(session.scalars(select(Visit).where(Visit.customer_id == customer.id)
                                .order_by(Visit.visited_at.desc(), Visit.id.desc()).limit(limit)))
