"""Oldest-bill-first allocation, computed for many customers at once on columnar data.

A customer's payments, in the order they were made, fill the customer's bills in the order they
fall due. Put both on one line of fen — each bill an interval of its cumulative amount, each
payment likewise — and every overlap of a payment's interval with a bill's is one allocation.
What a customer paid beyond all bills stays unallocated: a credit on the account.
"""

from __future__ import annotations

import pandas as pd

ALLOCATION_COLUMNS = ["payment_id", "bill_id", "customer_id", "amount_fen", "allocated_at"]


def fifo_allocate(bills: pd.DataFrame, payments: pd.DataFrame) -> pd.DataFrame:
    """Allocate payments to bills, oldest bill first.

    bills: bill_id, customer_id, amount_fen, due_on, issued_on, issued_at (UTC instant the bill exists from)
    payments: payment_id, customer_id, amount_fen, paid_at (UTC)
    Returns payment_id, bill_id, customer_id, amount_fen, allocated_at (the later of payment and issue).
    """
    b = bills.loc[bills["amount_fen"] > 0].sort_values(["customer_id", "due_on", "issued_on", "bill_id"])
    p = payments.loc[payments["amount_fen"] > 0].sort_values(["customer_id", "paid_at", "payment_id"])
    if b.empty or p.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in ALLOCATION_COLUMNS[:-1]}
                            | {"allocated_at": pd.Series(dtype="datetime64[ns, UTC]")})
    b = b.assign(hi=b.groupby("customer_id")["amount_fen"].cumsum())
    p = p.assign(hi=p.groupby("customer_id")["amount_fen"].cumsum())

    # Only the stretch both sides cover is allocated.
    cap = pd.concat(
        [b.groupby("customer_id")["hi"].max().rename("billed"), p.groupby("customer_id")["hi"].max().rename("paid")],
        axis=1, join="inner",
    ).min(axis=1).rename("cap")
    points = pd.concat([b[["customer_id", "hi"]], p[["customer_id", "hi"]]], ignore_index=True)
    points = points.join(cap, on="customer_id", how="inner")
    points = points.loc[points["hi"] <= points["cap"], ["customer_id", "hi"]].drop_duplicates()
    points = points.sort_values(["customer_id", "hi"])
    points["amount_fen"] = points["hi"] - points.groupby("customer_id")["hi"].shift(fill_value=0)

    # Each elementary stretch ends inside exactly one bill and one payment: the first whose end reaches it.
    points = points.sort_values("hi")
    points = pd.merge_asof(points, b[["hi", "customer_id", "bill_id", "issued_at"]].sort_values("hi"),
                           on="hi", by="customer_id", direction="forward")
    points = pd.merge_asof(points, p[["hi", "customer_id", "payment_id", "paid_at"]].sort_values("hi"),
                           on="hi", by="customer_id", direction="forward")
    out = points.groupby(["payment_id", "bill_id"], as_index=False, sort=False).agg(
        customer_id=("customer_id", "first"), amount_fen=("amount_fen", "sum"),
        paid_at=("paid_at", "first"), issued_at=("issued_at", "first"),
    )
    out["allocated_at"] = out[["paid_at", "issued_at"]].max(axis=1)
    out = out.astype({"payment_id": "int64", "bill_id": "int64", "customer_id": "int64", "amount_fen": "int64"})
    return out[ALLOCATION_COLUMNS].sort_values(["customer_id", "bill_id", "payment_id"], ignore_index=True)


def fifo_allocate_rows(bills: list[tuple], payments: list[tuple]) -> list[tuple]:
    """The same allocation for a handful of customers, without frames (an API posting's path).

    bills: (bill_id, customer_id, amount_fen, due_on, issued_on, issued_at)
    payments: (payment_id, customer_id, amount_fen, paid_at)
    Returns (payment_id, bill_id, customer_id, amount_fen, allocated_at) tuples, like fifo_allocate's rows.
    Walking each customer's payments in time order over its bills in due order is what the interval
    overlap computes; tests hold the two to the same answers.
    """
    open_bills: dict[object, list[list]] = {}
    for bill_id, customer_id, amount, _due, _issued, issued_at in sorted(
            (b for b in bills if b[2] > 0), key=lambda b: (b[1], b[3], b[4], b[0])):
        open_bills.setdefault(customer_id, []).append([bill_id, amount, issued_at])
    out = []
    for payment_id, customer_id, amount, paid_at in sorted(
            (p for p in payments if p[2] > 0), key=lambda p: (p[1], p[3], p[0])):
        queue = open_bills.get(customer_id, [])
        while amount and queue:
            bill = queue[0]
            take = min(amount, bill[1])
            out.append((payment_id, bill[0], customer_id, take, max(paid_at, bill[2])))
            amount -= take
            bill[1] -= take
            if bill[1] == 0:
                queue.pop(0)
    return out
