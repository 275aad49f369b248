"""The evaluation utility: its own behaviour model, and true probabilities of default that hold up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from scoring import default_outcomes, synthetic
from tests.scoring.demo import allocate

AS_OF = "2025-09-12"     # 24 months from 2024-01: every outcome of this window is complete by 2025-12-31


@pytest.fixture(scope="module")
def utility():
    return synthetic.generate(customers=2000, months=24, seed=3)


@pytest.fixture(scope="module")
def outcomes(utility):
    return default_outcomes(utility.bills, allocate(utility.bills, utility.payments), AS_OF)["default"]


@pytest.fixture(scope="module")
def truth(utility):
    return synthetic.true_pd(utility, AS_OF, replicates=200)


def test_the_utility_has_the_behaviour_it_promises(utility):
    b, p = utility.bills, utility.payments
    assert b.groupby("customer_id")["period"].count().max() == 23      # the last month is not billed yet
    assert set(p["channel"]) >= {"direct_debit", "bank"}
    assert (utility.events["kind"] == "returned_payment").sum() > 20
    # movers: a customer whose bills stop before the end
    last = pd.to_datetime(b.groupby("customer_id")["issued_on"].max())
    assert 0.02 < (last < last.max()).mean() < 0.3
    # seasonal consumption: residential summer bills above spring ones
    res = b.loc[b["customer_id"].isin(utility.customers.loc[utility.customers["customer_class"] == "residential",
                                                                 "customer_id"])]
    by_month = res.groupby(res["period"].str[5:])["kwh"].mean()
    assert by_month["08"] > 1.3 * by_month["05"]
    # part payments exist, and money stays whole fen
    assert p["amount_fen"].dtype == np.int64 and b["amount_fen"].dtype == np.int64


def test_true_probabilities_rank_the_outcomes_far_better_than_chance(outcomes, truth):
    p = truth.reindex(outcomes.index)
    assert not p.isna().any() and p.between(0, 1).all()
    assert 0.04 < outcomes.mean() < 0.15
    assert roc_auc_score(outcomes, p) > 0.85                           # measured 0.90


def test_without_shared_district_shocks_the_true_probabilities_add_up_to_the_defaults(monkeypatch):
    # District shocks hit many customers at once, so one world's default rate strays from the truth's mean;
    # with them off, customers are independent and the sum of probabilities must meet the count of defaults.
    monkeypatch.setattr(synthetic, "DISTRICT_WEIGHT", 0.0)
    world = synthetic.generate(customers=3000, months=24, seed=5)
    y = default_outcomes(world.bills, allocate(world.bills, world.payments), AS_OF)["default"]
    p = synthetic.true_pd(world, AS_OF, replicates=200).reindex(y.index)
    sd = np.sqrt((p * (1 - p)).sum())
    assert abs(y.sum() - p.sum()) < 3 * sd, (y.sum(), p.sum(), sd)


def test_true_probabilities_read_nothing_after_the_as_of_date(truth):
    # the same world simulated six months further: the truth at the as-of date is the same
    longer = synthetic.generate(customers=2000, months=30, seed=3)
    pd.testing.assert_series_equal(synthetic.true_pd(longer, AS_OF, replicates=200), truth)


def test_a_customer_who_has_not_paid_since_the_bill_is_likelier_to_default_than_one_who_paid(utility, truth):
    w = utility.world
    t0 = int((np.datetime64(AS_OF, "M") - utility.start).astype(np.int64))
    day = int(np.datetime64(AS_OF, "D").astype(np.int64))
    paid = (w["pay_day"][:, t0] >= 0) & (w["pay_day"][:, t0] <= day) & (w["paid"][:, t0] >= w["owed"][:, t0])
    unpaid = (w["owed"][:, t0] > 0) & (w["pay_day"][:, t0] < 0) & ~w["debit"]
    # at equal latent stress, the open bill moves the truth: compare within stress bands
    s = w["s"][:, t0]
    for lo, hi in ((-1.0, 0.0), (0.0, 1.0)):
        band = (s >= lo) & (s < hi)
        assert truth.to_numpy()[band & unpaid].mean() > 2 * truth.to_numpy()[band & paid].mean()
