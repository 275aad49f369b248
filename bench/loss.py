"""Suspect-list benchmark: the monthly theft screening of every customer over 24 months of bills, against a
floor measured in the same run on the same rows.

    .venv/bin/python bench/loss.py --customers 1000000
    .venv/bin/python bench/loss.py --customers 100000 --database postgresql

A synthetic utility of its own (not the demo's generator, so the screening is not checked against the data it was
written beside): areas of 150 customers on lines of 8 areas, residential and commercial customers with their own
seasons and noise; vacant homes (a spell at 0 kWh), a district whose firms lose a third of their business, and
planted thieves whose metered kWh fall to 30-70 % from a month in the last year: a few in each of 0.5 % of the areas
(whose meters see the energy go missing) and lone ones elsewhere. Area meters read the billed and the stolen kWh
with a technical loss of 3-6 %. Customers, areas, bills and readings are written straight into their tables
(untimed).

Timed: the floor (the engine's bill read, COPY on PostgreSQL, into pandas, and a group-by of the kWh per
customer), then the suspect list (loading every frame, the engine, storing the list). It prints the ratio, how many
planted thieves stand in the top 5 %, and exits non-zero when the list is wrong: a row count other than the
customers', a stored list other than the customers who scored, or fewer than 90 % of the planted thieves in the
top 5 %.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import recovery, scratch_database, verdict  # noqa: E402

PERIOD = "2026-10"
AREA = 150
LINE_AREAS = 8
GRID_AREAS = 13


def synthesize(n: int, months: int, seed: int) -> dict:
    """The synthetic utility's customers, monthly metered kWh, area readings and planted thieves."""
    from recovery.loss.rates import periods_back

    rng = np.random.default_rng(seed)
    periods = periods_back(PERIOD, months)
    month = np.array([int(p[5:7]) - 1 for p in periods])
    area = np.arange(n) // AREA
    n_areas = int(area.max()) + 1
    grid = area // GRID_AREAS
    commercial = rng.random(n) < 0.1
    base = np.where(commercial, 1800.0, 150.0) * np.exp(0.5 * rng.normal(size=n))
    season = np.where(commercial[:, None], 1 + 0.10 * np.cos(2 * np.pi * (month[None, :] - 6) / 12),
                      1 + 0.22 * np.cos(4 * np.pi * (month[None, :] + 0.5) / 12))
    used = base[:, None] * season * np.exp(0.12 * rng.normal(size=(n, months)))
    m = np.arange(months)[None, :]
    # Vacant homes: a spell of 2 to 10 months at 0 kWh.
    vacant = (rng.random(n) < 0.04)[:, None]
    start = rng.integers(0, months, n)[:, None]
    used = np.where(vacant & (m >= start) & (m < start + rng.integers(2, 11, n)[:, None]), 0.0, used)
    # A district in trouble: its firms lose a third of their business over the last half year.
    troubled = np.isin(grid, rng.choice(int(grid.max()) + 1, size=max(1, (int(grid.max()) + 1) // 30),
                                        replace=False)) & commercial
    used = np.where(troubled[:, None] & (m >= months - 6), used * 0.65, used)
    used = np.rint(used)
    # Planted thieves: a few in each of 0.5 % of the areas, and one in a thousand customers elsewhere.
    theft_areas = rng.choice(n_areas, size=max(2, n_areas // 200), replace=False)
    thief = np.zeros(n, dtype=bool)
    for a in theft_areas:
        members = np.flatnonzero((area == a) & (used.min(axis=1) > 20))
        thief[rng.choice(members, size=min(len(members), int(rng.integers(3, 7))), replace=False)] = True
    lone = ~np.isin(area, theft_areas) & (used.min(axis=1) > 20) & (rng.random(n) < 0.001)
    thief |= lone
    onset = rng.integers(months - 12, months - 2, n)[:, None]
    share = rng.uniform(0.3, 0.7, n)[:, None]
    stealing = thief[:, None] & (m >= onset)
    metered = np.where(stealing, np.rint(used * share), used)
    billed = pd.DataFrame(metered).groupby(area).sum().to_numpy()
    stolen = pd.DataFrame(used - metered).groupby(area).sum().to_numpy()
    technical = rng.uniform(0.03, 0.06, n_areas)[:, None] + rng.normal(0, 0.005, (n_areas, months))
    delivered = np.rint((billed + stolen) / (1 - technical))
    return {"periods": periods, "area": area, "grid": grid, "commercial": commercial, "kwh": metered,
            "delivered": delivered, "thief": thief, "lone": lone, "n_areas": n_areas}


def load(data: dict) -> None:
    """Write the synthetic utility straight into customers, areas, bills and area readings."""
    from recovery import bulk
    from recovery.billing.models import Bill
    from recovery.customers.models import Customer, Grid
    from recovery.extensions import db
    from recovery.loss.models import Area, AreaReading

    n, months = data["kwh"].shape
    stamp = pd.Timestamp.now(tz="UTC")
    grids = int(data["grid"].max()) + 1
    bulk.insert_frame(db.session, Grid.__table__, pd.DataFrame({
        "id": range(1, grids + 1), "code": [f"G{g + 1:04d}" for g in range(grids)],
        "name": [f"G{g + 1:04d}" for g in range(grids)]}))
    areas = data["n_areas"]
    bulk.insert_frame(db.session, Area.__table__, pd.DataFrame({
        "id": range(1, areas + 1), "code": [f"T{a + 1:06d}" for a in range(areas)],
        "line": [f"L{a // LINE_AREAS + 1:05d}" for a in range(areas)], "created_at": stamp}))
    codes = pd.Series([f"C{i + 1:07d}" for i in range(n)])
    bulk.insert_frame(db.session, Customer.__table__, pd.DataFrame({
        "id": np.arange(1, n + 1), "code": codes, "name": codes,
        "customer_class": np.where(data["commercial"], "commercial", "residential"),
        "grid_id": data["grid"] + 1, "area_id": data["area"] + 1,
        "opened_on": pd.Series([pd.Timestamp("2015-01-01")] * n), "created_at": stamp}))
    for k, period in enumerate(data["periods"]):
        issued = pd.Timestamp(f"{period}-01") + pd.DateOffset(months=1, days=4)
        kwh = data["kwh"][:, k]
        bulk.insert_frame(db.session, Bill.__table__, pd.DataFrame({
            "code": "B" + codes.str.slice(1) + period.replace("-", ""), "customer_id": np.arange(1, n + 1),
            "period": period, "kwh": kwh, "amount_fen": (kwh * 55).astype("int64"), "issued_on": issued,
            "due_on": issued + pd.Timedelta(days=15), "created_at": stamp}))
    bulk.insert_frame(db.session, AreaReading.__table__, pd.DataFrame({
        "area_id": np.repeat(np.arange(1, areas + 1), months), "period": np.tile(data["periods"], areas),
        "kwh_delivered": data["delivered"].reshape(-1), "created_at": stamp}))
    db.session.commit()


def _floor(session, p) -> tuple[float, int, int]:
    """The engine's own read of the bills into pandas and a group-by of the kWh per customer: seconds and sizes."""
    from recovery import bulk
    from recovery.loss import suspects

    start = time.perf_counter()
    bills = bulk.read_text_frame(session, suspects.consumption_query(PERIOD, suspects.window(p)),
                                 {"customer_id": "int64", "period": "str", "kwh": "float64"})
    per_customer = bills.groupby("customer_id")["kwh"].sum()
    seconds = time.perf_counter() - start
    session.rollback()
    return seconds, len(bills), len(per_customer)


def measure(url: str, data: dict) -> list[str]:
    from recovery import create_app
    from recovery.extensions import db
    from recovery.loss import rates, suspects
    from recovery.loss.policy import loss_policy

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    problems = []
    with app.app_context():
        start = time.perf_counter()
        load(data)
        print(f"loaded {len(data['kwh']):,} customers, {data['kwh'].size:,} bills, "
              f"{data['delivered'].size:,} area readings in {time.perf_counter() - start:.1f} s (untimed)")
        p = loss_policy()
        session = db.session
        floor_s, rows, customers = _floor(session, p)
        start = time.perf_counter()
        ranked = suspects.compute(session, PERIOD, p)
        compute_s = time.perf_counter() - start
        start = time.perf_counter()
        stored = suspects.store(session, PERIOD, ranked)
        session.commit()
        store_s = time.perf_counter() - start
        start = time.perf_counter()
        text = suspects.to_csv(ranked)
        csv_s = time.perf_counter() - start
        start = time.perf_counter()
        report = rates.report(session, PERIOD, p)
        report_s = time.perf_counter() - start
        session.rollback()
        total = compute_s + store_s
        floor_s = min(floor_s, _floor(session, p)[0])  # the faster of a read before and one after: warm caches
        print(f"floor: the engine's bill read ({rows:,} rows) and a group-by per customer ({customers:,}): "
              f"{floor_s:.2f} s")
        print(f"suspect list: {total:.2f} s = {total / floor_s:.1f}x the floor "
              f"(frames and engine {compute_s:.2f} s, storing {stored:,} scored rows {store_s:.2f} s; "
              f"the CSV {csv_s:.2f} s more)")
        n = len(data["kwh"])
        top = n * 5 // 100
        rank = pd.Series(np.arange(1, len(ranked) + 1), index=ranked["code"].to_numpy())
        codes = np.array([f"C{i + 1:07d}" for i in np.flatnonzero(data["thief"])])
        lone = np.array([f"C{i + 1:07d}" for i in np.flatnonzero(data["lone"])])
        found = int((rank.reindex(codes) <= top).sum())
        found_lone = int((rank.reindex(lone) <= top).sum())
        print(f"loss areas report ({len(report['areas']):,} areas, {len(report['lines']):,} lines, "
              f"{sum(a['flagged'] for a in report['areas'])} flagged): {report_s:.2f} s")
        print(f"planted thieves in the top 5 % ({top:,} of {n:,}): {found} of {len(codes)} "
              f"(in high-loss areas {found - found_lone} of {len(codes) - len(lone)}, lone {found_lone} of "
              f"{len(lone)}); median rank {int(rank.reindex(codes).median()):,}")
        if len(ranked) != n or text.count("\n") != n + 1:
            problems.append(f"the list has {len(ranked):,} rows, not one per customer ({n:,})")
        if stored != int((ranked["score_tenths"] > 0).sum()):
            problems.append("the stored list differs from the customers who scored")
        if found < 0.9 * len(codes):
            problems.append(f"only {found} of {len(codes)} planted thieves in the top 5 %")
        db.engine.dispose()
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    start = time.perf_counter()
    data = synthesize(args.customers, args.months, args.seed)
    print(f"{args.database}: {args.customers:,} customers x {args.months} months synthesized in "
          f"{time.perf_counter() - start:.1f} s")
    with scratch_database(args.database, "bench_loss") as url:
        recovery(url, "init")
        problems = measure(url, data)
    verdict(problems)


if __name__ == "__main__":
    main()
