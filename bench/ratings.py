"""Rating benchmark: every customer's credit rating recomputed in one pass, against a bare SELECT.

    .venv/bin/python bench/ratings.py --customers 200000
    .venv/bin/python bench/ratings.py --customers 50000 --database postgresql --distribution

Loads the demo utility (`recovery demo`) into a temporary SQLite file (or a fresh PostgreSQL
database), then times, in the same run on the same rows:
- the baseline: a bare SELECT of the engine's input rows (customers, bills, allocations, events,
  previous ratings) fetched through the DB-API cursor, nothing else;
- the first pass: load, compute and store a rating for every customer (every row is new);
- a nightly pass the next day: the same work, storing only the ratings that changed.
The ratio says how many times longer a full recompute takes than merely reading its input.
`--distribution` prints the grade distribution by customer class, by grid (the demo's troubled
district and demolition site marked) and by the demo's payer archetypes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import recovery, scratch_database  # noqa: E402


def _baseline(session, day: dt.date) -> tuple[float, int]:
    """The engine's input rows, selected bare (no grouping, no frames), through the raw cursor."""
    from sqlalchemy import text

    from recovery.timeutil import start_of_day

    end = start_of_day(day + dt.timedelta(days=1))
    if session.get_bind().dialect.name == "sqlite":
        end = end.replace(tzinfo=None).isoformat(sep=" ")
    statements = [
        ("SELECT id, opened_on FROM customers", {}),
        ("SELECT id, customer_id, amount_fen, due_on FROM bills WHERE issued_on <= :d", {"d": day}),
        ("SELECT bill_id, amount_fen, allocated_at FROM allocations WHERE allocated_at < :e", {"e": end}),
        ("SELECT customer_id, kind, occurred_on FROM events WHERE occurred_on <= :d", {"d": day}),
        ("SELECT customer_id, grade, points, rated_on FROM credit_ratings WHERE rated_on < :d", {"d": day}),
    ]
    conn = session.connection()
    start = time.perf_counter()
    rows = 0
    for sql, params in statements:
        result = conn.execute(text(sql), params)
        rows += len(result.cursor.fetchall())  # the driver's tuples, as the engine's loader takes them
        result.close()
    return time.perf_counter() - start, rows


def _archetypes(customers: int, months: int, seed: int, as_of: dt.date, tz: str) -> pd.DataFrame | None:
    """The demo's payer segment, troubled-district and thief flags per customer code, by replaying the first
    draws of recovery.demo.generator._chunk (checked against the generated class and grid)."""
    from recovery.demo import generator as g

    u = g._universe(customers, months, seed, as_of, tz)
    out = []
    for index, start in enumerate(range(0, customers, 50_000)):
        n = min(50_000, customers - start)
        rng = np.random.default_rng(np.random.SeedSequence(u.seed, spawn_key=(1, index)))
        ps, M = u.month_start, u.months
        cls = rng.choice(6, size=n, p=g.CLASS_SHARES)
        grid = rng.choice(u.grid_weights.size, size=n, p=u.grid_weights)
        rng.random(n)  # person
        rng.random(n)  # when
        rng.integers(0, 15 * 365, n), rng.integers(ps[0], ps[M], n), rng.integers(ps[M], u.as_of + 1, n)
        draw = rng.random(n)
        cum = np.cumsum(g.SEGMENT_SHARES[cls], axis=1)
        segment = np.where(draw < cum[:, 0], "late", np.where(draw < cum[:, 1], "partial",
                                                              np.where(draw < cum[:, 2], "chronic", "good")))
        number = np.arange(start + 1, start + n + 1)
        out.append(pd.DataFrame({"code": [f"C{k:0{u.id_width}d}" for k in number],
                                 "class_check": np.array(g.CLASSES)[cls],
                                 "grid_check": [f"G{i + 1:03d}" for i in grid], "segment": segment}))
    return pd.concat(out, ignore_index=True)


