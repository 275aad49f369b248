"""The synthetic utility: contract-shaped frames, valid identities, exact money, and learnable trouble."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from stdnum.cn import ric, uscc

from recovery.demo.generator import (
    CLASSES,
    EVENT_KINDS,
    DemoChunk,
    describe,
    flat_amount_fen,
    generate,
    residential_amount_fen,
    write_csv,
)
from recovery.demo.idnumbers import USCC_ALPHABET

AS_OF = dt.date(2026, 5, 10)
ARGS = {"customers": 4000, "months": 24, "seed": 11, "as_of": AS_OF, "chunk_size": 1500}

COLUMNS = {
    "customers": {"customer_id": "object", "name": "object", "customer_class": "object", "grid": "object",
                  "id_number": "object", "registered_capital_fen": "Int64", "opened_on": "datetime64[ns]",
                  "phone": "object"},
    "bills": {"bill_id": "object", "customer_id": "object", "period": "object", "kwh": "float64",
              "amount_fen": "int64", "issued_on": "datetime64[ns]", "due_on": "datetime64[ns]"},
    "payments": {"payment_id": "object", "customer_id": "object", "channel": "object", "channel_account": "object",
                 "channel_ref": "object", "amount_fen": "int64", "paid_at": "datetime64[ns, UTC]"},
    "events": {"customer_id": "object", "kind": "object", "occurred_on": "datetime64[ns]", "amount_fen": "Int64"},
}


@pytest.fixture(scope="module")
def chunks() -> list[DemoChunk]:
    return list(generate(**ARGS))


@pytest.fixture(scope="module")
def utility(chunks) -> dict[str, pd.DataFrame]:
    return {name: pd.concat([getattr(c, name) for c in chunks], ignore_index=True) for name in COLUMNS}


@pytest.fixture(scope="module")
def larger() -> DemoChunk:
    """Enough customers for the rarer stories (theft, property managers) to show in aggregate."""
    return next(generate(customers=12_000, months=24, seed=5, as_of=AS_OF, chunk_size=12_000))


def _local(paid_at: pd.Series) -> pd.Series:
    return paid_at.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)


def test_frames_have_exactly_the_contract_columns_and_dtypes(chunks):
    for chunk in chunks:
        for name, columns in COLUMNS.items():
            frame = getattr(chunk, name)
            assert list(frame.columns) == list(columns), name
            assert {c: str(t) for c, t in frame.dtypes.items()} == columns, name


def test_text_columns_hold_str_or_none(utility):
    c = utility["customers"]
    for column in ("customer_id", "name", "customer_class", "grid"):
        assert c[column].map(type).eq(str).all(), column
    for column in ("id_number", "phone"):
        assert c[column].map(lambda v: v is None or isinstance(v, str)).all(), column
        assert c[column].isna().any() and c[column].notna().mean() > 0.85, column
    assert c["phone"].dropna().str.fullmatch(r"1[3-9]\d{9}").all()
    assert c["customer_id"].str.fullmatch(r"C\d{7}").all()
    assert c["grid"].str.fullmatch(r"G\d{3}").all()


def test_chunks_hold_at_most_chunk_size_customers_numbered_globally(chunks, utility):
    assert [len(c.customers) for c in chunks] == [1500, 1500, 1000]
    expected = [f"C{i:07d}" for i in range(1, ARGS["customers"] + 1)]
    assert utility["customers"]["customer_id"].tolist() == expected
    for chunk in chunks:
        own = set(chunk.customers["customer_id"])
        for name in ("bills", "payments", "events"):
            assert set(getattr(chunk, name)["customer_id"]) <= own


def test_same_arguments_give_identical_frames_and_another_seed_does_not():
    first = list(generate(customers=600, months=12, seed=3, as_of=AS_OF, chunk_size=250))
    again = list(generate(customers=600, months=12, seed=3, as_of=AS_OF, chunk_size=250))
    other = list(generate(customers=600, months=12, seed=4, as_of=AS_OF, chunk_size=250))
    for a, b in zip(first, again, strict=True):
        for name in COLUMNS:
            pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert not first[0].bills["amount_fen"].equals(other[0].bills["amount_fen"])


def test_nothing_is_dated_after_as_of(utility):
    as_of = pd.Timestamp(AS_OF)
    assert utility["customers"]["opened_on"].max() <= as_of
    assert utility["bills"]["issued_on"].max() <= as_of
    assert _local(utility["payments"]["paid_at"]).dt.normalize().max() <= as_of
    assert utility["events"]["occurred_on"].max() <= as_of
    # the latest period's bill is out but not yet due
    assert utility["bills"]["due_on"].max() > as_of


def test_periods_are_the_months_ending_with_the_latest_issued_bill(utility):
    scenario = describe(customers=ARGS["customers"], months=24, seed=ARGS["seed"], as_of=AS_OF)
    assert scenario.periods[0] == "2024-05" and scenario.periods[-1] == "2026-04"
    assert len(scenario.periods) == 24
    assert sorted(utility["bills"]["period"].unique()) == list(scenario.periods)
    # on the 2nd of May the April bills are not issued yet
    assert describe(months=3, as_of=dt.date(2026, 5, 2)).periods == ("2026-01", "2026-02", "2026-03")


def test_bills_are_issued_after_their_period_and_due_later(utility):
    b = utility["bills"]
    period_end = pd.to_datetime(b["period"] + "-01") + pd.offsets.MonthEnd(0)
    issue_lag = (b["issued_on"] - period_end).dt.days
    assert issue_lag.between(1, 7).all()
    term = (b["due_on"] - b["issued_on"]).dt.days
    assert set(term.unique()) <= {10, 15, 18, 20, 30}
    assert (b["issued_on"] == b["issued_on"].dt.normalize()).all()


def test_customers_opened_during_the_window_are_billed_from_their_opening_month(utility):
    c, b = utility["customers"], utility["bills"]
    first_period = b.groupby("customer_id")["period"].min()
    late = c[c["opened_on"] >= pd.Timestamp("2024-05-01")].set_index("customer_id")
    assert len(late) > 50
    billed = late.index.intersection(first_period.index)
    assert (first_period[billed] == late.loc[billed, "opened_on"].dt.strftime("%Y-%m")).all()
    early = c.loc[c["opened_on"] < pd.Timestamp("2024-05-01"), "customer_id"]
    assert (first_period[early] == "2024-05").all()


def test_all_identifiers_are_unique(utility):
    assert utility["customers"]["customer_id"].is_unique
    assert utility["bills"]["bill_id"].is_unique
    assert not utility["bills"].duplicated(["customer_id", "period"]).any()
    assert utility["payments"]["payment_id"].is_unique
    assert not utility["events"].duplicated(["customer_id", "kind", "occurred_on"]).any()


def test_channel_ref_is_unique_within_channel_and_account(utility):
    p = utility["payments"]
    assert not p.duplicated(["channel", "channel_account", "channel_ref"]).any()
    assert set(p["channel"]) == {"bank", "direct_debit", "agent", "card", "kiosk", "counter"}
    accounts = p.groupby("channel")["channel_account"]
    assert accounts.apply(lambda s: s.str.fullmatch(r"ICBC|CCB|ABC|BOC|BOCOM|PSBC|CMB").all())[["bank",
                                                                                                   "direct_debit"]].all()
    assert accounts.get_group("agent").str.fullmatch(r"AG\d{2,}").all()
    assert accounts.get_group("kiosk").str.fullmatch(r"K\d{3,}").all()
    assert accounts.get_group("counter").str.fullmatch(r"CS\d{2,}").all()
    assert accounts.get_group("card").str.fullmatch(r"CB20\d\d[A-D]").all()


def _org_code_is_valid(code: str) -> bool:
    """GB 11714 check character of a 9-character organisation code."""
    values = [int(ch, 36) for ch in code[:8]]
    c = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    return code[8] == {10: "X", 11: "0"}.get(c, str(c))


def test_every_identity_number_is_valid(utility):
    c = utility["customers"].dropna(subset=["id_number"])
    residents = c.loc[c["customer_class"] == "residential", "id_number"]
    organisations = c.loc[c["customer_class"].isin(["commercial", "industrial", "property_mgmt", "government"]),
                          "id_number"]
    farmers = c.loc[c["customer_class"] == "agricultural", "id_number"]
    assert len(residents) > 3000 and len(organisations) > 400 and len(farmers) > 50
    assert all(ric.is_valid(v) for v in residents)
    assert all(uscc.is_valid(v) for v in organisations)
    assert all(_org_code_is_valid(v[8:17]) for v in organisations)
    assert organisations.map(lambda v: set(v) <= set(USCC_ALPHABET)).all()
    # farmers are people with a resident ID, cooperatives have a credit code
    farmer_kind = farmers.map(lambda v: "ric" if ric.is_valid(v) else "uscc" if uscc.is_valid(v) else "invalid")
    assert set(farmer_kind) == {"ric", "uscc"}


def test_registered_capital_is_integer_fen_for_enterprises_only(utility):
    c = utility["customers"]
    residential = c[c["customer_class"] == "residential"]
    assert residential["registered_capital_fen"].isna().all()
    firms = c[c["customer_class"].isin(["commercial", "industrial"])]
    assert firms["registered_capital_fen"].notna().mean() > 0.9
    assert (firms["registered_capital_fen"].dropna() % 1_000_000 == 0).all()  # whole 10,000 yuan


def test_residential_tier_worked_example():
    # 230 x 0.4883 + 70 x 0.5383 = 112.309 + 37.681 = 149.990 yuan
    assert residential_amount_fen(np.array([300]))[0] == 14999
    # 230 kWh stays in the first tier, 401 reaches the third: 112.309 + 91.511 + 0.7883 = 204.6083
    assert residential_amount_fen(np.array([0, 1, 230, 400, 401])).tolist() == [0, 49, 11231, 20382, 20461]
    assert residential_amount_fen(np.array([300])).dtype == np.int64
    # 3 x 0.75 = 2.25 yuan exactly; 7 x 0.4883 = 3.4181 yuan -> 3.42 (half up to the fen)
    assert flat_amount_fen(np.array([3, 1]), 7500).tolist() == [225, 75]
    assert residential_amount_fen(np.array([7]))[0] == 342


def test_generated_bills_follow_the_tariffs(utility):
    b = utility["bills"].merge(utility["customers"][["customer_id", "customer_class"]], on="customer_id")
    assert (b["kwh"] >= 0).all() and (b["amount_fen"] >= 0).all()
    res = b[b["customer_class"] == "residential"]
    assert (residential_amount_fen(res["kwh"].to_numpy().astype(np.int64)) == res["amount_fen"].to_numpy()).all()
    prices = {"commercial": (7500, 7300), "industrial": (6500, 6300, 6100), "property_mgmt": (5500,),
              "government": (7000,), "agricultural": (5000,)}
    for cls, options in prices.items():
        rows = b[b["customer_class"] == cls]
        kwh = rows["kwh"].to_numpy().astype(np.int64)
        ok = np.zeros(len(rows), dtype=bool)
        for price in options:
            ok |= flat_amount_fen(kwh, price) == rows["amount_fen"].to_numpy()
        assert ok.all(), cls
    assert (b["kwh"] == 0).any()  # vacant months bill nothing
    assert (b.loc[b["kwh"] == 0, "amount_fen"] == 0).all()


def test_class_shares_and_consumption_levels_are_realistic(utility):
    shares = utility["customers"]["customer_class"].value_counts(normalize=True)
    assert set(shares.index) == set(CLASSES)
    assert 0.82 < shares["residential"] < 0.88
    assert 0.06 < shares["commercial"] < 0.10
    assert 0.015 < shares["industrial"] < 0.04
    assert shares[["agricultural", "government", "property_mgmt"]].max() < 0.05
    b = utility["bills"].merge(utility["customers"][["customer_id", "customer_class"]], on="customer_id")
    median = b[b["kwh"] > 0].groupby("customer_class")["kwh"].median()
    assert 100 < median["residential"] < 400
    assert 1000 < median["commercial"] < 10_000
    assert 10_000 < median["industrial"] < 500_000
    n_grids = utility["customers"]["grid"].nunique()
    assert n_grids == 4


def test_residential_consumption_peaks_in_summer_and_winter(utility):
    b = utility["bills"].merge(utility["customers"][["customer_id", "customer_class"]], on="customer_id")
    res = b[b["customer_class"] == "residential"]
    by_month = res.groupby(res["period"].str[5:])["kwh"].mean()
    assert by_month["08"] > 1.3 * by_month["05"]
    assert by_month["01"] > 1.2 * by_month["04"]


def test_payments_never_exceed_what_was_billed_so_far(utility):
    b, p = utility["bills"], utility["payments"]
    assert (p["amount_fen"] > 0).all()
    billed = b[["customer_id", "issued_on", "amount_fen"]].rename(columns={"issued_on": "day"})
    paid = p.assign(day=_local(p["paid_at"]).dt.normalize())[["customer_id", "day", "amount_fen"]]
    flows = pd.concat([billed.assign(kind=0), paid.assign(amount_fen=-paid["amount_fen"], kind=1)])
    flows = flows.sort_values(["customer_id", "day", "kind"], kind="stable")
    balance = flows.groupby("customer_id")["amount_fen"].cumsum()
    assert balance.min() >= 0
    assert flows["amount_fen"].dtype == np.int64


def test_payments_happen_in_business_hours(utility):
    hour = _local(utility["payments"]["paid_at"]).dt.hour
    assert hour.between(7, 21).all()


def test_direct_debits_are_paid_on_the_due_date(utility):
    b, p = utility["bills"], utility["payments"]
    debits = p[p["channel"] == "direct_debit"].assign(due_on=_local(p["paid_at"]).dt.normalize())
    matched = debits.merge(b, on=["customer_id", "due_on", "amount_fen"], how="left", indicator=True)
    assert len(debits) > 1000
    assert (matched["_merge"] == "both").all()


def test_returned_debits_are_recorded_and_paid_through_another_channel(utility):
    b, p, e = utility["bills"], utility["payments"], utility["events"]
    returned = e[e["kind"] == "returned_payment"]
    assert len(returned) > 50
    assert returned["amount_fen"].notna().all()
    bounced = returned.merge(b, left_on=["customer_id", "occurred_on", "amount_fen"],
                             right_on=["customer_id", "due_on", "amount_fen"])
    assert len(bounced) == len(returned)  # each return is the full debit of a bill on its due date
    debit_days = p[p["channel"] == "direct_debit"].assign(occurred_on=_local(p["paid_at"]).dt.normalize())
    assert returned.merge(debit_days, on=["customer_id", "occurred_on"]).empty
    later = returned.merge(p[p["channel"] != "direct_debit"], on="customer_id")
    assert (later["paid_at"].dt.tz_convert(None) > later["occurred_on"]).any()


def test_customers_with_returned_debits_pay_later_afterwards(utility):
    b, p, e = utility["bills"], utility["payments"], utility["events"]
    bounced = set(e.loc[e["kind"] == "returned_payment", "customer_id"])
    debit_customers = set(p.loc[p["channel"] == "direct_debit", "customer_id"]) | bounced
    due = b[b["customer_id"].isin(debit_customers) & (b["due_on"] <= pd.Timestamp(AS_OF)) & (b["amount_fen"] > 0)]
    paid = p.groupby("customer_id")["amount_fen"].sum()
    billed_due = due.groupby("customer_id")["amount_fen"].sum()
    arrears_share = (1 - paid.reindex(billed_due.index, fill_value=0) / billed_due).clip(lower=0)
    with_returns = arrears_share[arrears_share.index.isin(bounced)]
    without = arrears_share[~arrears_share.index.isin(bounced)]
    assert with_returns.mean() > 3 * without.mean()


def test_theft_is_preceded_by_a_drop_in_recorded_consumption(larger):
    chunk = larger
    thefts = chunk.events[chunk.events["kind"] == "theft"]
    assert len(thefts) > 20 and (thefts["amount_fen"] > 0).all()
    b = chunk.bills.merge(thefts[["customer_id", "occurred_on"]], on="customer_id")
    months_before = (b["occurred_on"].dt.to_period("M") - pd.PeriodIndex(b["period"], freq="M")).map(lambda d: d.n)
    just_before = b[months_before.between(1, 2)].groupby("customer_id")["kwh"].mean()
    long_before = b[months_before.between(12, 14)].groupby("customer_id")["kwh"].mean()
    both = just_before.index.intersection(long_before.index)
    assert len(both) > 5
    assert just_before[both].sum() < 0.75 * long_before[both].sum()


def test_disconnections_follow_arrears_and_reconnections_follow_disconnections(utility):
    e = utility["events"]
    kinds = e["kind"].value_counts()
    assert set(kinds.index) <= set(EVENT_KINDS)
    assert kinds["disconnection"] > 20 and kinds["reconnection"] > 10 and kinds["violation"] > 0
    assert e.loc[e["kind"].isin(["disconnection", "reconnection"]), "amount_fen"].isna().all()
    switching = e[e["kind"].isin(["disconnection", "reconnection"])].sort_values(["customer_id", "occurred_on"])
    for _, history in switching.groupby("customer_id"):
        sequence = history["kind"].tolist()
        assert sequence[0] == "disconnection"
        assert all(a != b for a, b in itertools.pairwise(sequence))
    government = utility["customers"].loc[utility["customers"]["customer_class"] == "government", "customer_id"]
    assert not e.loc[e["kind"] == "disconnection", "customer_id"].isin(government).any()


def test_troubled_district_enterprises_fall_behind_in_the_last_months(utility):
    scenario = describe(customers=ARGS["customers"], months=24, seed=ARGS["seed"], as_of=AS_OF)
    c, b, p = utility["customers"], utility["bills"], utility["payments"]
    firms = c[c["customer_class"].isin(["commercial", "industrial"])].set_index("customer_id")
    troubled = firms["grid"].isin(scenario.troubled_grids)
    assert troubled.sum() > 30 and (~troubled).sum() > 100
    # what they owe on bills already due, per customer
    due = b[b["due_on"] <= pd.Timestamp(AS_OF)].groupby("customer_id")["amount_fen"].sum()
    paid = p.groupby("customer_id")["amount_fen"].sum()
    overdue = (due.reindex(firms.index, fill_value=0) - paid.reindex(firms.index, fill_value=0)).clip(lower=0)
    in_arrears = overdue > 0
    assert in_arrears[troubled].mean() > 1.8 * in_arrears[~troubled].mean()
    # and they pay later in the troubled months than before
    recent = scenario.periods[-5:-1]
    earlier = scenario.periods[:12]
    bills = b[b["customer_id"].isin(firms.index)]
    late_share = {}
    for name, periods in (("recent", recent), ("earlier", earlier)):
        rows = bills[bills["period"].isin(periods) & (bills["amount_fen"] > 0)]
        firm_paid = p[p["customer_id"].isin(rows["customer_id"])].assign(day=_local(p["paid_at"]).dt.normalize())
        on_time = rows.merge(firm_paid, left_on=["customer_id", "amount_fen"], right_on=["customer_id", "amount_fen"])
        on_time = on_time[(on_time["day"] >= on_time["issued_on"]) & (on_time["day"] <= on_time["due_on"])]
        paid_ids = set(on_time["bill_id"])
        rows = rows.assign(on_time=rows["bill_id"].isin(paid_ids), troubled=rows["customer_id"].map(troubled))
        late_share[name] = 1 - rows.groupby("troubled")["on_time"].mean()
    assert late_share["recent"][True] > late_share["recent"][False] + 0.1
    assert late_share["recent"][True] > late_share["earlier"][True] + 0.1
    # consumption falls
    kwh = bills.assign(troubled=bills["customer_id"].map(troubled))
    recent_kwh = kwh[kwh["period"].isin(recent)].groupby("troubled")["kwh"].sum()
    year_before = [f"{int(q[:4]) - 1}{q[4:]}" for q in recent]
    base_kwh = kwh[kwh["period"].isin(year_before)].groupby("troubled")["kwh"].sum()
    assert recent_kwh[True] / base_kwh[True] < 0.8 * recent_kwh[False] / base_kwh[False]


def test_property_managers_accumulate_arrears(larger):
    c, b, p = larger.customers, larger.bills, larger.payments
    due = b[b["due_on"] <= pd.Timestamp(AS_OF)].groupby("customer_id")["amount_fen"].sum()
    paid = p.groupby("customer_id")["amount_fen"].sum().reindex(due.index, fill_value=0)
    unpaid = (due - paid) / due
    cls = c.set_index("customer_id")["customer_class"].reindex(due.index)
    assert unpaid[cls == "property_mgmt"].mean() > 3 * unpaid[cls == "residential"].mean()


def test_write_csv_round_trips_exactly(tmp_path):
    chunks = list(generate(customers=1200, months=24, seed=2, as_of=AS_OF, chunk_size=500))
    paths = write_csv(iter(chunks), tmp_path)
    assert set(paths) == {"customers", "bills", "payments", "events"}

    def read(name):
        with paths[name].open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        return rows[0], pd.DataFrame(rows[1:], columns=rows[0])

    def fen(text: pd.Series) -> list[int | None]:
        assert text.str.fullmatch(r"(\d+\.\d\d)?").all()  # so dropping the point is exact
        return [None if s == "" else int(s.replace(".", "")) for s in text]

    header, c = read("customers")
    assert header == ["customer_id", "name", "customer_class", "grid", "id_number", "registered_capital",
                      "opened_on", "phone", "area", "line"]
    assert (c["area"] == "").all() and (c["line"] == "").all()  # the generator assigns no areas (demo.loss does)
    frames = {name: pd.concat([getattr(ch, name) for ch in chunks], ignore_index=True) for name in COLUMNS}
    assert c["customer_id"].tolist() == frames["customers"]["customer_id"].tolist()
    assert c["name"].tolist() == frames["customers"]["name"].tolist()
    assert c["id_number"].tolist() == frames["customers"]["id_number"].fillna("").tolist()
    capital = frames["customers"]["registered_capital_fen"]
    assert fen(c["registered_capital"]) == [None if pd.isna(v) else int(v) for v in capital]
    assert [Decimal(v) * 100 for v in c["registered_capital"] if v] == [int(v) for v in capital if pd.notna(v)]
    assert c["opened_on"].tolist() == frames["customers"]["opened_on"].dt.strftime("%Y-%m-%d").tolist()

    header, b = read("bills")
    assert header == ["bill_id", "customer_id", "period", "kwh", "amount", "issued_on", "due_on"]
    assert b["amount"].str.fullmatch(r"\d+\.\d\d").all()
    assert fen(b["amount"]) == frames["bills"]["amount_fen"].tolist()
    assert b["kwh"].astype(float).tolist() == frames["bills"]["kwh"].tolist()
    assert b["due_on"].tolist() == frames["bills"]["due_on"].dt.strftime("%Y-%m-%d").tolist()

    header, p = read("payments")
    assert header == ["payment_id", "customer_id", "channel", "channel_account", "channel_ref", "amount", "paid_at"]
    assert fen(p["amount"]) == frames["payments"]["amount_fen"].tolist()
    assert p["paid_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00").all()
    assert (pd.to_datetime(p["paid_at"]).dt.tz_convert("UTC") == frames["payments"]["paid_at"]).all()

    header, e = read("events")
    assert header == ["customer_id", "kind", "occurred_on", "amount"]
    assert fen(e["amount"]) == [None if pd.isna(v) else int(v) for v in frames["events"]["amount_fen"]]


def test_write_csv_uses_the_business_time_zone_offset(tmp_path):
    chunks = list(generate(customers=200, months=3, seed=1, as_of=AS_OF, tz="Europe/London"))
    paths = write_csv(chunks, tmp_path, tz="Europe/London")
    with paths["payments"].open(encoding="utf-8") as f:
        stamps = pd.Series([row["paid_at"] for row in csv.DictReader(f)])
    # February to May straddles the start of British Summer Time
    assert set(stamps.str[-6:]) == {"+00:00", "+01:00"}
    frame = pd.concat([c.payments for c in chunks], ignore_index=True)
    assert (pd.to_datetime(stamps, format="ISO8601", utc=True) == frame["paid_at"]).all()
    local_hour = frame["paid_at"].dt.tz_convert("Europe/London").dt.hour
    assert local_hour.between(7, 21).all()
