"""Invariants of the pure engines under generated input: penalties grow with lateness, and the
matching engine never uses a payment or a statement line twice."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import recovery.billing.penalty_policy  # noqa: F401  registers the [penalty] section
from reconciliation.matching import PASSES, Rules, Window, match
from recovery import policy
from recovery.billing.penalty_rules import totals
from recovery.customers.models import CustomerClass

RULES = policy.section("penalty", {})
DUE = dt.date(2025, 11, 20)


def _penalty(amount_fen: int, customer_class: str, day: dt.date, paid: list[tuple[int, dt.date]]) -> int:
    bills = pd.DataFrame({"bill_id": [1], "customer_id": [1], "customer_class": [customer_class],
                          "period": ["2025-10"], "amount_fen": [amount_fen], "due_on": [DUE.isoformat()]})
    allocations = pd.DataFrame({
        "bill_id": [1] * len(paid), "amount_fen": [a for a, _ in paid],
        # Noon in the business time zone (UTC+8): the allocation's local day is the given day.
        "allocated_at": [f"{d.isoformat()}T04:00:00+00:00" for _, d in paid]})
    out = totals(bills, allocations, day, RULES, tz="Asia/Shanghai")  # no application: the zone is passed in
    return int(out["penalty_fen"].sum())


@settings(max_examples=40, deadline=None)
@given(amount=st.integers(1, 10**12), customer_class=st.sampled_from([c.value for c in CustomerClass]),
       late=st.integers(-5, 800), more=st.integers(1, 400),
       parts=st.lists(st.tuples(st.integers(1, 10**9), st.integers(-10, 900)), max_size=3))
def test_a_penalty_never_falls_as_the_bill_stays_unpaid_longer(amount, customer_class, late, more, parts):
    paid: list[tuple[int, dt.date]] = []
    left = amount
    for part, days in parts:  # payments of parts of the bill, each on its day
        take = min(part, left)
        if take:
            paid.append((take, DUE + dt.timedelta(days=days)))
            left -= take
    day = DUE + dt.timedelta(days=late)
    earlier = _penalty(amount, customer_class, day, paid)
    later = _penalty(amount, customer_class, day + dt.timedelta(days=more), paid)
    assert 0 <= earlier <= later
    if late <= 0:
        assert earlier == 0  # nothing accrues on or before the due date
    # Paying the same parts later never makes the penalty smaller.
    delayed = [(a, d + dt.timedelta(days=more)) for a, d in paid]
    assert _penalty(amount, customer_class, day, delayed) >= earlier


START = pd.Timestamp("2026-11-21T16:00:00Z")  # 2026-11-22 00:00 in Asia/Shanghai
ACCOUNTS = st.sampled_from(["A", "B"])
REFS = st.one_of(st.none(), st.sampled_from(["R1", "R2", "R3", "R4"]))
CUSTOMERS = st.one_of(st.none(), st.sampled_from(["C1", "C2", "C3"]))
AMOUNTS = st.sampled_from([100, 200, 300, 500, 501, 1000])
# Minutes around the day: some before it, some after, many near the cut-offs.
MINUTES = st.one_of(st.integers(-120, 24 * 60 + 120), st.sampled_from([-1, 0, 1, 24 * 60 - 1, 24 * 60]))
ROW = st.tuples(ACCOUNTS, REFS, CUSTOMERS, AMOUNTS, MINUTES)


def _frame(rows, id_col: str, first_id: int) -> pd.DataFrame:
    return pd.DataFrame({
        id_col: pd.Series(range(first_id, first_id + len(rows)), dtype="int64"),
        "account": [r[0] for r in rows], "ref": [r[1] for r in rows], "customer": [r[2] for r in rows],
        "amount_fen": pd.Series([r[3] for r in rows], dtype="int64"),
        "at": pd.Series([START + pd.Timedelta(minutes=r[4]) for r in rows], dtype="datetime64[ns, UTC]"),
    })


@settings(max_examples=50, deadline=None)
@given(lines=st.lists(ROW, max_size=14), pays=st.lists(ROW, max_size=14),
       passes=st.lists(st.sampled_from(PASSES), min_size=1, max_size=5, unique=True),
       tolerance=st.sampled_from([0, 1, 5]), whole_day=st.booleans())
def test_matching_never_uses_a_payment_or_a_statement_line_twice(lines, pays, passes, tolerance, whole_day):
    rules = Rules(passes=tuple(passes), amount_tolerance_fen=tolerance, group_by=() if whole_day else ("customer",))
    result = match(_frame(lines, "line_id", 1), _frame(pays, "payment_id", 1000), rules,
                   Window(START, START + pd.Timedelta(days=1)))
    m = result.matches
    # Within the clean matches: each payment and each line belongs to one match only.
    assert (m.groupby("payment_id")["match_id"].nunique() <= 1).all()
    assert (m.groupby("line_id")["match_id"].nunique() <= 1).all()
    assert not m.duplicated(["line_id", "payment_id"]).any()
    # A matched payment or line is never also reported missing, and no break reuses a clean match.
    b = result.breaks
    missing_pay = b.loc[b["kind"].isin(["missing_in_statement", "timing"]) & b["line_id"].isna(), "payment_id"]
    missing_line = b.loc[b["kind"].isin(["missing_in_ledger", "timing"]) & b["payment_id"].isna(), "line_id"]
    assert not set(missing_pay.dropna()) & set(m["payment_id"])
    assert not set(missing_line.dropna()) & set(m["line_id"])
    assert not set(b["match_id"].dropna()) & set(m["match_id"])
    # Each payment left over is reported once at most.
    assert not missing_pay.dropna().duplicated().any()
    assert not missing_line.dropna().duplicated().any()
