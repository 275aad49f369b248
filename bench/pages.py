"""Page benchmark: the officer's pages against a static file of the same app, through a real HTTP server.

    .venv/bin/python bench/pages.py --customers 20000
    .venv/bin/python bench/pages.py --keep /work/bench-pages-1m.sqlite --requests 100
    .venv/bin/python bench/pages.py --customers 20000 --database postgresql

Loads the demo utility (`recovery demo`) into a temporary SQLite file (or a fresh PostgreSQL database;
`--keep FILE` reuses a prepared SQLite file), creates an officer for the grid with the most customers
(`--grid median`: the median grid), starts the app under gunicorn (one worker, one thread) in a subprocess
and signs in as that officer.
Then, in the same run and interleaved so that both see the same machine, it times N requests each of:
- the static baseline: /static/app.css served by the same app;
- the risk list: the default sort (most overdue first), sorted by probability of arrears, sorted by days
  overdue (the oldest unpaid bill first), and filtered (probability at least 30 %, overdue over 90 days);
- the officer's worklist (today's, built by the collections.worklist job after loading), the dashboard, the
  assessment of the month before the demo's today (closed by the demo) and the page of the first customer
  on the officer's list;
and prints p50/p95/p99 per page and each page's p95 as a multiple of the static file's. It exits non-zero
when a page answers other than 200, the list shows other than a full first page, a page's p95 is over
`--target-ms`, or the worklist holds more rows than the officer's day (40 calls and 6 visits by default)
or a customer twice.
`--explain` prints the query plans of the officer's list query first.

If the demo has no risk scores (the demo does not train a model), one set-based INSERT … SELECT fills
risk_scores with plausible values (a skewed pd from the customer id, expected loss = pd x an exposure).
The page's speed does not depend on where pd came from: it reads the latest run's rows the same way.
Without ratings every customer has the starting grade; the grade filter is then a filter on that.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import recovery, scratch_database, verdict  # noqa: E402

# The console scripts of the Python running this (the project venv).
BIN = Path(sys.executable).parent
OFFICER = "bench_officer"
TZ = os.environ.get("RECOVERY_TZ", "Asia/Shanghai")  # the business time zone the service runs in
PASSWORD = "bench password 1"
PAGE_SIZE = 50  # the list's default page
PAGES = {
    "static /static/app.css": "/static/app.css",
    "list, default sort": "/customers",
    "list, sorted by pd": "/customers?sort=pd&order=desc",
    "list, by days overdue": "/customers?sort=days_overdue&order=desc",
    "list, filtered": "/customers?min_pd=0.3&age=91-180",
    "worklist": "/worklist",
    "dashboard": "/dashboard",
    "assessment": "/assessment?month={month}",
    "customer page": "/customers/{customer}",
}
MOST_WORKLIST_ROWS = 46  # the default [worklist] capacity: 40 calls and 6 visits


def _prepare(url: str, as_of: dt.date, which: str) -> tuple[str, int]:
    """Risk scores (if none) and the bench officer for a grid (the largest or the median by customers);
    returns the grid code and its number of customers."""
    from sqlalchemy import func, select, text

    from recovery import create_app
    from recovery.auth.models import User
    from recovery.auth.service import create_user
    from recovery.customers.models import Customer, Grid
    from recovery.extensions import db
    from recovery.risk.models import RiskScore

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        session = db.session
        if not session.scalar(select(func.count()).select_from(select(RiskScore.id).limit(1).subquery())):
            empty = "'[]'" if session.get_bind().dialect.name == "sqlite" else "CAST('[]' AS JSON)"
            start = time.perf_counter()
            # u in [0, 1) from the id; pd = u^3 is skewed towards low risk like a real book.
            session.execute(text(f"""
                INSERT INTO risk_scores (customer_id, as_of, model_version, pd, exposure_fen, expected_loss_fen,
                                         rating, reasons_zh, reasons_en, created_at)
                SELECT id, :as_of, 'bench-filled', u * u * u, exposure, CAST(u * u * u * exposure AS BIGINT),
                       CASE WHEN u * u * u < 0.1 THEN 'A' WHEN u * u * u < 0.3 THEN 'B' ELSE 'C' END,
                       {empty}, {empty}, :now
                FROM (SELECT id, ((id * 7919) % 1000) / 1000.0 AS u, ((id * 104729) % 5000 + 100) * 100 AS exposure
                      FROM customers) AS c"""), {"as_of": as_of, "now": dt.datetime.now(dt.UTC)})
            session.commit()
            print(f"risk_scores filled in one INSERT … SELECT: {time.perf_counter() - start:.1f} s")
        sizes = session.execute(
            select(Grid.code, func.count(Customer.id)).join(Customer, Customer.grid_id == Grid.id)
            .group_by(Grid.code).order_by(func.count(Customer.id).desc(), Grid.code)).all()
        grid, size = sizes[0] if which == "largest" else sizes[len(sizes) // 2]
        officer = session.scalar(select(User).where(User.username == OFFICER))
        if officer is None:
            create_user(session, OFFICER, role="officer", password=PASSWORD, grids=[grid])
        else:  # a kept file has the officer from an earlier run: give it this run's grid
            officer.grids = [session.scalar(select(Grid).where(Grid.code == grid))]
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE"))
            session.commit()
        print(f"officer {OFFICER} for grid {grid} ({size:,} customers)")
        db.engine.dispose()
    return grid, size


def _explain(url: str, as_of: dt.date, grid: str) -> None:
    """The query plans of the officer's list query (default sort, and filtered)."""
    from sqlalchemy import select, text

    from recovery import create_app
    from recovery.auth.models import User
    from recovery.extensions import db
    from recovery.portfolio.service import _listing

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        session = db.session
        user = session.scalar(select(User).where(User.username == OFFICER))
        sqlite = session.get_bind().dialect.name == "sqlite"
        for title, filters in (("default sort", {}), ("filtered", {"min_pd": 0.3, "age": "91-180"})):
            query = _listing(user, as_of, **filters).limit(50)
            sql = str(query.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
            prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS OFF, TIMING OFF) "
            print(f"\nplan, {title}:")
            for row in session.execute(text(prefix + sql)):
                print("  ", row[-1])
        db.engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(url: str) -> tuple[subprocess.Popen, str]:
    """gunicorn with one sync worker (one request at a time, as an officer's browser sends them)."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}", "--log-level",
         "warning", "wsgi:app"], cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):  # the first answer waits for the app to import and start
        try:
            requests.get(base + "/login", timeout=30)
            return server, base
        except requests.ConnectionError:
            time.sleep(0.1)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit("the server did not start")


def _sign_in(base: str) -> requests.Session:
    client = requests.Session()
    form = client.get(base + "/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    answer = client.post(base + "/login", data={"username": OFFICER, "password": PASSWORD, "csrf_token": token},
                         allow_redirects=False)
    if answer.status_code != 302:
        raise SystemExit(f"sign-in failed: {answer.status_code}")
    return client


def _measure(url: str, args, as_of: dt.date) -> list[str]:
    """Time the pages; returns what is wrong (empty when the result is right and within the target)."""
    problems: list[str] = []
    grid, size = _prepare(url, as_of, args.grid)
    if args.explain:
        _explain(url, as_of, grid)
    server, base = _serve(url)
    try:
        client = _sign_in(base)
        shown = re.findall(r'class="code"><a href="/customers/([^"]+)"', client.get(base + "/customers").text)
        print(f"the officer's list shows {len(shown)} rows a page; first {shown[:3]}")
        month = (as_of.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
        pages = {name: path.format(month=month, customer=shown[0]) for name, path in PAGES.items()}
        rows = re.findall(r'<tr data-customer="([^"]+)"', client.get(base + "/worklist").text)
        print(f"the officer's worklist holds {len(rows)} rows")
        if len(rows) > MOST_WORKLIST_ROWS or len(set(rows)) != len(rows):
            raise SystemExit(f"the worklist holds {len(rows)} rows ({len(set(rows))} customers): more than a day")
        for path in pages.values():  # warm: the first request of each page loads templates and caches
            answer = client.get(base + path)
            if answer.status_code != 200:
                raise SystemExit(f"{path}: {answer.status_code}")
        if len(shown) != min(PAGE_SIZE, size):
            problems.append(f"the list shows {len(shown)} rows, not min({PAGE_SIZE}, {size:,} customers of the grid)")
        times: dict[str, list[float]] = {name: [] for name in pages}
        for _ in range(args.requests):  # interleaved: every page sees the same load on the machine
            for name, path in pages.items():
                start = time.perf_counter()
                answer = client.get(base + path)
                times[name].append((time.perf_counter() - start) * 1000)
                if answer.status_code != 200:
                    problems.append(f"{path} answered {answer.status_code}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    static_p95 = float(np.percentile(times["static /static/app.css"], 95))
    print(f"\n{args.requests} requests each, officer's grid {grid}, through gunicorn (1 worker):")
    print(f"{'page':26} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'p95 / static':>13}")
    for name, values in times.items():
        p50, p95, p99 = (float(np.percentile(values, q)) for q in (50, 95, 99))
        print(f"{name:26} {p50:8.1f} {p95:8.1f} {p99:8.1f} {p95 / static_p95:12.1f}x")
    worst = max(float(np.percentile(v, 95)) for k, v in times.items() if not k.startswith("static"))
    print(f"\nworst page p95 {worst:.0f} ms: {'within' if worst < args.target_ms else 'OVER'} "
          f"the {args.target_ms} ms target")
    if worst >= args.target_ms:
        problems.append(f"worst list p95 {worst:.0f} ms is over the {args.target_ms} ms target")
    return sorted(set(problems))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", default="2026-11-30")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--requests", type=int, default=50, help="requests per page")
    parser.add_argument("--target-ms", type=int, default=300)
    parser.add_argument("--explain", action="store_true", help="print the list query's plans first")
    parser.add_argument("--grid", choices=["largest", "median"], default="largest",
                        help="the officer's grid: the one with the most customers, or the median one")
    parser.add_argument("--keep", type=Path, help="SQLite: load the demo into this file once and reuse it on later "
                                                  "runs (risk scores and the bench officer are added to it)")
    args = parser.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)

    def load(url: str) -> None:
        recovery(url, "init")
        load_s = recovery(url, "demo", "--customers", str(args.customers), "--months", str(args.months),
                           "--seed", str(args.seed), "--as-of", as_of.isoformat())
        print(f"{args.database}: demo of {args.customers} customers x {args.months} months loaded in {load_s:.1f} s")

    def morning(url: str) -> None:
        # This morning's worklist and the dashboard's night figures, as the scheduler keeps them: for the day the
        # pages are served on (the business date now), which is after the demo's last day.
        served = dt.datetime.now(ZoneInfo(TZ)).date()
        for job in ("collections.worklist", "reports.dashboard"):
            print(f"{job} for {served}: {recovery(url, 'jobs', 'run', job, '--date', served.isoformat()):.1f} s")

    if args.keep and args.database == "sqlite":
        url = f"sqlite:///{args.keep.resolve()}"
        if not args.keep.exists():
            load(url)
        else:
            recovery(url, "init")  # a file kept from an earlier version: bring its schema to head
        morning(url)
        verdict(_measure(url, args, as_of))
        return
    with scratch_database(args.database, "bench_pages") as url:
        load(url)
        morning(url)
        problems = _measure(url, args, as_of)
    verdict(problems)


if __name__ == "__main__":
    main()
