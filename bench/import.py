"""Import benchmark: the demo's bills (and payments) through `recovery import`, against a bare baseline.

    .venv/bin/python bench/import.py --database sqlite --bills 500000
    .venv/bin/python bench/import.py --database postgresql --bills 500000

The baseline, measured in the same run on the same rows: PostgreSQL `COPY` of the bills file into a
bare table with no keys, or on SQLite `executemany` of the parsed rows into a bare table. The
ratio says how many times longer the full import (checks, conflicts, ledger, allocation, one
transaction) takes than merely putting the bytes in a table.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recovery.demo.generator import generate, write_csv  # noqa: E402

MONTHS = 24
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def _head(src: Path, dst: Path, rows: int) -> int:
    """Copy the header and the first `rows` records; returns how many were copied."""
    with src.open(encoding="utf-8") as f, dst.open("w", encoding="utf-8") as out:
        out.write(f.readline())
        n = 0
        for line in f:
            if n == rows:
                break
            out.write(line)
            n += 1
    return n


def _recovery(url: str, *args: str) -> float:
    start = time.perf_counter()
    env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    subprocess.run([str(ROOT / ".venv/bin/recovery"), *args], check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _baseline(database: str, url: str, path: Path) -> float:
    columns = ["bill_id", "customer_id", "period", "kwh", "amount", "issued_on", "due_on"]
    if database == "postgresql":
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            conn.execute("CREATE TABLE bench_bare (bill_id text, customer_id text, period text, kwh float8, "
                         "amount numeric(14,2), issued_on date, due_on date)")
            start = time.perf_counter()
            with conn.cursor().copy("COPY bench_bare FROM STDIN WITH (FORMAT csv, HEADER true)") as copy, \
                    path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            conn.commit()
            return time.perf_counter() - start
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    db.execute(f"CREATE TABLE bench_bare ({', '.join(columns)})")
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        db.executemany(f"INSERT INTO bench_bare VALUES ({', '.join('?' * len(columns))})", reader)
    db.commit()
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--bills", type=int, default=500_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        customers = -(-args.bills // MONTHS) + args.bills // 20  # some customers opened late have fewer bills
        files = write_csv(generate(customers=customers, months=MONTHS, seed=11, as_of=dt.date(2026, 10, 31)), work)
        bills = work / "bills-n.csv"
        n = _head(files["bills"], bills, args.bills)
        with files["payments"].open() as f:
            payments = sum(1 for _ in f) - 1

        if args.database == "postgresql":
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS recovery_bench WITH (FORCE)")
                conn.execute("CREATE DATABASE recovery_bench")
            url = "postgresql+psycopg://postgres@127.0.0.1:5432/recovery_bench"
        else:
            url = f"sqlite:///{work / 'bench.sqlite'}"
        _recovery(url, "init")
        t_customers = _recovery(url, "import", "customers", str(files["customers"]))
        t_bills = _recovery(url, "import", "bills", str(bills))
        t_again = _recovery(url, "import", "bills", str(bills))
        t_payments = _recovery(url, "import", "payments", str(files["payments"]))
        t_base = _baseline(args.database, url, bills)

    print(f"database            {args.database}")
    print(f"customers import    {customers:>9,} rows  {t_customers:7.2f} s  {customers / t_customers:>10,.0f} rows/s")
    print(f"bills import        {n:>9,} rows  {t_bills:7.2f} s  {n / t_bills:>10,.0f} rows/s")
    print(f"bills re-import     {n:>9,} rows  {t_again:7.2f} s  {n / t_again:>10,.0f} rows/s  (no-op)")
    print(f"payments import     {payments:>9,} rows  {t_payments:7.2f} s  {payments / t_payments:>10,.0f} rows/s"
          "  (with allocation)")
    base = "COPY into a bare table" if args.database == "postgresql" else "executemany into a bare table"
    print(f"baseline            {n:>9,} rows  {t_base:7.2f} s  {n / t_base:>10,.0f} rows/s  ({base})")
    print(f"ratio               bills import takes {t_bills / t_base:.1f}x the baseline's time")


if __name__ == "__main__":
    main()
