"""The ageing report on generated data: balances are exactly bills minus payments, on both databases."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest

from tests.factories import bill, customer, load, payment

AS_OF_DATES = ["2025-06-15", "2025-12-31", "2026-10-01"]


def _generated(rng: np.random.Generator, customers: int = 300):
    """Customers with a year of bills and irregular payments: early, late, partial, over-payments."""
    cust = [customer(f"C{i:04d}", grid=f"G{i % 4}") for i in range(customers)]
    bills, pays = [], []
    for i in range(customers):
        months = rng.integers(1, 13)
        for m in range(months):
            period = dt.date(2025, 1 + m, 1)
            issued = period + dt.timedelta(days=34)
            amount = int(rng.choice([0, rng.integers(1, 500_000)], p=[0.05, 0.95]))
            bills.append(bill(f"B{i:04d}-{m:02d}", customer_id=f"C{i:04d}", period=period.strftime("%Y-%m"),
                              amount=f"{amount // 100}.{amount % 100:02d}", issued_on=issued.isoformat(),
                              due_on=(issued + dt.timedelta(days=int(rng.integers(10, 25)))).isoformat()))
        for k in range(int(rng.integers(0, 15))):
            amount = int(rng.integers(1, 400_000))
            when = dt.datetime(2025, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=int(rng.integers(0, 600_000)))
            pays.append(payment(f"R{i:04d}-{k:02d}", customer_id=f"C{i:04d}",
                                amount=f"{amount // 100}.{amount % 100:02d}",
                                paid_at=when.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat()))
    return cust, bills, pays


def _fen(text: pd.Series) -> pd.Series:
    parts = text.str.split(".", expand=True)
    sign = np.where(parts[0].str.startswith("-"), -1, 1)
    return sign * (parts[0].str.lstrip("-").astype("int64") * 100 + parts[1].astype("int64"))


@pytest.fixture
def generated(recovery, tmp_path):
    cust, bills, pays = _generated(np.random.default_rng(20261123))
    load(recovery, tmp_path, customers=cust, bills=bills, payments=pays)
    return cust, pd.DataFrame(bills), pd.DataFrame(pays)


@pytest.mark.parametrize("as_of", AS_OF_DATES)
def test_every_balance_equals_bills_minus_payments_as_of_the_date(recovery, tmp_path, generated, as_of):
    cust, bills, pays = generated
    out = tmp_path / "ageing.csv"
    result = recovery("report", "ageing", "--as-of", as_of, "--out", out)
    assert result.exit_code == 0, result.output
    report = pd.read_csv(out, dtype=str, keep_default_na=False).set_index("customer_id")

    day = pd.Timestamp(as_of)
    billed = bills.loc[pd.to_datetime(bills["issued_on"]) <= day].assign(fen=lambda f: _fen(f["amount"]))
    local_paid_on = pd.to_datetime(pays["paid_at"], utc=True).dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    paid = pays.loc[local_paid_on.dt.normalize() <= day].assign(fen=lambda f: _fen(f["amount"]))
    expected = (billed.groupby("customer_id")["fen"].sum()
                .sub(paid.groupby("customer_id")["fen"].sum(), fill_value=0)
                .reindex([c["customer_id"] for c in cust], fill_value=0).astype("int64"))

    assert len(report) == len(cust)
    got = _fen(report["balance"]).reindex(expected.index)
    assert (got == expected).all(), (got - expected)[got != expected].head()
    overdue = _fen(report["overdue"])
    assert (overdue >= 0).all() and (overdue <= got.clip(lower=0).reindex(overdue.index)).all()
    assert set(report["bucket"]) <= {"current", "1-30", "31-60", "61-90", "91-180", "180+"}
    assert (report.loc[overdue == 0, "bucket"] == "current").all()


def test_ageing_bucket_follows_the_oldest_unpaid_bill(recovery, tmp_path):
    load(recovery, tmp_path, customers=[customer("C1"), customer("C2"), customer("C3")],
         bills=[bill("A1", "C1", "100.00", "2026-01", "2026-02-03", "2026-02-20"),
                bill("A2", "C1", "100.00", "2026-02", "2026-03-03", "2026-03-20"),
                bill("B1", "C2", "50.00", "2026-05", "2026-06-03", "2026-06-20"),
                bill("C1", "C3", "70.00", "2026-06", "2026-07-03", "2026-07-20")],
         # C1 pays 150: January is settled, February half paid. C3 pays in advance: a credit.
         payments=[payment("R1", "C1", "150.00", "2026-03-01T10:00:00+08:00"),
                   payment("R2", "C3", "100.00", "2026-07-05T10:00:00+08:00")])

    result = recovery("report", "ageing", "--as-of", "2026-07-01")
    rows = list(pd.read_csv(io.StringIO(result.stdout), dtype=str, keep_default_na=False).itertuples(index=False))

    assert [tuple(r) for r in rows] == [
        ("C1", "50.00", "50.00", "2026-03-20", "91-180"),  # 103 days past due
        ("C2", "50.00", "50.00", "2026-06-20", "1-30"),
        ("C3", "0.00", "0.00", "", "current"),  # its bill is issued after the as-of date
    ]
    later = pd.read_csv(io.StringIO(recovery("report", "ageing", "--as-of", "2026-08-01").stdout), dtype=str,
                        keep_default_na=False).set_index("customer_id")
    assert tuple(later.loc["C3"]) == ("-30.00", "0.00", "", "current")


def test_ageing_on_a_bad_date_is_a_one_line_error(recovery):
    result = recovery("report", "ageing", "--as-of", "2026-13-01")
    assert result.exit_code != 0
    assert "not a date (YYYY-MM-DD)" in result.output
