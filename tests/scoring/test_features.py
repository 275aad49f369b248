"""Features: known at the as-of date and nothing later, worked out by hand on a tiny grid, in a fixed order."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from scoring.features import FEATURES, SPEC, account_positions, build_features, prepare
from scoring.frames import Frames
from tests.scoring.conftest import TRAIN_AT
from tests.scoring.demo import allocate
from tests.scoring.tiny import AS_OF, tiny_frames


def truncate(frames: Frames, as_of: dt.date) -> Frames:
    """What the database held at the close of as_of: everything later deleted, allocations recomputed."""
    day = pd.Timestamp(as_of)
    end = (day + pd.Timedelta(days=1)).tz_localize("Asia/Shanghai").tz_convert("UTC")
    bills = frames.bills[frames.bills.issued_on <= day]
    payments = frames.payments[frames.payments.paid_at < end]
    return Frames(customers=frames.customers[frames.customers.opened_on <= day], bills=bills, payments=payments,
                  allocations=allocate(bills, payments), events=frames.events[frames.events.occurred_on <= day])


@pytest.fixture(scope="module")
def tiny() -> pd.DataFrame:
    return build_features(tiny_frames(), AS_OF)


def test_features_come_in_the_documented_order_with_a_reason_for_each(demo):
    X = build_features(demo, dt.date(2025, 11, 11))
    assert tuple(X.columns) == FEATURES
    assert len(set(FEATURES)) == len(FEATURES)
    assert all(f.doc and (f.zh is None) == (f.en is None) for f in SPEC)
    assert (X.dtypes == np.float64).all()
    assert X.index.name == "customer_id" and X.index.is_unique


@pytest.mark.parametrize("as_of", [dt.date(2025, 9, 4), dt.date(2025, 11, 11), dt.date(2026, 2, 9)])
def test_no_leakage_deleting_everything_after_as_of_changes_no_feature(demo, as_of):
    full = build_features(demo, as_of)
    known = build_features(truncate(demo, as_of), as_of)
    pd.testing.assert_frame_equal(full, known)


def test_future_rows_in_any_frame_change_nothing_at_an_earlier_as_of(demo):
    as_of = dt.date(2025, 11, 11)
    early = truncate(demo, as_of)
    assert len(early.bills) < len(demo.bills) and len(early.payments) < len(demo.payments)
    pd.testing.assert_frame_equal(build_features(early, as_of), build_features(demo, as_of))


def test_customers_opened_after_as_of_are_not_scored(tiny):
    assert list(tiny.index) == ["C1", "C2", "C3"]


def test_punctuality_of_the_latest_bills(tiny):
    c1 = tiny.loc["C1"]
    # last six bills (3..8): 0, 0, 40, 40, 10 days late and bill 8 unpaid 42 days after its due date
    assert c1["late_days_mean_6"] == pytest.approx((40 + 40 + 10 + 42) / 6)
    assert c1["late_days_max_6"] == 42
    assert c1["late30_share_6"] == pytest.approx(3 / 6)
    assert c1["late_share_12"] == pytest.approx(4 / 8)
    assert c1["late_days_trend"] == pytest.approx((40 + 10 + 42) / 3 - 40 / 3)
    assert c1["late30_count_all"] == 3
    assert c1["bills_known"] == 8
    assert tiny.loc["C2", "late_share_12"] == 0


def test_arrears_balance_and_payments(tiny):
    c1 = tiny.loc["C1"]
    assert c1["arrears_fen"] == 10_000
    assert c1["arrears_age_days"] == 42
    assert c1["arrears_to_avg_bill"] == pytest.approx(1.0)
    assert c1["balance_fen"] == 10_000
    assert c1["days_since_payment"] == (pd.Timestamp(AS_OF) - pd.Timestamp("2025-08-30")).days
    assert c1["debit_share_12"] == 0
    assert tiny.loc["C2", "arrears_fen"] == 0 and tiny.loc["C2", "arrears_age_days"] == 0


def test_events_count_only_up_to_as_of(tiny):
    assert tiny.loc["C1", ["returned_12m", "theft_24m"]].tolist() == [1, 1]
    assert tiny.loc["C2", "violation_24m"] == 0          # it happens the day after as-of


def test_consumption_against_itself_and_its_peers(tiny):
    c1 = tiny.loc["C1"]
    assert c1["kwh_mean_3"] == 100
    assert c1["kwh_trend_3v3"] == pytest.approx(0.5)
    assert c1["kwh_peer_ratio"] == pytest.approx(0.5)    # the class-and-grid median stays at 200
    assert c1["kwh_peer_change"] == pytest.approx(0.5)
    assert np.isnan(c1["kwh_yoy"])                       # no bills a year earlier
    assert tiny.loc["C2", "kwh_peer_ratio"] == pytest.approx(1.0)


def test_grid_stress_is_the_share_of_the_grid_paying_late(tiny):
    # bills due in the last 3 months: C1 late on both, C2 and C3 on time; the 3 months before: C1 late as well
    assert tiny["grid_late_share_3m"].tolist() == pytest.approx([1 / 3] * 3)
    assert tiny["grid_late_share_change"].tolist() == pytest.approx([0.0] * 3)


def test_security_against_the_balance_and_absent_security_is_zero(tiny):
    assert tiny.loc["C1", "security_cover"] == pytest.approx(10_000 / (10_000 + 10_000))
    assert build_features(tiny_frames(security=False), AS_OF).loc["C1", "security_cover"] == 0


def test_class_is_one_hot_and_tenure_in_months(tiny):
    assert tiny.loc["C1", "class_residential"] == 1 and tiny.loc["C1", "class_industrial"] == 0
    assert tiny.loc["C1", "tenure_months"] == pytest.approx((pd.Timestamp(AS_OF) - pd.Timestamp("2020-01-01")).days
                                                            / 30.4375)


def test_account_positions_are_integer_fen():
    positions = account_positions(tiny_frames(), AS_OF)
    assert positions.loc["C1"].to_dict() == {"balance_fen": 10_000, "next_bill_fen": 10_000, "deposit_fen": 5_000,
                                             "guarantee_fen": 5_000}
    assert (positions.dtypes == np.int64).all()



def test_security_counts_only_while_it_is_held():
    frames = tiny_frames()
    dated = frames.security.assign(held_on=pd.to_datetime(["2025-12-01"]), released_on=pd.NaT)
    later = dataclasses.replace(frames, security=dated)
    assert build_features(later, AS_OF).loc["C1", "security_cover"] == 0
    released = dated.assign(held_on=pd.to_datetime(["2025-01-01"]), released_on=pd.to_datetime(["2025-10-01"]))
    assert build_features(dataclasses.replace(frames, security=released), AS_OF).loc["C1", "security_cover"] == 0
    held = released.assign(released_on=pd.to_datetime(["2026-01-01"]))
    assert build_features(dataclasses.replace(frames, security=held), AS_OF).loc["C1", "security_cover"] == 0.5


def test_state_features_weight_the_latest_bills_and_know_the_open_one(tiny):
    # C1, latest bill first: still open 42 days past due, then 10, 40, 40 days late, then four paid 5 days early
    weights = 0.5 ** (np.arange(8) / 3)
    days = np.array([42, 10, 40, 40, -5, -5, -5, -5])
    c1, c2 = tiny.loc["C1"], tiny.loc["C2"]
    assert c1["timing_ewm"] == pytest.approx((weights * days).sum() / weights.sum())
    assert c2["timing_ewm"] == pytest.approx(-3.0)
    assert c1["unpaid30_ewm"] == pytest.approx(weights[[0, 2, 3]].sum() / weights.sum())
    assert (c1["bills_since_miss"], c2["bills_since_miss"]) == (0, 8)      # C2 never missed: its whole record
    assert (c1["late_streak"], c2["late_streak"]) == (4, 0)
    # C1's latest bill (issued 2025-09-05) is open 57 days on; C2 paid its in full 12 days after the issue
    assert (c1["latest_open_days"], c1["latest_paid_share"]) == (57, 0.0) and np.isnan(c1["latest_paid_days"])
    assert (c2["latest_open_days"], c2["latest_paid_share"], c2["latest_paid_days"]) == (0, 1.0, 12)
    # of G1's three customers with a bill due 30-120 days ago, C1 left one unpaid 30 days (the 40-day one)
    assert tiny["grid_default_rate"].tolist() == pytest.approx([1 / 3] * 3)
    assert c1["returned_3m"] == 0 and c1["returned_12m"] == 1                # returned on 2025-07-20


def test_timing_leaves_out_bills_a_direct_debit_settled():
    frames = tiny_frames()
    payments = frames.payments.copy()
    payments.loc[payments["payment_id"] == "PC15", "channel"] = "direct_debit"    # the 40-days-late bill 6
    c1 = build_features(dataclasses.replace(frames, payments=payments), AS_OF).loc["C1"]
    weights = 0.5 ** (np.array([0, 1, 3, 4, 5, 6, 7]) / 3)
    days = np.array([42, 10, 40, -5, -5, -5, -5])
    assert c1["timing_ewm"] == pytest.approx((weights * days).sum() / weights.sum())
    assert c1["late_streak"] == 4                                              # lateness itself still counts


def test_frames_prepared_once_cut_at_any_date_give_the_same_features(demo):
    prepared = prepare(demo, "Asia/Shanghai")
    for as_of in (TRAIN_AT, TRAIN_AT - dt.timedelta(days=200)):
        pd.testing.assert_frame_equal(build_features(prepared, as_of), build_features(demo, as_of))
    with pytest.raises(ValueError, match="prepared in Asia/Shanghai"):
        build_features(prepared, TRAIN_AT, tz="UTC")


def test_billing_cycles_read_what_was_paid_each_month_and_when_the_customer_chose_to(tiny):
    # C1's cycles begin on the 5th, Feb to Aug (the Sep one is still open). It paid 10 days after the issue four
    # times, nothing in June's cycle, 100 of the 200 yuan owed on Jul 30 (25 days in), then 200 from Aug 29 (24 days
    # in). Latest first: delays 24, 25, -, 10, 10, 10, 10; shares paid 1, 0.5, 0, 1, 1, 1, 1.
    w = 0.5 ** (np.arange(7) / 3)
    c1, c2 = tiny.loc["C1"], tiny.loc["C2"]
    delays, has = np.array([24, 25, 0, 10, 10, 10, 10]), np.array([1, 1, 0, 1, 1, 1, 1])
    assert c1["cycle_delay_ewm"] == pytest.approx((w * has * delays).sum() / (w * has).sum())
    assert c1["cycle_delay_mean"] == pytest.approx(89 / 6)
    assert c1["cycle_skip_share"] == pytest.approx(1 / 7) and c1["cycle_skip_ewm"] == pytest.approx(w[2] / w.sum())
    assert c1["cycle_paid_mean"] == pytest.approx(5.5 / 7)
    assert c1["cycle_paid_ewm"] == pytest.approx((w * [1, 0.5, 0, 1, 1, 1, 1]).sum() / w.sum())
    # C2 paid every bill 12 days after its issue
    assert (c2["cycle_delay_ewm"], c2["cycle_delay_mean"], c2["cycle_skip_ewm"], c2["cycle_paid_mean"]) == (
        pytest.approx(12), pytest.approx(12), 0, 1)
    # G1's latest cycles: C1 24 days, C2 and C3 12 (mean 16) against 257 delay-days over 20 cycles ever
    assert tiny["grid_cycle_delay_change"].tolist() == pytest.approx([16 - 257 / 20] * 3)
    assert tiny["grid_cycle_skip"].tolist() == [0.0] * 3 and tiny["grid_cycle_paid"].tolist() == [1.0] * 3
    # a direct debit is a payment, but its day is the bank's: Aug 29 by debit leaves Aug 30 (25 days) as the delay
    frames = tiny_frames()
    payments = frames.payments.assign(channel=np.where(frames.payments["payment_id"] == "PC15", "direct_debit",
                                                       frames.payments["channel"]))
    c1 = build_features(dataclasses.replace(frames, payments=payments), AS_OF).loc["C1"]
    assert c1["cycle_delay_mean"] == pytest.approx(90 / 6) and c1["cycle_skip_share"] == pytest.approx(1 / 7)


def test_the_balance_is_the_ledgers_with_penalties_and_write_offs_known_at_the_as_of_date():
    ledger = pd.DataFrame({"customer_id": ["C1", "C1", "C2"], "kind": ["penalty", "write_off", "penalty"],
                           "amount_fen": [1_234, -5_000, 300],
                           "effective_on": pd.to_datetime(["2025-10-01", "2025-11-02", "2025-10-15"])})
    frames = dataclasses.replace(tiny_frames(), ledger=ledger)
    positions = account_positions(frames, AS_OF)
    assert positions["balance_fen"].to_dict() == {"C1": 10_000 + 1_234, "C2": 300, "C3": 0}
    features = build_features(frames, AS_OF)
    assert features.loc["C1", "balance_fen"] == 11_234 and features.loc["C1", "arrears_fen"] == 10_000
