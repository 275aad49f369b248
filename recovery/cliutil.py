"""What every command group shares: option callbacks, a customer by code, and the unit of work (`committed`)."""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

import click
from sqlalchemy import select

from recovery.extensions import db
from recovery.unitofwork import committed as committed  # each command's one unit of work

T = TypeVar("T")


def date_param(_ctx, _param, value: str | None) -> dt.date | None:
    """click callback: an ISO business date within the range the service computes with (recovery.bounds), or a
    usage error naming the value."""
    from recovery.bounds import parse_date

    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError as e:
        raise click.BadParameter(f"not a date (YYYY-MM-DD): {value!r}: expected {e}") from e


def yuan_param(_ctx, _param, value: str | None) -> int | None:
    """click callback: a yuan amount with at most two decimals, as integer fen."""
    from recovery.money import parse_yuan

    if value is None:
        return None
    try:
        return parse_yuan(value)
    except Exception as e:
        raise click.BadParameter(f"not a yuan amount with at most two decimals: {value!r}") from e


def customer_by_code(code: str):
    """The customer with this code, else NotFound (the CLI prints it as its one-line error)."""
    from recovery.customers.models import Customer
    from recovery.errors import NotFound

    found = db.session.scalar(select(Customer).where(Customer.code == code))
    if found is None:
        raise NotFound(f"no customer {code}")
    return found

