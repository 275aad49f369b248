"""Tiny worklists: customers with bills dated relative to today, officers, scores and promises."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from recovery.auth.service import create_user
from recovery.collections.models import Promise
from recovery.customers.models import Customer
from recovery.extensions import db
from recovery.risk.models import RiskScore
from recovery.timeutil import today
from tests.factories import bill, customer, load, payment
from tests.web.data import PASSWORD

__all__ = ["PASSWORD", "bill", "customer", "day", "ids", "load", "monthly_bills", "officers", "payment", "promise",
           "score", "sign_in"]


def day(offset: int = 0) -> dt.date:
    return today() + dt.timedelta(days=offset)


def iso(offset: int) -> str:
    return day(offset).isoformat()


def monthly_bills(code: str, amounts_kwh: list[tuple[str, str]], *, last_issued: int = -1) -> list[dict]:
    """One bill a month for the customer, the last one issued `last_issued` days from today, oldest first;
    each due 15 days after it is issued."""
    n = len(amounts_kwh)
    rows = []
    for i, (amount, kwh) in enumerate(amounts_kwh):
        issued = last_issued - 30 * (n - 1 - i)
        rows.append(bill(f"B-{code}-{i}", code, amount, day(issued).strftime("%Y-%m"), iso(issued), iso(issued + 15),
                         kwh=kwh))
    return rows


def ids() -> dict[str, int]:
    return dict(db.session.execute(select(Customer.code, Customer.id)).all())


def officers(*specs: tuple[str, str, list[str]]) -> None:
    """Users (username, role, grids)."""
    for username, role, grids in specs:
        create_user(db.session, username, role=role, password=PASSWORD, grids=grids)
    db.session.flush()


def score(customer_id: int, pd: float, *, as_of: dt.date | None = None) -> None:
    db.session.add(RiskScore(customer_id=customer_id, as_of=as_of or today(), model_version="v1", pd=pd,
                             exposure_fen=0, expected_loss_fen=0, rating="B", reasons_zh=[], reasons_en=[]))


def promise(customer_id: int, amount_fen: int, on: dt.date) -> Promise:
    p = Promise(customer_id=customer_id, amount_fen=amount_fen, promised_on=on, made_on=on - dt.timedelta(days=3),
                recorded_by="li")
    db.session.add(p)
    db.session.flush()
    return p


def sign_in(client, username: str):
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
