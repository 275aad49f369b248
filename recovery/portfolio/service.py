"""Reading customers and their accounts, within what the user may see."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session, aliased

from recovery.auth.models import User
from recovery.auth.service import get_customer as get_customer  # the portfolio finds customers as auth lets it
from recovery.auth.service import visible_customers
from recovery.billing.models import Bill
from recovery.credit.models import CreditOverride, CreditRating
from recovery.credit.rating.ratings import rating_policy
from recovery.customers.models import Customer, Grid
from recovery.ledger.models import Allocation, EntryKind, LedgerEntry, PenaltyAllocation
from recovery.ledger.positions import classify, positions
from recovery.payments.models import Payment
from recovery.risk.models import RiskScore, in_latest_run, latest_run_keys

SORTS = {
    "customer_id": lambda p, scores: Customer.code,
    "name": lambda p, scores: Customer.name,
    "grid": lambda p, scores: Grid.code,
    "balance": lambda p, scores: p.c.balance_fen,
    # Overdue is this floored at zero; the order is the same.
    "overdue": lambda p, scores: p.c.balance_fen - p.c.not_due_fen,
    # Days overdue grow as the oldest unpaid due date recedes.
    "days_overdue": lambda p, scores: p.c.oldest_due_on,
    "pd": lambda p, scores: scores.c.pd,
    "expected_loss": lambda p, scores: scores.c.expected_loss_fen,
}


# Overdue-age filter: the days since the oldest unpaid due date, as (first day, last day); None: no end.
AGE_BUCKETS = {"0-30": (1, 30), "31-90": (31, 90), "91-180": (91, 180), "180+": (181, None)}
FILTERS = ("grid", "q", "min_pd", "min_expected_loss_fen", "min_overdue_fen", "age", "customer_class", "grade")
# The filters on a customer's figures (position, score), applied after the positions are computed.
ROW_FILTERS = ("min_pd", "min_expected_loss_fen", "min_overdue_fen", "age")


@dataclass(frozen=True)
class Page:
    page: int
    page_size: int
    total: int
    items: list[dict]


def grade_in_force(as_of: dt.date):
    """The customer's credit grade on `as_of` as a correlated SQL expression: an override in force, else the
    latest computed rating, else the policy's starting grade (as the credit page shows it)."""
    override = (
        select(CreditOverride.grade)
        .where(CreditOverride.customer_id == Customer.id, CreditOverride.starts_on <= as_of,
               CreditOverride.expires_on >= as_of, CreditOverride.revoked_at.is_(None))
        .order_by(CreditOverride.id.desc()).limit(1).correlate(Customer).scalar_subquery()
    )
    # One index lookup per customer on (customer_id, rated_on): ratings are stored only when they change.
    computed = (
        select(CreditRating.grade)
        .where(CreditRating.customer_id == Customer.id, CreditRating.rated_on <= as_of)
        .order_by(CreditRating.rated_on.desc()).limit(1).correlate(Customer).scalar_subquery()
    )
    return func.coalesce(override, computed, literal(rating_policy().starting_grade))


def _ids(user: User, as_of: dt.date, *, grid: str | None = None, q: str | None = None,
         customer_class: str | None = None, grade: str | None = None, **_figures):
    """Ids of the user's customers that pass the filters on the customer itself (not on its figures)."""
    ids = visible_customers(user)
    if grid:
        ids = ids.where(Customer.grid_id.in_(select(Grid.id).where(Grid.code == grid)))
    if q:
        ids = ids.where((Customer.code == q) | Customer.name.contains(q, autoescape=True))
    if customer_class:
        ids = ids.where(Customer.customer_class == customer_class)
    if grade:
        ids = ids.where(grade_in_force(as_of) == grade)
    return ids


