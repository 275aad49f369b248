"""Reasons: the factors that raise a customer's risk, phrased from the customer's own figures, in zh and en."""

from __future__ import annotations

import pandas as pd
import pytest

from scoring import build_features, reasons
from scoring.explain import explain
from scoring.features import FEATURES
from tests.scoring.conftest import TRAIN_AT
from tests.scoring.tiny import AS_OF, tiny_frames


@pytest.fixture(scope="module")
def tiny() -> pd.DataFrame:
    return build_features(tiny_frames(), AS_OF)


def _contributions(index, **values: float) -> pd.DataFrame:
    frame = pd.DataFrame(0.0, index=index, columns=[*FEATURES, "bias"])
    for name, v in values.items():
        frame[name] = v
    return frame


def test_the_strongest_risk_raising_factors_come_first_in_both_languages(tiny):
    contrib = _contributions(["C1"], late30_share_6=2.0, kwh_peer_change=1.0, theft_24m=0.5, arrears_fen=-3.0)
    why = reasons(contrib, tiny, top_k=3).loc["C1"]
    assert why["zh"] == ["近6期中有3期逾期超过30天缴费", "用电量相对同网格同类客户下降50%", "近两年有1次窃电记录"]
    assert why["en"] == ["3 of the last 6 bills paid over 30 days late", "consumption down 50% against its grid",
                         "electricity theft cases in the last 2 years: 1"]


def test_factors_that_lower_the_risk_are_never_given(tiny):
    contrib = _contributions(["C1", "C2"], late30_share_6=-1.0, arrears_age_days=-0.5)
    why = reasons(contrib, tiny)
    assert why["zh"].tolist() == [[], []] and why["en"].tolist() == [[], []]


def test_a_phrase_that_would_not_be_true_is_skipped(tiny):
    # C2 paid everything on time: a positive contribution from its lateness cannot be phrased as lateness
    contrib = _contributions(["C2"], late30_share_6=1.0, tenure_months=0.8, arrears_age_days=0.7,
                             class_residential=0.2)
    assert reasons(contrib, tiny).loc["C2", "en"] == ["residential customer"]


def test_money_days_and_shares_are_phrased_for_an_officer(tiny):
    contrib = _contributions(["C1"], arrears_fen=3.0, days_since_payment=2.0, security_cover=1.0)
    why = reasons(contrib, tiny).loc["C1"]
    assert why["zh"] == ["逾期电费欠款100.00元（不含违约金）", "已63天没有缴费", "押金和担保仅覆盖欠款加一期电费的50%"]
    assert why["en"] == ["100.00 yuan of bills overdue (penalties not included)", "no payment for 63 days",
                         "deposits and guarantees cover only 50% of balance plus a bill"]


def test_figures_telling_the_same_story_give_one_reason_ranked_by_their_total(tiny):
    # punctuality: 0.4 + 0.3 + 0.3 = 1.0 beats the single 0.9 of the arrears age, and speaks through its strongest
    contrib = _contributions(["C1"], late_days_max_6=0.4, late30_share_12=0.3, late_days_mean_6=0.3,
                             arrears_age_days=0.9)
    assert reasons(contrib, tiny).loc["C1", "en"] == ["one of the last 6 bills 42 days late",
                                                      "oldest unpaid bill 42 days past due"]


def test_the_riskiest_demo_customers_all_have_reasons(trained, demo):
    X = build_features(demo, TRAIN_AT)
    pd_ = pd.Series(trained.model.predict_proba(X)[:, 1], index=X.index)
    riskiest = X.loc[pd_.nlargest(100).index]
    why = explain(trained.model, riskiest, top_k=3)
    assert all(1 <= len(r) <= 3 for r in why["en"])
    assert [len(r) for r in why["zh"]] == [len(r) for r in why["en"]]


def test_the_model_names_lateness_for_a_customer_made_to_pay_late(trained, demo):
    X = build_features(demo, TRAIN_AT)
    payer = X.loc[[X.index[(X["late_share_12"] == 0) & (X["arrears_fen"] == 0)][0]]].copy()
    payer[["late30_share_6", "late30_share_12", "late_share_12", "late90_share_12"]] = 1.0
    payer[["late_days_mean_6", "late_days_max_6", "late_days_mean_12", "late_days_max_12"]] = 120.0
    payer[["arrears_age_days"]] = 120.0
    payer["arrears_fen"] = 4 * payer["avg_bill_fen_12"]
    payer["arrears_to_avg_bill"] = 4.0
    # the same story in the figures that carry the customer's state
    payer[["timing_ewm"]] = 120.0
    payer[["latest_open_days", "latest_paid_share"]] = (25.0, 0.0)     # the latest bill, issued this month, unpaid
    payer[["unpaid30_ewm"]] = 1.0
    payer[["bills_since_miss"]] = 0.0
    payer[["late_streak"]] = 6.0
    payer[["cycle_skip_ewm", "cycle_paid_ewm"]] = (1.0, 0.0)           # nothing paid in the latest months
    assert trained.model.predict_proba(payer)[0, 1] > 0.5
    why = explain(trained.model, payer).iloc[0]
    assert any("逾期" in r or "欠费" in r for r in why["zh"])
    assert any("late" in r or "overdue" in r or "past due" in r for r in why["en"])
