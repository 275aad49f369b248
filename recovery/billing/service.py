"""Account figures built on the ledger: stats and the ageing report."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recovery import bulk
from recovery.billing.models import Bill
from recovery.customers.models import Customer
from recovery.events.models import Event
from recovery.ledger.models import LedgerEntry
from recovery.ledger.positions import classify, positions
from recovery.money import format_yuan, format_yuan_array
from recovery.payments.models import Payment

AGEING_COLUMNS = ["customer_id", "balance", "overdue", "oldest_due_on", "bucket"]


def stats(session: Session) -> dict:
    """Counts and the total outstanding (what customers owe; credits are not netted against it)."""
    balances = select(func.sum(LedgerEntry.amount_fen).label("b")).group_by(LedgerEntry.customer_id).subquery()
    outstanding, credit = session.execute(select(
        func.coalesce(func.sum(balances.c.b).filter(balances.c.b > 0), 0),
        func.coalesce(func.sum(balances.c.b).filter(balances.c.b < 0), 0),
    )).one()
    count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
    return {
        "customers": count(Customer),
        "bills": count(Bill),
        "payments": count(Payment),
        "events": count(Event),
        "outstanding": format_yuan(int(outstanding)),
        "credit": format_yuan(-int(credit)),
    }


def ageing(session: Session, as_of: dt.date) -> pd.DataFrame:
    """Every customer's position on `as_of`, classified into ageing buckets."""
    pos = positions(as_of).subquery()
    frame = bulk.read_frame(session, select(Customer.code, pos).join(Customer, Customer.id == pos.c.customer_id))
    return classify(frame, as_of).sort_values("code", ignore_index=True)


def ageing_csv(session: Session, as_of: dt.date) -> str:
    """The contract's ageing CSV for every customer."""
    frame = ageing(session, as_of)
    out = pd.DataFrame({
        "customer_id": frame["code"],
        "balance": format_yuan_array(frame["balance_fen"]),
        "overdue": format_yuan_array(frame["overdue_fen"]),
        "oldest_due_on": pd.to_datetime(frame["oldest_due_on"]).dt.strftime("%Y-%m-%d").fillna(""),
        "bucket": frame["bucket"],
    }, columns=AGEING_COLUMNS)
    buf = io.StringIO()
    out.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()
