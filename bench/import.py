"""Import benchmark: the demo's bills and payments through `recovery import`, each against a bare COPY.

    .venv/bin/python bench/import.py --database postgresql --bills 200000 --payments 200000
    .venv/bin/python bench/import.py --database sqlite --bills 200000 --payments 200000

The floor, measured in the same run on the same files: on PostgreSQL `COPY` of the file into a bare
table with no keys; on SQLite `executemany` of the parsed rows into a bare table. Each ratio says how
many times longer the full import (checks, conflicts, ledger entries, allocation, receipts, audit, one
transaction) takes than merely putting the bytes in a table; the bar is 5x on PostgreSQL.

The run checks its own result and exits non-zero when it is wrong: the stored counts (bills, payments,
their ledger entries) must equal the rows imported, a second import of each file must store nothing,
and the allocations of a sample of customers must equal a from-scratch oldest-bill-first walk of their
bills and payments, computed here.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import scratch_database  # noqa: E402
from recovery.demo.generator import generate, write_csv  # noqa: E402

MONTHS = 24
PER_CUSTOMER = 21  # the demo gives each customer about 22 bills and 21 payments in 24 months
SAMPLE = 300
BARE = {  # the bare tables' columns, as in the files
    "bills": ["bill_id text", "customer_id text", "period text", "kwh float8", "amount numeric(14,2)",
              "issued_on date", "due_on date"],
    "payments": ["payment_id text", "customer_id text", "channel text", "channel_account text", "channel_ref text",
                 "amount numeric(14,2)", "paid_at timestamptz"],
}


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


def _import(url: str, kind: str, path: Path) -> tuple[float, str]:
    """`recovery import KIND FILE`: its seconds and its one-line summary."""
    start = time.perf_counter()
    done = subprocess.run([str(ROOT / ".venv/bin/recovery"), "import", kind, str(path)], check=True,
                          env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True, cwd=ROOT)
    return time.perf_counter() - start, done.stdout.strip()


def _init(url: str) -> None:
    subprocess.run([str(ROOT / ".venv/bin/recovery"), "init"], check=True, env={**os.environ, "DATABASE_URL": url},
                   stdout=subprocess.DEVNULL, cwd=ROOT)


def _connect(url: str):
    if url.startswith("sqlite"):
        return sqlite3.connect(url.removeprefix("sqlite:///"))
    return psycopg.connect(url.replace("+psycopg", ""))


def _baseline(url: str, kind: str, path: Path) -> float:
    """Seconds to put the file's rows into a bare table (COPY on PostgreSQL, executemany on SQLite)."""
    table = f"bench_bare_{kind}"
    if url.startswith("postgresql"):
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            conn.execute(f"CREATE TABLE {table} ({', '.join(BARE[kind])})")
            conn.commit()
            start = time.perf_counter()
            with conn.cursor().copy(f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)") as copy, \
                    path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            conn.commit()
            return time.perf_counter() - start
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    columns = len(BARE[kind])
    db.execute(f"CREATE TABLE {table} ({', '.join(BARE[kind])})")
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        db.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * columns)})", reader)
    db.commit()
    elapsed = time.perf_counter() - start
    db.close()
    return elapsed


COUNTS = {
    "bills": "SELECT count(*) FROM bills",
    "payments": "SELECT count(*) FROM payments",
    "bill entries": "SELECT count(*) FROM ledger_entries WHERE kind = 'bill'",
    "payment entries": "SELECT count(*) FROM ledger_entries WHERE kind = 'payment'",
    "allocations": "SELECT count(*) FROM allocations",
    "allocated fen": "SELECT coalesce(sum(amount_fen), 0) FROM allocations",
}


def _counts(url: str) -> dict[str, int]:
    conn = _connect(url)
    try:
        return {name: int(conn.execute(sql).fetchone()[0]) for name, sql in COUNTS.items()}
    finally:
        conn.close()


def _fen(text: str) -> int:
    yuan, _, cents = text.partition(".")
    return int(yuan) * 100 + int((cents + "00")[:2])


def _expected(bills: Path, payments: Path, sample: set[str]) -> dict[tuple[str, str], int]:
    """From the files alone: walk each sampled customer's payments in time order over its bills in the
    order they fall due (oldest first; ties by bill id), as allocating from scratch does."""
    owed: dict[str, list[tuple[str, str, str, int]]] = defaultdict(list)
    with bills.open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if r["customer_id"] in sample:
                owed[r["customer_id"]].append((r["due_on"], r["issued_on"], r["bill_id"], _fen(r["amount"])))
    paid: dict[str, list[tuple[dt.datetime, str, int]]] = defaultdict(list)
    with payments.open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if r["customer_id"] in sample:
                paid[r["customer_id"]].append((dt.datetime.fromisoformat(r["paid_at"]), r["payment_id"],
                                               _fen(r["amount"])))
    out: dict[tuple[str, str], int] = {}
    for customer, pays in paid.items():
        # Bill ids order like the database's ids here: the file lists each customer's bills by period.
        queue = [[code, amount] for _due, _issued, code, amount in sorted(owed[customer]) if amount > 0]
        for _at, payment, amount in sorted(pays):
            while amount and queue:
                take = min(amount, queue[0][1])
                out[(payment, queue[0][0])] = out.get((payment, queue[0][0]), 0) + take
                amount -= take
                queue[0][1] -= take
                if queue[0][1] == 0:
                    queue.pop(0)
    return out


