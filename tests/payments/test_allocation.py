"""Oldest-bill-first allocation (pure, columnar) against a plain sequential reference."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from recovery.ledger.fifo import fifo_allocate, fifo_allocate_rows

T0 = pd.Timestamp("2026-01-01", tz="UTC")


def _frames(bills: list[tuple[int, int, int]], payments: list[tuple[int, int, int]]):
    b = pd.DataFrame({
        "bill_id": range(1, len(bills) + 1), "customer_id": [c for c, _, _ in bills],
        "amount_fen": [a for _, a, _ in bills], "due_on": [T0 + pd.Timedelta(days=d) for _, _, d in bills],
    })
    b["issued_on"] = b["due_on"]
    b["issued_at"] = b["due_on"]
    p = pd.DataFrame({
        "payment_id": range(1, len(payments) + 1), "customer_id": [c for c, _, _ in payments],
        "amount_fen": [a for _, a, _ in payments], "paid_at": [T0 + pd.Timedelta(hours=h) for _, _, h in payments],
    })
    return b, p


def _sequential(b: pd.DataFrame, p: pd.DataFrame) -> dict[tuple[int, int], int]:
    """Reference: walk each customer's payments in time order, filling bills in due order."""
    out: dict[tuple[int, int], int] = {}
    for cust in set(b["customer_id"]) | set(p["customer_id"]):
        open_bills = [[r.bill_id, r.amount_fen] for r in b[b.customer_id == cust]
                      .sort_values(["due_on", "issued_on", "bill_id"]).itertuples() if r.amount_fen > 0]
        for pay in p[p.customer_id == cust].sort_values(["paid_at", "payment_id"]).itertuples():
            left = pay.amount_fen
            for entry in open_bills:
                if left == 0:
                    break
                take = min(left, entry[1])
                if take:
                    out[(pay.payment_id, entry[0])] = out.get((pay.payment_id, entry[0]), 0) + take
                    entry[1] -= take
                    left -= take
    return out


bills_st = st.lists(st.tuples(st.integers(1, 4), st.integers(0, 50_000), st.integers(0, 400)), max_size=25)
pays_st = st.lists(st.tuples(st.integers(1, 4), st.integers(1, 60_000), st.integers(0, 10_000)), max_size=25)


@settings(max_examples=150, deadline=None)
@given(bills_st, pays_st)
def test_allocation_matches_sequential_oldest_first_and_never_creates_or_loses_a_fen(bills, payments):
    b, p = _frames(bills, payments)
    got = fifo_allocate(b, p)
    assert {(r.payment_id, r.bill_id): r.amount_fen for r in got.itertuples()} == _sequential(b, p)
    # No payment gives more than it had, no bill takes more than it asked.
    assert (got.groupby("payment_id")["amount_fen"].sum() <= p.set_index("payment_id")["amount_fen"]
            .reindex(got.groupby("payment_id").size().index)).all()
    assert (got.groupby("bill_id")["amount_fen"].sum() <= b.set_index("bill_id")["amount_fen"]
            .reindex(got.groupby("bill_id").size().index)).all()
    # Per customer, exactly the smaller of billed and paid is allocated.
    for cust in set(b.customer_id) & set(p.customer_id):
        expected = min(b[b.customer_id == cust].amount_fen.sum(), p[p.customer_id == cust].amount_fen.sum())
        assert got[got.customer_id == cust].amount_fen.sum() == expected


def test_allocated_at_is_the_later_of_payment_and_issue():
    b, p = _frames([(1, 100, 10)], [(1, 100, 1)])  # paid an hour into Jan 1, bill issued Jan 11
    got = fifo_allocate(b, p)
    assert got.loc[0, "allocated_at"] == T0 + pd.Timedelta(days=10)


@settings(max_examples=150, deadline=None)
@given(bills_st, pays_st)
def test_row_path_allocates_exactly_as_the_columnar_path(bills, payments):
    b, p = _frames(bills, payments)
    columnar = fifo_allocate(b, p)
    rows = fifo_allocate_rows(
        [(r.bill_id, r.customer_id, r.amount_fen, r.due_on, r.issued_on, r.issued_at) for r in b.itertuples()],
        [(r.payment_id, r.customer_id, r.amount_fen, r.paid_at) for r in p.itertuples()],
    )
    assert sorted((pid, bid, cid, amt, at) for pid, bid, cid, amt, at in rows) == sorted(
        (r.payment_id, r.bill_id, r.customer_id, r.amount_fen, r.allocated_at) for r in columnar.itertuples())
