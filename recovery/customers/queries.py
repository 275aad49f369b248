"""Reads about customers and their grids that other domains' pages build on."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from recovery.customers.models import Customer, Grid


def grid_codes(session: Session) -> list[str]:
    """Every grid's code, in order."""
    return list(session.scalars(select(Grid.code).order_by(Grid.code)))


def customer_by_code(session: Session, code: str) -> Customer | None:
    """The customer with this code (surrounding blanks ignored), or None."""
    return session.scalar(select(Customer).where(Customer.code == (code or "").strip()))