def _stored(url: str, sample: set[str]) -> dict[tuple[str, str], int]:
    conn = _connect(url)
    marks = ", ".join("?" if url.startswith("sqlite") else "%s" for _ in sample)
    try:
        rows = conn.execute(
            "SELECT p.code, b.code, a.amount_fen FROM allocations a JOIN payments p ON p.id = a.payment_id "
            f"JOIN bills b ON b.id = a.bill_id JOIN customers c ON c.id = a.customer_id WHERE c.code IN ({marks})",
            list(sample)).fetchall()
    finally:
        conn.close()
    out: dict[tuple[str, str], int] = {}
    for payment, bill, amount in rows:
        out[(payment, bill)] = out.get((payment, bill), 0) + int(amount)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--bills", type=int, default=200_000)
    parser.add_argument("--payments", type=int, default=200_000)
    args = parser.parse_args()
    wrong: list[str] = []

    with tempfile.TemporaryDirectory() as tmp, scratch_database(args.database, "recovery_bench_import") as url:
        work = Path(tmp)
        customers = -(-max(args.bills, args.payments) // PER_CUSTOMER) + 50
        files = write_csv(generate(customers=customers, months=MONTHS, seed=11, as_of=dt.date(2026, 10, 31)), work)
        bills, payments = work / "bills-n.csv", work / "payments-n.csv"
        n_bills = _head(files["bills"], bills, args.bills)
        n_payments = _head(files["payments"], payments, args.payments)

        _init(url)
        t_customers, _ = _import(url, "customers", files["customers"])
        t_bills, _ = _import(url, "bills", bills)
        t_bills_again, said_bills = _import(url, "bills", bills)
        t_payments, _ = _import(url, "payments", payments)
        before = _counts(url)
        t_payments_again, said_payments = _import(url, "payments", payments)
        after = _counts(url)
        t_base_bills = _baseline(url, "bills", bills)
        t_base_payments = _baseline(url, "payments", payments)

        expected_counts = {"bills": n_bills, "payments": n_payments, "bill entries": n_bills,
                           "payment entries": n_payments}
        for name, want in expected_counts.items():
            if before[name] != want:
                wrong.append(f"{name}: {before[name]:,} stored, {want:,} imported")
        if after != before:
            wrong.append(f"re-importing the payments changed the database: {before} -> {after}")
        for kind, said in (("bills", said_bills), ("payments", said_payments)):
            if " 0 new" not in said:
                wrong.append(f"re-importing the {kind} was no no-op: {said!r}")
        with payments.open(encoding="utf-8", newline="") as f:
            payers = sorted({r["customer_id"] for r in csv.DictReader(f)})
        sample = set(random.Random(5).sample(payers, min(SAMPLE, len(payers))))
        expected, stored = _expected(bills, payments, sample), _stored(url, sample)
        if stored != expected:
            differ = sorted(set(stored.items()) ^ set(expected.items()))[:5]
            wrong.append(f"allocations of the {len(sample)} sampled customers differ from scratch: {differ}")

    floor = "COPY into a bare table" if args.database == "postgresql" else "executemany into a bare table"

    def line(label: str, rows: int, seconds: float, note: str = "") -> None:
        print(f"{label:<20}{rows:>10,} rows  {seconds:7.2f} s  {rows / seconds:>10,.0f} rows/s  {note}".rstrip())

    print(f"database            {args.database}")
    line("customers import", customers, t_customers)
    line("bills import", n_bills, t_bills)
    line("bills re-import", n_bills, t_bills_again, "(no-op)")
    line("payments import", n_payments, t_payments, "(with allocation)")
    line("payments re-import", n_payments, t_payments_again, "(no-op)")
    line("bills floor", n_bills, t_base_bills, f"({floor})")
    line("payments floor", n_payments, t_base_payments, f"({floor})")
    print(f"ratio               bills import {t_bills / t_base_bills:.1f}x the floor, "
          f"payments import {t_payments / t_base_payments:.1f}x the floor (bar on PostgreSQL: 5x)")
    print(f"allocated           {before['allocations']:,} allocations, "
          f"{len(expected):,} of them checked against a from-scratch walk")
    for problem in wrong:
        print(f"WRONG: {problem}", file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
