"""The rating engine's rules on small frames (pure: no database)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from marshmallow import ValidationError

from recovery.credit.rating.engine import RatingInputs, RatingPolicy, compute, reasons
from recovery.credit.rating.policy import RatingPolicySchema, SettlementPolicySchema

DAY = dt.date(2026, 11, 30)


def policy(**raw) -> RatingPolicy:
    return RatingPolicy.of(RatingPolicySchema().load(raw))


def inputs(customers, bills=(), paid=(), events=(), previous=None) -> RatingInputs:
    """customers: {id: opened_on}; bills: (bill_id, customer, amount_fen, due_on);
    paid: (bill_id, paid_fen, last_paid_on); events: (customer, kind, occurred_on); previous: {id: grade}."""
    c = pd.DataFrame({"customer_id": list(customers), "opened_on": pd.to_datetime(list(customers.values()))})
    b = pd.DataFrame(list(bills), columns=["bill_id", "customer_id", "amount_fen", "due_on"])
    b["due_on"] = pd.to_datetime(b["due_on"])
    b["amount_fen"] = b["amount_fen"].astype("int64")
    pd_ = pd.DataFrame(list(paid), columns=["bill_id", "paid_fen", "last_paid_on"])
    pd_["last_paid_on"] = pd.to_datetime(pd_["last_paid_on"])
    pd_["paid_fen"] = pd_["paid_fen"].astype("int64")
    e = pd.DataFrame(list(events), columns=["customer_id", "kind", "occurred_on"])
    e["occurred_on"] = pd.to_datetime(e["occurred_on"])
    prev = pd.DataFrame({"grade": pd.Series(previous or {}, dtype=object)})
    prev.index.name = "customer_id"
    return RatingInputs(customers=c, bills=b, paid=pd_, events=e, previous=prev)


OLD = "2015-01-01"


def one(result, cid=1):
    return result.ratings.loc[cid]


def test_established_customer_without_history_starts_at_a_with_full_points():
    r = one(compute(inputs({1: OLD}), DAY, policy()))
    assert (r["points"], r["grade"], r["cash_only"]) == (100, "A", False)


def test_new_customer_starts_at_b():
    r = one(compute(inputs({1: "2026-06-01"}), DAY, policy()))
    assert (r["points"], r["grade"]) == (80, "B")


def test_new_customer_reaches_full_start_after_the_configured_months():
    r = one(compute(inputs({1: "2025-11-29"}), DAY, policy()))
    assert r["points"] == 100


def test_grade_bands_a_from_90_b_from_70_c_below():
    p = policy()
    assert [p.grade_of(x) for x in (100, 90, 89, 70, 69, 0)] == ["A", "A", "B", "B", "C", "C"]


def test_letter_preset_gives_aaa_aa_a_b_c():
    p = policy(preset="letters")
    assert [p.grade_of(x) for x in (97, 96, 93, 92, 90, 70, 69)] == ["AAA", "AA", "AA", "A", "A", "B", "C"]


def test_own_bands_replace_the_preset():
    p = policy(bands=[{"grade": "一级", "min": 80}, {"grade": "二级", "min": 0}],
               rules=[{"event": "theft", "within_months": 24, "cap": "二级", "block_upgrade": True}])
    assert p.grades == ["一级", "二级"] and p.grade_of(79) == "二级"


def test_late_payment_costs_points_by_days_late():
    bills = [(1, 1, 10000, "2026-09-01"), (2, 1, 10000, "2026-10-01"), (3, 1, 10000, "2026-11-01")]
    paid = [(1, 10000, "2026-09-03"), (2, 10000, "2026-10-15"), (3, 10000, "2026-11-25")]  # 2, 14, 24 days late
    res = compute(inputs({1: OLD}, bills, paid), DAY, policy())
    assert one(res)["points"] == 100 - 2 - 3 - 5
    assert sorted(res.demerits["days_late"].tolist()) == [2, 14, 24]


def test_payment_on_the_due_date_is_on_time():
    res = compute(inputs({1: OLD}, [(1, 1, 10000, "2026-11-01")], [(1, 10000, "2026-11-01")]), DAY, policy())
    assert one(res)["points"] == 100


def test_partly_paid_bill_is_not_paid_on_time():
    res = compute(inputs({1: OLD}, [(1, 1, 10000, "2026-11-20")], [(1, 5000, "2026-11-10")]), DAY, policy())
    assert one(res)["points"] == 100  # not yet missed, and not yet (fully) paid late
    later = compute(inputs({1: OLD}, [(1, 1, 10000, "2026-10-20")], [(1, 5000, "2026-10-10")]), DAY, policy())
    assert one(later)["points"] == 90  # still not fully paid 30+ days after due: a missed bill


def test_missed_bill_is_one_demerit_instead_of_a_late_payment():
    # Due 2026-08-01, paid 2026-10-01: 61 days late, so missed at 30 days; no late demerit besides.
    res = compute(inputs({1: OLD}, [(1, 1, 10000, "2026-08-01")], [(1, 10000, "2026-10-01")]), DAY, policy())
    assert res.demerits["kind"].tolist() == ["missed_bill"]
    assert one(res)["points"] == 90


def test_unpaid_missed_bill_keeps_counting_until_paid_and_a_lifetime_after():
    bills = [(1, 1, 10000, "2024-01-20")]
    assert one(compute(inputs({1: OLD}, bills), DAY, policy()))["points"] == 90  # three years on, still unpaid
    paid_late = [(1, 10000, "2026-02-01")]
    assert one(compute(inputs({1: OLD}, bills, paid_late), DAY, policy()))["points"] == 90  # paid 10 months ago
    paid_long_ago = [(1, 10000, "2025-10-01")]
    assert one(compute(inputs({1: OLD}, bills, paid_long_ago), DAY, policy()))["points"] == 100


def test_demerit_expires_after_its_lifetime_in_months():
    ev = [(1, "returned_payment", "2025-11-30")]
    assert one(compute(inputs({1: OLD}, events=ev), DAY, policy()))["points"] == 100  # exactly 12 months: expired
    ev = [(1, "returned_payment", "2025-12-01")]
    assert one(compute(inputs({1: OLD}, events=ev), DAY, policy()))["points"] == 92


def test_demerit_points_and_lifetimes_are_configuration():
    ev = [(1, "violation", "2025-06-01")]
    assert one(compute(inputs({1: OLD}, events=ev), DAY, policy()))["points"] == 90  # 24 months by default
    p = policy(demerits={"violation": {"points": 25, "lifetime_months": 6}})
    assert one(compute(inputs({1: OLD}, events=ev), DAY, p))["points"] == 100
    ev = [(1, "violation", "2026-10-01")]
    assert one(compute(inputs({1: OLD}, events=ev), DAY, p))["points"] == 75


def test_every_event_kind_costs_its_configured_points():
    ev = [(1, "returned_payment", "2026-10-01"), (2, "broken_pay_plan", "2026-10-01"), (3, "violation", "2026-10-01"),
          (4, "disconnection", "2026-10-01"), (5, "reconnection", "2026-10-01")]
    res = compute(inputs({i: OLD for i in range(1, 6)}, events=ev), DAY, policy())
    assert res.ratings["points"].tolist() == [92, 90, 90, 95, 100]


def test_points_are_clipped_to_the_scale():
    ev = [(1, "theft", "2026-01-01"), (1, "violation", "2026-02-01")] + \
         [(1, "disconnection", f"2026-{m:02d}-05") for m in range(1, 12)] + \
         [(1, "returned_payment", f"2026-{m:02d}-07") for m in range(1, 12)]
    assert one(compute(inputs({1: OLD}, events=ev), DAY, policy()))["points"] == 0


def test_theft_forces_grade_c_whatever_the_points():
    res = compute(inputs({1: OLD}, events=[(1, "theft", "2026-01-10")]), DAY, policy(demerits={
        "theft": {"points": 0, "lifetime_months": 24}}))
    r = one(res)
    assert (r["points"], r["points_grade"], r["grade"]) == (100, "A", "C")
    assert r["upgrade_blocked"]


def test_theft_blocks_upgrades_for_two_years():
    p = policy(demerits={"theft": {"points": 30, "lifetime_months": 12}})
    ev = [(1, "theft", "2025-03-01")]  # the demerit has expired, the two-year rule has not
    r = one(compute(inputs({1: OLD}, events=ev, previous={1: "C"}), DAY, p))
    assert (r["points"], r["grade"]) == (100, "C")
    # Two years after the theft the customer may rise again.
    r = one(compute(inputs({1: OLD}, events=[(1, "theft", "2024-11-29")], previous={1: "C"}), DAY, p))
    assert r["grade"] == "A" and not r["upgrade_blocked"]


def test_arrears_in_three_months_of_the_current_year_block_upgrades():
    # Three bills each unpaid at a month end this year (Feb, Apr, Jun), paid within 30 days: small demerits.
    bills = [(1, 1, 1000, "2026-02-20"), (2, 1, 1000, "2026-04-20"), (3, 1, 1000, "2026-06-20")]
    paid = [(1, 1000, "2026-03-05"), (2, 1000, "2026-05-05"), (3, 1000, "2026-07-05")]
    res = compute(inputs({1: OLD}, bills, paid, previous={1: "B"}), DAY, policy())
    r = one(res)
    assert r["points_grade"] == "A" and r["grade"] == "B" and r["upgrade_blocked"]
    rule = res.rules.loc[res.rules["rule"] == "arrears_months_this_year"].iloc[0]
    assert rule["months"] == 3


def test_arrears_in_two_months_do_not_block_upgrades():
    bills = [(1, 1, 1000, "2026-02-20"), (2, 1, 1000, "2026-04-20")]
    paid = [(1, 1000, "2026-03-05"), (2, 1000, "2026-05-05")]
    r = one(compute(inputs({1: OLD}, bills, paid, previous={1: "B"}), DAY, policy()))
    assert r["grade"] == "A" and not r["upgrade_blocked"]


def test_arrears_of_last_year_do_not_count_this_year():
    bills = [(1, 1, 1000, "2025-08-20"), (2, 1, 1000, "2025-09-20"), (3, 1, 1000, "2025-10-20")]
    paid = [(1, 1000, "2025-09-05"), (2, 1000, "2025-10-05"), (3, 1000, "2025-11-05")]
    r = one(compute(inputs({1: OLD}, bills, paid, previous={1: "B"}), DAY, policy()))
    assert not r["upgrade_blocked"]


def test_upgrade_block_never_lowers_below_what_the_points_give():
    bills = [(1, 1, 1000, "2026-02-20"), (2, 1, 1000, "2026-04-20"), (3, 1, 1000, "2026-06-20")]
    r = one(compute(inputs({1: OLD}, bills, previous={1: "A"}), DAY, policy()))  # never paid: three missed
    assert r["grade"] == "B" and r["points"] == 70


def test_hard_rules_are_configuration():
    p = policy(rules=[{"event": "violation", "within_months": 12, "cap": "B"}])
    r = one(compute(inputs({1: OLD}, events=[(1, "violation", "2026-10-01")]), DAY, p))
    assert (r["points"], r["grade"], r["upgrade_blocked"]) == (90, "B", False)
    r = one(compute(inputs({1: OLD}, events=[(1, "theft", "2026-10-01")]), DAY, p))
    assert (r["points"], r["grade"]) == (70, "B")  # the points alone: the theft rule was replaced
    p = policy(rules=[], arrears_block_months=0, demerits={"theft": {"points": 5, "lifetime_months": 24}})
    assert one(compute(inputs({1: OLD}, events=[(1, "theft", "2026-10-01")]), DAY, p))["grade"] == "A"


def test_cash_only_after_the_configured_number_of_returned_payments():
    two = [(1, "returned_payment", "2026-03-01"), (1, "returned_payment", "2026-09-01")]
    assert one(compute(inputs({1: OLD}, events=two), DAY, policy()))["cash_only"]
    assert not one(compute(inputs({1: OLD}, events=two[:1]), DAY, policy()))["cash_only"]
    assert not one(compute(inputs({1: OLD}, events=two), DAY, policy(cash_only_returns=3)))["cash_only"]
    old = [(1, "returned_payment", "2025-03-01"), (1, "returned_payment", "2025-09-01")]
    assert not one(compute(inputs({1: OLD}, events=old), DAY, policy()))["cash_only"]


def test_events_after_the_rating_day_are_not_seen():
    r = one(compute(inputs({1: OLD}, events=[(1, "theft", "2026-12-01")]), DAY, policy()))
    assert r["grade"] == "A"


def test_reasons_list_each_demerit_with_kind_date_points_expiry_and_each_rule():
    ev = [(1, "theft", "2026-01-10")]
    bills = [(7, 1, 10000, "2026-11-01")]
    paid = [(7, 10000, "2026-11-06")]
    res = compute(inputs({1: OLD}, bills, paid, ev), DAY, policy())
    doc = json.loads(reasons(res, pd.Index([1])).loc[1])
    assert doc["start"] == 100
    assert doc["demerits"] == [
        {"kind": "theft", "on": "2026-01-10", "points": -30, "expires_on": "2028-01-10"},
        {"kind": "late_payment", "on": "2026-11-06", "points": -2, "expires_on": "2027-11-06", "days_late": 5,
         "bill": 7},
    ]
    assert doc["rules"] == [{"rule": "theft_within_24m", "cap": "C", "blocks_upgrade": True, "event_on": "2026-01-10",
                             "until": "2028-01-10"}]


def test_a_bad_policy_is_refused_naming_the_field():
    with pytest.raises(ValidationError, match="cap"):
        RatingPolicySchema().load({"rules": [{"event": "theft", "within_months": 24, "cap": "D"}]})
    with pytest.raises(ValidationError):
        RatingPolicySchema().load({"start": 120})
    with pytest.raises(ValidationError, match="interim"):
        SettlementPolicySchema().load({"interim_days": [15]})
