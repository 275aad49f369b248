"""Supervisors' overrides of a computed grade: a grade, a reason, an expiry; audited.

An override wins over the computed grade from the day it is set through its expiry date. Setting a
new one supersedes (revokes) the customer's override in force; the computed rating goes on being
recomputed underneath, and is what the customer has again the day after the override expires.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from recovery.audit import service as audit
from recovery.auth.permissions import Action, may
from recovery.credit.models import CreditOverride
from recovery.credit.rating.ratings import rating_policy
from recovery.customers.models import Customer
from recovery.errors import Forbidden, Invalid, NotFound
from recovery.timeutil import now, today


def _check_role(role: str) -> None:
    if not may(role, Action.override_credit):
        raise Forbidden("only a supervisor may override a credit rating")


def in_force(session: Session, customer_id: int, day: dt.date | None = None) -> CreditOverride | None:
    """The customer's override in force on `day` (today by default), if any."""
    day = day or today()
    return session.scalar(select(CreditOverride).where(
        CreditOverride.customer_id == customer_id, CreditOverride.starts_on <= day, CreditOverride.expires_on >= day,
        CreditOverride.revoked_at.is_(None)).order_by(CreditOverride.id.desc()).limit(1))


def set_override(session: Session, customer: Customer, *, grade: str, reason: str, expires_on: dt.date,
                 set_by: str, role: str) -> CreditOverride:
    """Override the customer's grade until `expires_on` (inclusive); supersedes an override in force."""
    _check_role(role)
    p = rating_policy()
    if grade not in p.grades:
        raise Invalid(f"grade must be one of {', '.join(p.grades)}, not {grade!r}")
    if not reason or not reason.strip():
        raise Invalid("a reason is required to override a rating")
    day = today()
    if expires_on < day:
        raise Invalid(f"expires_on {expires_on.isoformat()} is in the past")
    if expires_on > day + dt.timedelta(days=p.override_max_days):
        raise Invalid(f"an override may last at most {p.override_max_days} days (until "
                      f"{(day + dt.timedelta(days=p.override_max_days)).isoformat()})")
    previous = in_force(session, customer.id, day)
    if previous is not None:
        previous.revoked_at, previous.revoked_by, previous.revoke_reason = now(), set_by, "superseded"
    new = CreditOverride(customer_id=customer.id, grade=grade, reason=reason.strip()[:500], starts_on=day,
                         expires_on=expires_on, set_by=set_by, set_at=now())
    session.add(new)
    session.flush()  # the id goes into the audit entry
    audit.record(session, "credit.override", "customer", customer.code, actor=set_by, override_id=new.id,
                 grade=grade, reason=new.reason, expires_on=expires_on.isoformat(),
                 superseded=previous.id if previous is not None else None)
    return new


def revoke_override(session: Session, override_id: int, *, reason: str, revoked_by: str, role: str) -> CreditOverride:
    """End an override before its expiry."""
    _check_role(role)
    found = session.get(CreditOverride, override_id)
    if found is None:
        raise NotFound(f"no override #{override_id}")
    if found.revoked_at is not None:
        raise Invalid(f"override #{override_id} was already revoked by {found.revoked_by}")
    if not reason or not reason.strip():
        raise Invalid("a reason is required to revoke an override")
    found.revoked_at, found.revoked_by, found.revoke_reason = now(), revoked_by, reason.strip()[:500]
    code = session.scalar(select(Customer.code).where(Customer.id == found.customer_id))
    audit.record(session, "credit.override_revoked", "customer", code, actor=revoked_by, override_id=found.id,
                 reason=found.revoke_reason)
    return found


def overrides_of(session: Session, customer_id: int) -> list[CreditOverride]:
    """Every override of one customer, newest first."""
    return list(session.scalars(select(CreditOverride).where(CreditOverride.customer_id == customer_id)
                                .order_by(CreditOverride.id.desc())))


def active(session: Session) -> list[tuple[CreditOverride, str, str]]:
    """Overrides in force today with the customer's code and name, soonest expiry first."""
    day = today()
    rows = session.execute(select(CreditOverride, Customer.code, Customer.name)
                           .join(Customer, Customer.id == CreditOverride.customer_id)
                           .where(CreditOverride.starts_on <= day, CreditOverride.expires_on >= day,
                                  CreditOverride.revoked_at.is_(None))
                           .order_by(CreditOverride.expires_on, CreditOverride.id)).all()
    return [tuple(r) for r in rows]