def _distribution(session, args, as_of: dt.date, tz: str) -> None:
    from sqlalchemy import select

    from recovery import bulk
    from recovery.credit.models import CreditRating
    from recovery.customers.models import Customer, Grid
    from recovery.demo.generator import describe
    from recovery.events.models import Event

    frame = bulk.read_frame(session, select(Customer.code, Customer.customer_class, Grid.code.label("grid"),
                                            CreditRating.grade, CreditRating.cash_only)
                            .join(Grid, Grid.id == Customer.grid_id)
                            .join(CreditRating, CreditRating.customer_id == Customer.id))
    latest = frame.drop_duplicates("code", keep="last").set_index("code")
    thieves = set(session.scalars(select(Customer.code).join(Event, Event.customer_id == Customer.id)
                                  .where(Event.kind == "theft")))
    scenario = describe(customers=args.customers, months=args.months, seed=args.seed, as_of=as_of, tz=tz)
    order = ["A", "B", "C"] if set(latest["grade"]) <= {"A", "B", "C"} else sorted(set(latest["grade"]))

    def show(title: str, by: pd.Series) -> None:
        table = pd.crosstab(by, latest["grade"]).reindex(columns=order, fill_value=0)
        share = (table.div(table.sum(axis=1), axis=0) * 100).round(1)
        print(f"\n{title}")
        print(pd.concat({"customers": table, "% of row": share}, axis=1).to_string())

    print(f"\ngrades of all {len(latest)} customers: "
          + ", ".join(f"{g} {int((latest['grade'] == g).sum())}" for g in order)
          + f"; cash-only {int(latest['cash_only'].sum())}")
    show("by customer class", latest["customer_class"])
    marks = {g: " (troubled district)" for g in scenario.troubled_grids}
    marks[scenario.demolition_grid] = " (demolition site)"
    show("by grid", latest["grid"].map(lambda g: g + marks.get(g, "")))
    kinds = _archetypes(args.customers, args.months, args.seed, as_of, tz).set_index("code").reindex(latest.index)
    if (kinds["class_check"] == latest["customer_class"]).all() and (kinds["grid_check"] == latest["grid"]).all():
        arche = kinds["segment"].where(~latest.index.isin(thieves), "thief (caught)")
        troubled = latest["grid"].isin(scenario.troubled_grids) & latest["customer_class"].isin(
            ["commercial", "industrial"])
        arche = arche.where(~troubled | (arche == "thief (caught)"), arche + ", troubled-district firm")
        show("by the demo's payer archetype", arche)
    else:
        print("\n(archetypes not shown: the generator's draws changed; update _archetypes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", default="2026-11-30")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--distribution", action="store_true", help="print the grade distribution too")
    parser.add_argument("--keep", type=Path, help="SQLite: load the demo into this file once and reuse it on later "
                                                  "runs (its ratings are cleared first: a bench-only file)")
    args = parser.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)

    if args.keep and args.database == "sqlite":
        url = f"sqlite:///{args.keep.resolve()}"
        if not args.keep.exists():
            recovery(url, "init")
            recovery(url, "demo", "--customers", str(args.customers), "--months", str(args.months),
                      "--seed", str(args.seed), "--as-of", as_of.isoformat())
        import sqlite3

        with sqlite3.connect(args.keep) as conn:
            conn.execute("DELETE FROM credit_ratings")
        _measure(url, args, as_of)
        return
    with scratch_database(args.database, "bench_ratings") as url:
        recovery(url, "init")
        load_s = recovery(url, "demo", "--customers", str(args.customers), "--months", str(args.months),
                          "--seed", str(args.seed), "--as-of", as_of.isoformat())
        print(f"{args.database}: demo of {args.customers} customers x {args.months} months loaded in {load_s:.1f} s")
        _measure(url, args, as_of)

def _measure(url: str, args, as_of: dt.date) -> None:
    from recovery import create_app
    from recovery.credit.rating.ratings import compute, load_inputs, rate, rating_policy
    from recovery.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        session = db.session
        base_s, rows = _baseline(session, as_of)
        session.rollback()
        start = time.perf_counter()
        first = rate(session, as_of)
        session.commit()
        first_s = time.perf_counter() - start
        nxt = as_of + dt.timedelta(days=1)
        base2_s, rows2 = _baseline(session, nxt)
        session.rollback()
        start = time.perf_counter()
        nightly = rate(session, nxt)
        session.commit()
        nightly_s = time.perf_counter() - start
        # Where the nightly time goes: reading the frames vs the pure engine.
        start = time.perf_counter()
        inputs = load_inputs(session, nxt)
        load_s = time.perf_counter() - start
        start = time.perf_counter()
        compute(inputs, nxt, rating_policy())
        compute_s = time.perf_counter() - start
        session.rollback()
        print(f"baseline: bare SELECT of the {rows:,} input rows: {base_s:.2f} s")
        print(f"first pass ({first['customers']:,} customers, {first['changed']:,} rows stored): {first_s:.2f} s "
              f"= {first_s / base_s:.1f}x the baseline")
        print(f"nightly pass next day ({nightly['changed']:,} changed): {nightly_s:.2f} s "
              f"= {nightly_s / base2_s:.1f}x the baseline ({rows2:,} rows, {base2_s:.2f} s)")
        print(f"  of which: loading the frames {load_s:.2f} s, the engine {compute_s:.2f} s")
        print(f"grades: {first['grades']}, cash-only {first['cash_only']}")
        if args.distribution:
            _distribution(session, args, as_of, app.config["RECOVERY_TZ"])
        db.engine.dispose()


if __name__ == "__main__":
    main()
