"""Default as the contract defines it: a bill due within 60 days after as-of, not fully paid 30 days after due."""

from __future__ import annotations

import pandas as pd

from scoring.labels import default_labels, default_outcomes, label_window_end

AS_OF = "2026-03-10"


def _bill(bill_id: str, customer: str, due: str, amount: int = 10_000) -> dict:
    return {"bill_id": bill_id, "customer_id": customer, "period": "2026-02", "kwh": 100.0, "amount_fen": amount,
            "issued_on": pd.Timestamp("2026-03-04"), "due_on": pd.Timestamp(due)}


def _paid(bill_id: str, customer: str, amount: int, local: str) -> dict:
    at = pd.Timestamp(local, tz="Asia/Shanghai").tz_convert("UTC")
    return {"payment_id": f"P-{bill_id}-{local}", "bill_id": bill_id, "customer_id": customer, "amount_fen": amount,
            "allocated_at": at}


def _frames(bills: list[dict], allocations: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    a = pd.DataFrame(allocations, columns=["payment_id", "bill_id", "customer_id", "amount_fen", "allocated_at"])
    a["allocated_at"] = pd.to_datetime(a["allocated_at"], utc=True)
    return pd.DataFrame(bills), a


def test_paid_on_the_thirtieth_day_after_due_is_not_a_default():
    bills, alloc = _frames([_bill("B1", "C1", "2026-03-20")], [_paid("B1", "C1", 10_000, "2026-04-19 23:59")])
    assert default_labels(bills, alloc, AS_OF).to_dict() == {"C1": 0}


def test_paid_on_the_thirty_first_day_after_due_is_a_default():
    bills, alloc = _frames([_bill("B1", "C1", "2026-03-20")], [_paid("B1", "C1", 10_000, "2026-04-20 00:01")])
    assert default_labels(bills, alloc, AS_OF).to_dict() == {"C1": 1}


def test_the_deadline_is_the_end_of_the_local_business_day_not_utc():
    # 2026-04-20 07:00 in Shanghai is still 2026-04-19 in UTC, but it is the 31st day locally
    bills, alloc = _frames([_bill("B1", "C1", "2026-03-20")], [_paid("B1", "C1", 10_000, "2026-04-20 07:00")])
    assert default_labels(bills, alloc, AS_OF).to_dict() == {"C1": 1}


def test_a_partial_payment_by_the_deadline_is_a_default_for_the_unpaid_part():
    bills, alloc = _frames([_bill("B1", "C1", "2026-05-09")],
                           [_paid("B1", "C1", 6_000, "2026-05-20 10:00"), _paid("B1", "C1", 4_000, "2026-07-01 10:00")])
    out = default_outcomes(bills, alloc, AS_OF)
    assert out.loc["C1", "default"] == 1
    assert out.loc["C1", "unpaid_fen"] == 4_000


def test_pieces_that_add_up_by_the_deadline_pay_the_bill():
    bills, alloc = _frames([_bill("B1", "C1", "2026-03-20")],
                           [_paid("B1", "C1", 6_000, "2026-03-15 10:00"), _paid("B1", "C1", 4_000, "2026-04-10 10:00")])
    assert default_labels(bills, alloc, AS_OF).to_dict() == {"C1": 0}


def test_the_window_is_after_as_of_up_to_and_including_sixty_days():
    bills, alloc = _frames([
        _bill("B1", "C1", "2026-03-10"),      # due on as-of: before the window
        _bill("B2", "C1", "2026-05-10"),      # as-of + 61
        _bill("B3", "C2", "2026-03-11"),      # first day of the window
        _bill("B4", "C3", "2026-05-09"),      # as-of + 60: last day of the window
    ], [])
    assert default_labels(bills, alloc, AS_OF).to_dict() == {"C2": 1, "C3": 1}


def test_customers_without_a_bill_due_in_the_window_are_left_out():
    bills, alloc = _frames([_bill("B1", "C1", "2026-01-20"), _bill("B2", "C2", "2026-03-25")],
                           [_paid("B2", "C2", 10_000, "2026-03-20 10:00")])
    labels = default_labels(bills, alloc, AS_OF)
    assert list(labels.index) == ["C2"]
    assert labels["C2"] == 0


def test_any_unpaid_bill_in_the_window_makes_a_default():
    bills, alloc = _frames([_bill("B1", "C1", "2026-03-20"), _bill("B2", "C1", "2026-04-20")],
                           [_paid("B1", "C1", 10_000, "2026-03-18 10:00")])
    assert default_labels(bills, alloc, AS_OF).to_dict() == {"C1": 1}


def test_a_zero_bill_is_paid_by_definition():
    bills, alloc = _frames([_bill("B1", "C1", "2026-03-20", amount=0)], [])
    assert default_labels(bills, alloc, AS_OF).to_dict() == {"C1": 0}


def test_horizon_and_grace_are_parameters():
    bills, alloc = _frames([_bill("B1", "C1", "2026-03-20")], [_paid("B1", "C1", 10_000, "2026-04-05 10:00")])
    assert default_labels(bills, alloc, AS_OF, horizon_days=5).empty
    assert default_labels(bills, alloc, AS_OF, grace_days=10).to_dict() == {"C1": 1}
    assert default_labels(bills, alloc, AS_OF, grace_days=16).to_dict() == {"C1": 0}


def test_labels_are_complete_ninety_days_after_as_of():
    assert str(label_window_end(AS_OF)) == "2026-06-08"


def test_demo_labels_agree_with_a_plain_reference(demo):
    """Each window bill checked one at a time against its own allocations."""
    as_of = pd.Timestamp("2025-11-11")
    out = default_outcomes(demo.bills, demo.allocations, as_of.date())
    bills = demo.bills[(demo.bills.due_on > as_of) & (demo.bills.due_on <= as_of + pd.Timedelta(days=60))]
    sample = bills.sample(300, random_state=1)
    alloc = demo.allocations.set_index("bill_id")
    for bill in sample.itertuples():
        deadline = pd.Timestamp(bill.due_on + pd.Timedelta(days=31), tz="Asia/Shanghai")
        mine = alloc.loc[[bill.bill_id]] if bill.bill_id in alloc.index else alloc.iloc[:0]
        paid = mine.loc[mine.allocated_at < deadline, "amount_fen"].sum()
        if paid < bill.amount_fen:
            assert out.loc[bill.customer_id, "default"] == 1
    expected = bills.groupby("customer_id").size().index
    assert out.index.equals(pd.Index(sorted(expected), name="customer_id"))
