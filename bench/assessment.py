"""Assessment benchmark: the year-to-date table with the ledger read once, against each period read on its own.

    .venv/bin/python bench/assessment.py --customers 20000
    .venv/bin/python bench/assessment.py --customers 20000 --database postgresql --month 2026-11

Loads the demo utility (`recovery demo`) into a temporary SQLite file (or a fresh PostgreSQL database), then
times, in the same run on the same rows, for grids and for officers:
- the baseline: every month and quarter of the year so far scored from its own reads (what the yearly table
  did before: sixteen reads of the bills and allocations in November);
- the yearly table as it runs now: the ledger read once, each period filtered from it (service.yearly).
Both give the same scores (checked here too); the ratio says how many times faster the shared read is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import recovery, scratch_database  # noqa: E402


def _periods(month: str) -> list[tuple[dt.date, dt.date]]:
    from recovery.assessment import measures

    year, last = (int(p) for p in month.split("-"))
    return ([measures.month_bounds(f"{year}-{m:02d}") for m in range(1, last + 1)]
            + [measures.quarter_bounds(f"{year}-{q:02d}") for q in range(1, last + 1, 3)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--month", default=None, help="the year to this month (default: last month)")
    args = parser.parse_args()
    month = args.month or (dt.date.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")

    from recovery import create_app
    from recovery.assessment import measures, service
    from recovery.extensions import db

    with scratch_database(args.database, "bench_assessment") as url:
        recovery(url, "init")
        seconds = recovery(url, "demo", "--customers", str(args.customers))
        print(f"{args.database}: demo of {args.customers:,} customers loaded in {seconds:.1f} s")
        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            print(f"year to {month}: {len(_periods(month))} periods (months and quarters)")
            print(f"{'table':10} {'baseline s':>11} {'yearly s':>9} {'ratio':>7}")
            for kind in ("grids", "officers"):
                start = time.perf_counter()
                alone = [service.period_table(db.session, kind, a, b) for a, b in _periods(month)]
                baseline = time.perf_counter() - start
                start = time.perf_counter()
                service.yearly(db.session, kind, month)
                shared = time.perf_counter() - start
                # The same scores: each period through the shared reads equals the period read on its own.
                sources = measures.read_customer_sources(db.session, _periods(month)[-1][1])
                for (a, b), table in zip(_periods(month), alone, strict=True):
                    pd.testing.assert_frame_equal(service.period_table(db.session, kind, a, b, sources), table)
                print(f"{kind:10} {baseline:11.2f} {shared:9.2f} {baseline / shared:6.1f}x")
            db.engine.dispose()


if __name__ == "__main__":
    main()
