"""Builders for the security tests: customers with monthly bills relative to today, grades, policy."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from recovery import policy
from recovery.auth.service import create_user
from recovery.credit.models import CreditRating
from recovery.credit.security.deposits import months_before
from recovery.customers.models import Customer
from recovery.extensions import db
from recovery.timeutil import today
from tests.factories import bill, customer, load

PASSWORD = "correct horse battery"
USCC = "91110000600037341L"  # a unified social credit code with a correct check character
RESIDENT_ID = "11010519491231002X"


def monthly_bills(code: str, amounts: list[str], *, last_issued: dt.date | None = None,
                  due_days: int = 20) -> list[dict]:
    """One bill per month for `code` issued on the 3rd, the last on `last_issued` (default: the 3rd of
    last month); oldest first."""
    last_issued = last_issued or months_before(today(), 1).replace(day=3)
    out = []
    n = len(amounts)
    for i, amount in enumerate(amounts):
        issued = months_before(last_issued, n - 1 - i)
        out.append(bill(f"{code}-{issued:%Y%m}", code, amount, f"{issued:%Y-%m}", issued.isoformat(),
                        (issued + dt.timedelta(days=due_days)).isoformat()))
    return out


def load_customers(recovery, tmp_path: Path, *rows: dict, bills=(), payments=()) -> None:
    """Import customers (factory dicts) with their bills and payments through the CLI."""
    load(recovery, tmp_path, customers=list(rows), bills=list(bills), payments=list(payments))


def one_customer(recovery, tmp_path: Path, code: str = "C1", *, amounts=(), customer_class: str = "commercial",
                 last_issued: dt.date | None = None, **kw) -> Customer:
    """A customer with monthly bills of the given amounts (the last one issued a month ago by default)."""
    load_customers(recovery, tmp_path, customer(code, "G1", customer_class=customer_class, **kw),
                   bills=monthly_bills(code, list(amounts), last_issued=last_issued) if amounts else ())
    return cust(code)


def cust(code: str) -> Customer:
    return db.session.scalar(select(Customer).where(Customer.code == code))


def set_policy(app, sections: dict) -> None:
    """Put a policy in force for the rest of the test, validated as at start-up."""
    app.config["POLICY"] = sections
    app.config["POLICY_IN_FORCE"] = policy.validate_all(sections)


def rate(customer_id: int, grade: str, *, cash_only: bool = False, on: dt.date | None = None) -> None:
    """Store a rating for the customer (as credit.ratings would), in force from `on` (default yesterday)."""
    db.session.add(CreditRating(customer_id=customer_id, rated_on=on or today() - dt.timedelta(days=1), points=50,
                                points_grade=grade, grade=grade, cash_only=cash_only, upgrade_blocked=False,
                                reasons={}))
    db.session.flush()


def staff() -> None:
    """An officer of G1 and two supervisors."""
    create_user(db.session, "li", role="officer", password=PASSWORD, display_name="李明", grids=["G1"])
    create_user(db.session, "zhao", role="supervisor", password=PASSWORD, display_name="赵主任")
    create_user(db.session, "qian", role="supervisor", password=PASSWORD, display_name="钱主任")
    db.session.commit()