def _listing(user: User, as_of: dt.date, *, sort: str = "overdue", order: str = "desc", grid: str | None = None,
             q: str | None = None, min_pd: float | None = None, min_expected_loss_fen: int | None = None,
             min_overdue_fen: int | None = None, age: str | None = None, customer_class: str | None = None,
             grade: str | None = None, every_figure: bool = False):
    """The filtered, sorted select behind the risk list and its CSV export (no limit). Without `every_figure`,
    oldest_due_on is computed only where the order or a filter needs it (the page fills in its own rows)."""
    ids = _ids(user, as_of, grid=grid, q=q, customer_class=customer_class, grade=grade)
    # Computed once for the user's customers, then sorted and cut to a page: without MATERIALIZED,
    # SQLite re-evaluates the aggregate per outer row (18 s instead of 1.4 s on a million customers).
    # Overdue age: the oldest unpaid due date is on or before D exactly when more is unpaid than was billed
    # due after D (payments settle the oldest bills first), so the filter needs only sums.
    first, last = AGE_BUCKETS[age] if age else (None, None)
    cutoffs = () if not age else (as_of - dt.timedelta(days=first),) if last is None else \
        (as_of - dt.timedelta(days=first), as_of - dt.timedelta(days=last + 1))
    pos = positions(as_of, ids, oldest=every_figure or sort == "days_overdue", due_after=cutoffs).cte(
        "pos").prefix_with("MATERIALIZED")
    # The latest run's score of each listed customer, by the (customer_id, as_of) index: a join to a subquery
    # of the run's rows made SQLite materialise all of them (a million) for every page.
    scores = RiskScore.__table__.alias("scores")
    run_as_of, run_version = latest_run_keys()
    key = SORTS[sort](pos, scores)
    # Days overdue sort on the due date, which runs the other way; nulls (nothing overdue) always last.
    descending = (order == "desc") != (sort == "days_overdue")
    ordered = key.desc().nulls_last() if descending else key.asc().nulls_last()
    query = (
        select(Customer.code, Customer.name, Customer.customer_class, Grid.code.label("grid"), Customer.id_number,
               Customer.registered_capital_fen, Customer.opened_on, Customer.phone,
               pos.c.balance_fen, pos.c.not_due_fen, pos.c.oldest_due_on,
               scores.c.pd, scores.c.expected_loss_fen, scores.c.rating, grade_in_force(as_of).label("grade"))
        .join(pos, pos.c.customer_id == Customer.id)
        .join(scores, (scores.c.customer_id == Customer.id) & (scores.c.as_of == run_as_of)
              & (scores.c.model_version == run_version), isouter=True)
        .join(Grid, Grid.id == Customer.grid_id)
        .order_by(ordered, Customer.code)
    )
    overdue = pos.c.balance_fen - pos.c.not_due_fen
    if min_pd is not None or min_expected_loss_fen is not None:
        # As a correlated EXISTS on the (customer_id, as_of) index: a WHERE on the joined score turns the outer
        # join inner, and SQLite then drives the query from the run's million scores (8 s instead of 1).
        score = aliased(RiskScore, name="wanted")
        wanted = select(score.id).where(score.customer_id == Customer.id, score.as_of == run_as_of,
                                        score.model_version == run_version)
        if min_pd is not None:
            wanted = wanted.where(score.pd >= min_pd)
        if min_expected_loss_fen is not None:
            wanted = wanted.where(score.expected_loss_fen >= min_expected_loss_fen)
        query = query.where(wanted.correlate(Customer).exists())
    if min_overdue_fen:  # overdue is floored at zero: a minimum of nothing is no filter
        query = query.where(overdue >= min_overdue_fen)
    if age:
        # Overdue days count from the oldest unpaid due date, and only while something is overdue.
        query = query.where(overdue > 0, pos.c.unpaid_fen > pos.c.billed_after_0)  # due on or before as_of - first
        if last is not None:  # ... and not before as_of - last
            query = query.where(pos.c.unpaid_fen <= pos.c.billed_after_1)
    return query


