"""Penalties as allocatable items, in the [allocation] policy's order."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from recovery.ledger.fifo import allocate, allocate_rows
from tests.factories import bill, customer, load, payment

T0 = pd.Timestamp("2026-01-01", tz="UTC")


def _frames(bills, penalties, payments):
    b = pd.DataFrame({
        "bill_id": range(1, len(bills) + 1), "customer_id": [c for c, _, _ in bills],
        "amount_fen": [a for _, a, _ in bills],
        "due_on": pd.Series([T0 + pd.Timedelta(days=d) for _, _, d in bills], dtype="datetime64[ns, UTC]"),
    })
    b["issued_on"] = b["due_on"]
    b["issued_at"] = b["due_on"] - pd.Timedelta(days=15)
    # Penalty k belongs to bill k (when there is one), payable from the day after the bill's due date.
    pen = pd.DataFrame({"bill_id": pd.Series(range(1, min(len(penalties), len(bills)) + 1), dtype="int64")})
    pen = pen.merge(b[["bill_id", "customer_id", "due_on", "issued_on"]], on="bill_id")
    pen["amount_fen"] = pd.Series(penalties[:len(pen)], dtype="int64")
    pen["available_at"] = pen["due_on"] + pd.Timedelta(days=1)
    p = pd.DataFrame({
        "payment_id": range(1, len(payments) + 1), "customer_id": [c for c, _, _ in payments],
        "amount_fen": [a for _, a, _ in payments],
        "paid_at": pd.Series([T0 + pd.Timedelta(hours=h) for _, _, h in payments], dtype="datetime64[ns, UTC]"),
    })
    return b, pen, p


def _rows(b, pen, p, order):
    return allocate_rows(
        list(b[["bill_id", "customer_id", "amount_fen", "due_on", "issued_on", "issued_at"]].itertuples(index=False,
                                                                                                      name=None)),
        list(pen[["bill_id", "customer_id", "amount_fen", "due_on", "issued_on", "available_at"]]
             .itertuples(index=False, name=None)),
        list(p[["payment_id", "customer_id", "amount_fen", "paid_at"]].itertuples(index=False, name=None)), order)


def _as_set(bills_part: pd.DataFrame, penalty_part: pd.DataFrame) -> set:
    return ({("bill", r.payment_id, r.bill_id, r.amount_fen, r.allocated_at) for r in bills_part.itertuples()}
            | {("penalty", r.payment_id, r.bill_id, r.amount_fen, r.allocated_at) for r in penalty_part.itertuples()})


bills_st = st.lists(st.tuples(st.integers(1, 3), st.integers(0, 50_000), st.integers(0, 400)), max_size=15)
pens_st = st.lists(st.integers(0, 5_000), max_size=15)
pays_st = st.lists(st.tuples(st.integers(1, 3), st.integers(1, 60_000), st.integers(0, 10_000)), max_size=15)


@settings(max_examples=100, deadline=None)
@given(bills_st, pens_st, pays_st)
def test_bills_first_on_intervals_matches_the_sequential_walk(bills, penalties, payments):
    b, pen, p = _frames(bills, penalties, payments)
    to_bills, to_penalties = allocate(b, pen, p, "bills_first")
    assert _as_set(to_bills, to_penalties) == {tuple(r[:3]) + tuple(r[4:]) for r in _rows(b, pen, p, "bills_first")}


@settings(max_examples=100, deadline=None)
@given(bills_st, pens_st, pays_st, st.sampled_from(["bills_first", "penalties_first", "oldest_first"]))
def test_every_order_allocates_the_smaller_of_owed_and_paid_and_no_penalty_before_it_accrues(
        bills, penalties, payments, order):
    b, pen, p = _frames(bills, penalties, payments)
    to_bills, to_penalties = allocate(b, pen, p, order)
    for cust in set(p.customer_id):
        owed = b[b.customer_id == cust].amount_fen.sum() + pen[pen.customer_id == cust].amount_fen.sum()
        paid = p[p.customer_id == cust].amount_fen.sum()
        got = to_bills[to_bills.customer_id == cust].amount_fen.sum() + \
            to_penalties[to_penalties.customer_id == cust].amount_fen.sum()
        assert got == min(owed, paid)
    assert (to_bills.groupby("bill_id").amount_fen.sum()
            <= b.set_index("bill_id").amount_fen.reindex(to_bills.groupby("bill_id").size().index)).all()
    assert (to_penalties.groupby("bill_id").amount_fen.sum()
            <= pen.set_index("bill_id").amount_fen.reindex(to_penalties.groupby("bill_id").size().index)).all()
    if not to_penalties.empty:
        starts = to_penalties.bill_id.map(pen.set_index("bill_id").available_at)
        assert (to_penalties.allocated_at >= starts).all()


def test_each_order_settles_in_its_own_sequence():
    # Two bills of 100 (due days 10 and 40), each with a penalty of 10; one payment of 150 on day 50.
    b, pen, p = _frames([(1, 100, 10), (1, 100, 40)], [10, 10], [(1, 150, 50 * 24)])

    def split(order):
        to_bills, to_penalties = allocate(b, pen, p, order)
        return (dict(zip(to_bills.bill_id, to_bills.amount_fen, strict=True)),
                dict(zip(to_penalties.bill_id, to_penalties.amount_fen, strict=True)))

    assert split("bills_first") == ({1: 100, 2: 50}, {})
    assert split("penalties_first") == ({1: 100, 2: 30}, {1: 10, 2: 10})
    assert split("oldest_first") == ({1: 100, 2: 30}, {1: 10, 2: 10})
    # A payment made before the second penalty accrued cannot settle it, whatever the order.
    b, pen, p = _frames([(1, 100, 10), (1, 100, 40)], [10, 10], [(1, 150, 20 * 24)])
    to_bills, to_penalties = allocate(b, pen, p, "penalties_first")
    assert dict(zip(to_penalties.bill_id, to_penalties.amount_fen, strict=True)) == {1: 10}
    assert dict(zip(to_bills.bill_id, to_bills.amount_fen, strict=True)) == {1: 100, 2: 40}
    to_bills, to_penalties = allocate(b, pen, p, "oldest_first")
    assert dict(zip(to_penalties.bill_id, to_penalties.amount_fen, strict=True)) == {1: 10}


def _policy(app, **sections):
    from recovery import policy

    app.config["POLICY_IN_FORCE"] = dict(app.config["POLICY_IN_FORCE"]) | {
        name: policy.section(name, {name: values}) for name, values in sections.items()}


def test_penalties_first_leaves_the_bill_partly_unpaid_and_accruing(app, recovery, tmp_path, session):
    from recovery.billing.penalties import accrue

    _policy(app, allocation={"order": "penalties_first"})
    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "1234.56", "2026-01", "2026-02-03", "2026-02-20")])
    accrue(session, dt.date(2026, 3, 2))  # 12.35 of penalty
    session.commit()
    load(recovery, tmp_path, payments=[payment("R1", "C1", "1234.56", "2026-03-02T10:00:00+08:00")])
    # The payment settles the penalty first; 12.35 of the bill stays unpaid and accrues from then on:
    # (122221 x 10 + 1235 x 13) x 0.1% = 1238.265 -> 12.38, and again with 1238 unpaid: 1238.274 -> 12.38.
    summary = accrue(session, dt.date(2026, 3, 5))
    assert summary["penalty_total_fen"] == 1238 and summary["passes"] == 2
    assert accrue(session, dt.date(2026, 3, 5))["entries"] == 0
    session.commit()
    out = recovery("report", "ageing", "--as-of", "2026-03-05").stdout.splitlines()
    assert out[1] == "C1,12.38,12.38,2026-02-20,1-30"


def test_bills_first_settles_the_bill_and_leaves_the_penalty(app, recovery, tmp_path, session):
    from recovery.billing.penalties import accrue

    load(recovery, tmp_path, customers=[customer("C1")],
         bills=[bill("B1", "C1", "1234.56", "2026-01", "2026-02-03", "2026-02-20")])
    accrue(session, dt.date(2026, 3, 2))
    session.commit()
    load(recovery, tmp_path, payments=[payment("R1", "C1", "1234.56", "2026-03-02T10:00:00+08:00"),
                                       payment("R2", "C1", "5.00", "2026-03-03T10:00:00+08:00")])
    assert accrue(session, dt.date(2026, 3, 5))["entries"] == 0
    session.commit()
    out = recovery("report", "ageing", "--as-of", "2026-03-05").stdout.splitlines()
    assert out[1] == "C1,7.35,7.35,,current"
    from sqlalchemy import select

    from recovery.ledger.models import PenaltyAllocation

    assert session.scalars(select(PenaltyAllocation.amount_fen)).all() == [500]
