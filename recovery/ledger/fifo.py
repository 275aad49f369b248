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
    return _interval_allocate(b, payments, ["bill_id"])[ALLOCATION_COLUMNS]


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64") for c in columns if c not in ("allocated_at", "kind")}
                        | ({"kind": pd.Series(dtype=object)} if "kind" in columns else {})
                        | {"allocated_at": pd.Series(dtype="datetime64[ns, UTC]")})[columns]


def _interval_allocate(b: pd.DataFrame, payments: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Interval overlap of items `b` (already in settling order within each customer; identified by
    `keys`, with customer_id, amount_fen, issued_at) and payments in time order."""
    columns = ["payment_id", *keys, "customer_id", "amount_fen", "allocated_at"]
    b = b.loc[b["amount_fen"] > 0]
    p = payments.loc[payments["amount_fen"] > 0].sort_values(["customer_id", "paid_at", "payment_id"])
    if b.empty or p.empty:
        return _empty(columns)
    b = b.assign(hi=b.groupby("customer_id", sort=False)["amount_fen"].cumsum())
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
    points = pd.merge_asof(points, b[["hi", "customer_id", *keys, "issued_at"]].sort_values("hi"),
                           on="hi", by="customer_id", direction="forward")
    points = pd.merge_asof(points, p[["hi", "customer_id", "payment_id", "paid_at"]].sort_values("hi"),
                           on="hi", by="customer_id", direction="forward")
    out = points.groupby(["payment_id", *keys], as_index=False, sort=False).agg(
        customer_id=("customer_id", "first"), amount_fen=("amount_fen", "sum"),
        paid_at=("paid_at", "first"), issued_at=("issued_at", "first"),
    )
    out["allocated_at"] = out[["paid_at", "issued_at"]].max(axis=1)
    out = out.astype({"payment_id": "int64", "bill_id": "int64", "customer_id": "int64", "amount_fen": "int64"})
    return out[columns].sort_values(["customer_id", "bill_id", "payment_id"], ignore_index=True)


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


# ---------------------------------------------------------------- penalties as allocatable items

BILL, PENALTY = "bill", "penalty"
ORDERS = ("bills_first", "penalties_first", "oldest_first")


def order_key(order: str, kind: str, due_on, issued_on, bill_id) -> tuple:
    """Where an item stands in the settling order (the [allocation] policy)."""
    bill_rank = 0 if kind == BILL else 1
    if order == "bills_first":
        return (bill_rank, due_on, issued_on, bill_id)
    if order == "penalties_first":
        return (1 - bill_rank, due_on, issued_on, bill_id)
    return (due_on, issued_on, bill_id, 1 - bill_rank)  # oldest_first: each bill's penalty, then the bill


def allocate_rows(bills: list[tuple], penalties: list[tuple], payments: list[tuple], order: str) -> list[tuple]:
    """Allocate payments to bills and bill penalties in the policy's order, in time.

    bills: (bill_id, customer_id, amount_fen, due_on, issued_on, issued_at)
    penalties: (bill_id, customer_id, amount_fen, due_on, issued_on, available_at) — a bill's penalty
        total, payable from the instant its accrual starts
    payments: (payment_id, customer_id, amount_fen, paid_at)
    Returns (kind, payment_id, bill_id, customer_id, amount_fen, allocated_at) with kind "bill" | "penalty".

    Each payment, in time order, settles what is open when it is made, in the policy's order: every
    bill is open from the start (as in oldest-bill-first, a payment ahead of a bill is a credit that
    the bill takes when it comes), a penalty only once it accrues. So a payment never settles a
    penalty that did not exist when it was made, unless it was an unused credit at that time.
    """
    if order not in ORDERS:
        raise ValueError(f"unknown allocation order {order!r}")
    items: dict[object, list[list]] = {}
    for bill_id, customer_id, amount, due, issued, issued_at in bills:
        if amount > 0:
            items.setdefault(customer_id, []).append(
                [order_key(order, BILL, due, issued, bill_id), BILL, bill_id, amount, issued_at, None])
    for bill_id, customer_id, amount, due, issued, available_at in penalties:
        if amount > 0:
            items.setdefault(customer_id, []).append(
                [order_key(order, PENALTY, due, issued, bill_id), PENALTY, bill_id, amount, available_at,
                 available_at])
    pays: dict[object, list[tuple]] = {}
    for p in payments:
        if p[2] > 0:
            pays.setdefault(p[1], []).append(p)
    out: list[tuple] = []
    for customer_id, queue in pays.items():
        its = sorted(items.get(customer_id, []), key=lambda i: i[0])
        if not its:
            continue
        # Penalties open up in time; a credit (what earlier payments left) settles them as they do.
        openings = sorted((i for i in its if i[5] is not None), key=lambda i: (i[5], i[0]))
        events = [(i[5], 0, k, i) for k, i in enumerate(openings)]
        events += [(p[3], 1, p[0], p) for p in sorted(queue, key=lambda p: (p[3], p[0]))]
        events.sort(key=lambda e: (e[0], e[1], e[2]))
        credit: list[list] = []  # [payment_id, left, paid_at], oldest first
        opened: set[int] = set()

        def settle(item: list, payment_id, left: int, paid_at, customer_id=customer_id) -> int:
            take = min(left, item[3])
            out.append((item[1], payment_id, item[2], customer_id, take, max(paid_at, item[4])))
            item[3] -= take
            return left - take

        for _when, is_payment, _k, what in events:
            if is_payment:
                payment_id, _c, left, paid_at = what
                for item in its:
                    if left == 0:
                        break
                    if item[3] and (item[5] is None or id(item) in opened):
                        left = settle(item, payment_id, left, paid_at)
                if left:
                    credit.append([payment_id, left, paid_at])
            else:
                opened.add(id(what))
                while credit and what[3]:
                    credit[0][1] = settle(what, credit[0][0], credit[0][1], credit[0][2])
                    if credit[0][1] == 0:
                        credit.pop(0)
    return out


def allocate(bills: pd.DataFrame, penalties: pd.DataFrame, payments: pd.DataFrame,
             order: str = "bills_first") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Allocate payments to bills and to bills' penalties, in the [allocation] policy's order.

    bills, payments: as fifo_allocate. penalties: bill_id, customer_id, amount_fen (the bill's penalty
    total), due_on, issued_on, available_at (UTC instant its accrual starts).
    Returns (bill allocations, penalty allocations), both with ALLOCATION_COLUMNS.

    bills_first stays on the interval overlap (penalties simply come after every bill). The other
    orders depend on time — a penalty can take only a payment made after it started, or a credit —
    so the customers who have a penalty are allocated by allocate_rows; the rest by the overlap,
    which gives the same answer when there are no penalties.
    """
    if order not in ORDERS:
        raise ValueError(f"unknown allocation order {order!r}")
    pen = penalties.loc[penalties["amount_fen"] > 0]
    if pen.empty:
        return fifo_allocate(bills, payments), _empty(ALLOCATION_COLUMNS)
    if order == "bills_first":
        items = pd.concat([
            bills.loc[bills["amount_fen"] > 0, ["bill_id", "customer_id", "amount_fen", "due_on", "issued_on",
                                                "issued_at"]].assign(kind=BILL, rank=0),
            pen.assign(issued_at=pen["available_at"])[["bill_id", "customer_id", "amount_fen", "due_on", "issued_on",
                                                        "issued_at"]].assign(kind=PENALTY, rank=1),
        ], ignore_index=True).sort_values(["customer_id", "rank", "due_on", "issued_on", "bill_id"])
        out = _interval_allocate(items, payments, ["bill_id", "kind"])
    else:
        with_penalty = pen["customer_id"].unique()
        b_in, p_in = bills["customer_id"].isin(with_penalty), payments["customer_id"].isin(with_penalty)
        plain = fifo_allocate(bills.loc[~b_in], payments.loc[~p_in]).assign(kind=BILL)
        rows = allocate_rows(
            list(bills.loc[b_in, ["bill_id", "customer_id", "amount_fen", "due_on", "issued_on", "issued_at"]]
                 .itertuples(index=False, name=None)),
            list(pen[["bill_id", "customer_id", "amount_fen", "due_on", "issued_on", "available_at"]]
                 .itertuples(index=False, name=None)),
            list(payments.loc[p_in, ["payment_id", "customer_id", "amount_fen", "paid_at"]]
                 .itertuples(index=False, name=None)),
            order)
        timed = pd.DataFrame(rows, columns=["kind", *ALLOCATION_COLUMNS])
        out = pd.concat([plain, timed], ignore_index=True) if not timed.empty else plain
        if not out.empty:
            out["allocated_at"] = pd.to_datetime(out["allocated_at"], utc=True)
            out = out.astype({"payment_id": "int64", "bill_id": "int64", "customer_id": "int64",
                              "amount_fen": "int64"})
    by_kind = out["kind"] == PENALTY
    return (out.loc[~by_kind, ALLOCATION_COLUMNS].reset_index(drop=True),
            out.loc[by_kind, ALLOCATION_COLUMNS].reset_index(drop=True))