def customer_page(session: Session, user: User, as_of: dt.date, *, page: int = 1, page_size: int = 50,
                  **filters) -> Page:
    """One page of the user's customers with balance, overdue amount, days overdue, risk and grade on `as_of`,
    filtered and sorted (see `_listing` for the filters)."""
    query = _listing(user, as_of, **filters)
    if any(filters.get(k) is not None for k in ROW_FILTERS):
        # Filters on the computed figures: the total rides on the page query (the positions are computed
        # once for both); a page past the end has no row to carry it and asks again.
        counted = query.add_columns(func.count().over().label("total_rows"))
        rows = session.execute(counted.limit(page_size).offset((page - 1) * page_size)).mappings().all()
        total = rows[0]["total_rows"] if rows else session.scalar(
            select(func.count()).select_from(query.order_by(None).subquery()))
    else:
        # Every listed customer has a position: counting the customers is enough, and cheap.
        rows = session.execute(query.limit(page_size).offset((page - 1) * page_size)).mappings().all()
        total = session.scalar(select(func.count()).select_from(_ids(user, as_of, **filters).subquery()))
    columns = list(query.selected_columns.keys())
    frame = _with_oldest_due(session, pd.DataFrame([{c: r[c] for c in columns} for r in rows], columns=columns),
                             as_of)
    return Page(page=page, page_size=page_size, total=total or 0, items=_records(classify(frame, as_of)))


