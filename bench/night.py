"""The whole night, timed: `recovery night --date D` over a demo utility, each job beside a floor measured in
the same run (a bare SELECT of the tables it reads, into memory), and the night as a whole.

    .venv/bin/python bench/night.py --customers 20000                      # SQLite, a quick look
    .venv/bin/python bench/night.py --customers 1000000 --database postgresql

Loads the demo (`recovery demo`, untimed), runs `recovery night --json` for the day before the demo's
as-of date, then reads each job's input tables with one SELECT each (the least any job reading them must
spend) and prints every job's seconds, its floor and the ratio. It exits non-zero when the night failed,
when a job's rows differ from what the data says it must go through (ratings: every customer; the dashboard:
one row per grid and figure), or when the run's history does not hold one succeeded run per job.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import recovery, scratch_database, verdict  # noqa: E402

# What each job reads (table: columns); its floor is one SELECT of each into memory.
INPUTS: dict[str, dict[str, list[str]]] = {
    "billing.penalties": {"bills": ["id", "customer_id", "amount_fen", "due_on"],
                          "ledger_entries": ["customer_id", "kind", "amount_fen", "effective_on"]},
    "payments.debit_batch": {"bills": ["id", "customer_id", "due_on"], "debit_mandates": ["customer_id"]},
    "payments.prepaid_monitor": {"prepaid_accounts": ["customer_id"], "ledger_entries": ["customer_id", "amount_fen"]},
    "credit.split_settlement": {"settlement_terms": ["customer_id"], "bills": ["id", "customer_id", "period"]},
    "reconcile.daily": {"payments": ["id", "channel", "channel_account", "channel_ref", "amount_fen", "paid_at"],
                        "statement_lines": ["id", "channel_account", "reference", "amount_fen", "at"]},
    "credit.ratings": {"customers": ["id", "customer_class"], "bills": ["customer_id", "due_on", "amount_fen"],
                       "events": ["customer_id", "kind", "occurred_on"]},
    "credit.terms_review": {"credit_ratings": ["customer_id", "grade"], "settlement_terms": ["customer_id"]},
    "credit.security_review": {"customers": ["id", "customer_class"], "deposits": ["customer_id"],
                               "guarantees": ["customer_id"], "credit_ratings": ["customer_id", "grade"]},
    "credit.deposit_release": {"deposits": ["customer_id"], "deposit_entries": ["deposit_id", "amount_fen"]},
    "reports.dashboard": {"ledger_entries": ["customer_id", "kind", "amount_fen", "effective_on"],
                          "customers": ["id", "grid_id"]},
    "risk.score": {"bills": ["customer_id", "period", "kwh", "amount_fen", "due_on"],
                   "payments": ["customer_id", "amount_fen", "paid_at"], "events": ["customer_id", "kind"]},
    "collections.promises": {"promises": ["id", "customer_id"], "pay_plans": ["id", "customer_id"]},
    "collections.writeoff_recovery": {"write_offs": ["customer_id"], "ledger_entries": ["customer_id", "amount_fen"]},
    "collections.dunning": {"bills": ["id", "customer_id", "amount_fen", "due_on"],
                            "ledger_entries": ["customer_id", "amount_fen"], "dunning_states": ["customer_id"]},
    "collections.worklist": {"customers": ["id", "grid_id"], "bills": ["customer_id", "kwh", "amount_fen"],
                             "risk_scores": ["customer_id", "pd", "expected_loss_fen"]},
    "notifications.send": {"notifications": ["id"]},
}


def _floors(url: str) -> dict[str, float]:
    """Seconds to SELECT each job's input columns into pandas (tables read once per job, as the job would)."""
    from sqlalchemy import select

    from recovery import bulk, create_app
    from recovery.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    floors = {}
    with app.app_context():
        tables = db.metadata.tables
        for job, reads in INPUTS.items():
            start = time.perf_counter()
            for table, columns in reads.items():
                bulk.read_frame(db.session, select(*(tables[table].c[c] for c in columns)))
            floors[job] = time.perf_counter() - start
            db.session.rollback()
        db.engine.dispose()
    return floors


def _facts(url: str, day: dt.date) -> dict[str, int]:
    """What the data says some jobs must go through, and the night's run history."""
    from sqlalchemy import func, select

    from recovery import create_app
    from recovery.customers.models import Customer
    from recovery.extensions import db
    from recovery.jobs.models import JobRun

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        out = {"customers": db.session.scalar(select(func.count()).select_from(Customer)),
               "runs": db.session.scalar(select(func.count()).select_from(JobRun).where(
                   JobRun.day == day, JobRun.trigger == "night", JobRun.status == "succeeded"))}
        db.engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", default="2026-11-30", help="the demo's today; the night is for the day before")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)
    day = as_of - dt.timedelta(days=1)

    with scratch_database(args.database, "bench_night") as url:
        recovery(url, "init")
        load_s = recovery(url, "demo", "--customers", str(args.customers), "--months", str(args.months),
                           "--seed", str(args.seed), "--as-of", as_of.isoformat())
        print(f"{args.database}: demo of {args.customers:,} customers x {args.months} months loaded in {load_s:.1f} s "
              "(untimed)")
        env = {**os.environ, "DATABASE_URL": url, "RECOVERY_DEMO_PASSWORD": "bench password 1"}
        start = time.perf_counter()
        done = subprocess.run([str(ROOT / ".venv/bin/recovery"), "night", "--date", day.isoformat(), "--json"],
                              env=env, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if not done.stdout.strip():
            raise SystemExit(f"FAILED: the night printed nothing: {done.stderr.strip()[-2000:]}")
        night = json.loads(done.stdout)
        floors = _floors(url)
        facts = _facts(url, day)

    print(f"\nnight {day.isoformat()}: {wall:.1f} s wall (the command, start-up included)")
    print(f"{'job':30} {'status':10} {'rows':>10} {'seconds':>9} {'floor s':>9} {'ratio':>8}")
    for j in night["jobs"]:
        floor = floors.get(j["job"])
        ratio = f"{j['seconds'] / floor:7.1f}x" if floor else "-"
        rows = "-" if j["rows"] is None else f"{j['rows']:,}"
        print(f"{j['job']:30} {j['status']:10} {rows:>10} {j['seconds']:9.2f} "
              f"{floor if floor is not None else float('nan'):9.3f} {ratio:>8}")
    total_floor = sum(floors.values())
    print(f"{'night':30} {'':10} {'':>10} {night['seconds']:9.2f} {total_floor:9.3f} "
          f"{night['seconds'] / total_floor:7.1f}x")
    furthest = max((j for j in night["jobs"] if floors.get(j["job"])), key=lambda j: j["seconds"] / floors[j["job"]])
    print(f"furthest from its floor: {furthest['job']} ({furthest['seconds'] / floors[furthest['job']]:.0f}x)")

    rows = {j["job"]: j["rows"] for j in night["jobs"]}
    problems = [p for p, wrong in (
        (f"the night exited {done.returncode}: {done.stderr.strip()[-500:]}", done.returncode != 0),
        (f"credit.ratings went through {rows.get('credit.ratings')} customers, not all {facts['customers']:,}",
         rows.get("credit.ratings") != facts["customers"]),
        (f"{facts['runs']} succeeded night runs in the history, not one per job ({len(night['jobs'])})",
         facts["runs"] != len(night["jobs"])),
    ) if wrong]
    verdict(problems)


if __name__ == "__main__":
    main()