def _with_oldest_due(session: Session, frame: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Fill oldest_due_on for rows listed without it (a list sorted on amounts): one positions query over just
    these customers, instead of a window over every bill of the officer's grids."""
    missing = frame["oldest_due_on"].isna() & (frame["balance_fen"] > frame["not_due_fen"])
    if not missing.any():
        return frame
    codes = frame.loc[missing, "code"].tolist()
    ids = select(Customer.id).where(Customer.code.in_(codes))
    pos = positions(as_of, ids).subquery()
    found = dict(session.execute(select(Customer.code, pos.c.oldest_due_on)
                                 .join(pos, pos.c.customer_id == Customer.id)).all())
    return frame.assign(oldest_due_on=frame["oldest_due_on"].where(~missing, frame["code"].map(found)))


def customer_rows(session: Session, user: User, as_of: dt.date, **filters) -> Iterator[dict]:
    """Every customer that the list shows for these filters, in its order, read in batches (for the export)."""
    query = _listing(user, as_of, every_figure=True, **filters)
    columns = list(query.selected_columns.keys())
    result = session.execute(query.execution_options(yield_per=2000)).mappings()
    for chunk in result.partitions():
        frame = classify(pd.DataFrame([dict(r) for r in chunk], columns=columns), as_of)
        yield from _records(frame)


def _records(frame: pd.DataFrame) -> list[dict]:
    """Frame rows as plain dicts with None for missing values."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def latest_score(session: Session, customer: Customer) -> dict | None:
    """The customer's score from the most recent scoring run, with its reasons, if scored."""
    row = session.execute(
        in_latest_run(select(RiskScore)).where(RiskScore.customer_id == customer.id)
    ).scalar_one_or_none()
    if row is None:
        return None
    return {"pd": row.pd, "expected_loss_fen": row.expected_loss_fen, "rating": row.rating, "as_of": row.as_of,
            "model_version": row.model_version, "reasons": {"zh": row.reasons_zh, "en": row.reasons_en}}


def position(session: Session, customer: Customer, as_of: dt.date) -> dict:
    """Balance, overdue amount and days overdue of one customer."""
    row = session.execute(positions(as_of, select(Customer.id).where(Customer.id == customer.id))).mappings().one()
    return _records(classify(pd.DataFrame([dict(row)]), as_of))[0]


def bills(session: Session, customer: Customer) -> list[dict]:
    """The customer's bills, newest first, each with what was paid on it and when it was fully paid."""
    paid = (
        select(Allocation.bill_id, func.sum(Allocation.amount_fen).label("paid_fen"),
               func.max(Allocation.allocated_at).label("last_at"))
        .where(Allocation.customer_id == customer.id)
        .group_by(Allocation.bill_id)
        .subquery()
    )
    rows = session.execute(
        select(Bill, func.coalesce(paid.c.paid_fen, 0), paid.c.last_at)
        .join(paid, paid.c.bill_id == Bill.id, isouter=True)
        .where(Bill.customer_id == customer.id)
        .order_by(Bill.due_on.desc(), Bill.id.desc())
    ).all()
    out = []
    for bill, paid_fen, last_at in rows:
        settled = paid_fen >= bill.amount_fen
        out.append({
            "code": bill.code, "period": bill.period, "kwh": bill.kwh, "amount_fen": bill.amount_fen,
            "paid_fen": paid_fen, "issued_on": bill.issued_on, "due_on": bill.due_on,
            "settled_at": (last_at if bill.amount_fen else None) if settled else None,
        })
    return out


def payments(session: Session, customer: Customer) -> list[dict]:
    """The customer's payments, newest first, each with the bills it settled."""
    rows = session.scalars(
        select(Payment).where(Payment.customer_id == customer.id).order_by(Payment.paid_at.desc(), Payment.id.desc())
    ).all()
    allocs = session.execute(
        select(Allocation.payment_id, Bill.code, Allocation.amount_fen)
        .join(Bill, Bill.id == Allocation.bill_id)
        .where(Allocation.customer_id == customer.id)
        .order_by(Bill.due_on, Bill.id)
    ).all()
    by_payment: dict[int, list[dict]] = {}
    for payment_id, bill_code, amount in allocs:
        by_payment.setdefault(payment_id, []).append({"bill_id": bill_code, "amount_fen": amount})
    return [
        {"code": p.code, "channel": p.channel, "channel_account": p.channel_account, "channel_ref": p.channel_ref,
         "amount_fen": p.amount_fen, "paid_at": p.paid_at, "state": p.state,
         "allocations": by_payment.get(p.id, [])}
        for p in rows
    ]


def ledger(session: Session, customer: Customer) -> list[dict]:
    """The customer's ledger in posting order, with the running balance after each entry."""
    running = func.sum(LedgerEntry.amount_fen).over(
        partition_by=LedgerEntry.customer_id, order_by=(LedgerEntry.effective_on, LedgerEntry.id)
    )
    rows = session.execute(
        select(LedgerEntry, Bill.code, Payment.code, running)
        .join(Bill, Bill.id == LedgerEntry.bill_id, isouter=True)
        .join(Payment, Payment.id == LedgerEntry.payment_id, isouter=True)
        .where(LedgerEntry.customer_id == customer.id)
        .order_by(LedgerEntry.effective_on, LedgerEntry.id)
    ).all()
    return [
        {"id": e.id, "kind": e.kind, "amount_fen": e.amount_fen, "effective_on": e.effective_on,
         "posted_at": e.posted_at, "bill_id": bill_code, "payment_id": payment_code, "note": e.note,
         "running_fen": run}
        for e, bill_code, payment_code, run in rows
    ]



def penalties(session: Session, customer: Customer) -> list[dict]:
    """The late-payment penalty charged on each of the customer's bills and what payments settled of it."""
    charged = (
        select(LedgerEntry.bill_id, func.sum(LedgerEntry.amount_fen).label("charged_fen"),
               func.max(LedgerEntry.effective_on).label("last_on"))
        .where(LedgerEntry.customer_id == customer.id, LedgerEntry.kind == EntryKind.penalty)
        .group_by(LedgerEntry.bill_id)
        .subquery()
    )
    paid = (
        select(PenaltyAllocation.bill_id, func.sum(PenaltyAllocation.amount_fen).label("paid_fen"))
        .where(PenaltyAllocation.customer_id == customer.id)
        .group_by(PenaltyAllocation.bill_id)
        .subquery()
    )
    rows = session.execute(
        select(Bill.code, Bill.due_on, charged.c.charged_fen, func.coalesce(paid.c.paid_fen, 0), charged.c.last_on)
        .join(charged, charged.c.bill_id == Bill.id)
        .join(paid, paid.c.bill_id == Bill.id, isouter=True)
        .order_by(Bill.due_on.desc(), Bill.id.desc())
    ).all()
    return [{"bill_id": code, "due_on": due_on, "charged_fen": int(charged_fen), "paid_fen": int(paid_fen),
             "last_on": last_on} for code, due_on, charged_fen, paid_fen, last_on in rows if charged_fen]
