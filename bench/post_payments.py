"""Agent posting benchmark: gunicorn on PostgreSQL, signed payments from several agents at once.

    .venv/bin/python bench/post_payments.py [--clients 8,16,32] [--seconds 20] [--workers 4]

For each number of clients, each client posting as its own agent on one keep-alive connection, closed
loop: sustained payments per second and p50/p99 latency for `POST /api/v1/payments`, beside the same for
a minimal endpoint of the same app that only inserts one row (the floor), measured in the same run. The
headline is the ratio of rates and of p99s. Then it checks that every payment answered 201 is in the
ledger exactly once, that nothing else was posted, and that every agent's takings equal the sum of its
payments; it exits non-zero if any check fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import itertools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.payments.agent_client import signed_headers  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
DB = "recovery_bench_pay"
PORT = 8765
BUSINESS = dt.timezone(dt.timedelta(hours=8))
SERIAL = itertools.count()  # request numbers run on across loads: every payment has its own key and reference


def run_load(make_request, seconds: float, clients: int) -> tuple[list[float], list[tuple[int, dict]]]:
    """`clients` threads, each on one keep-alive connection, sending until the time is up.
    `make_request(client, n)` builds request n (numbered across all clients) of client `client`."""
    latencies: list[float] = []
    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        mine, got = [], []
        while time.monotonic() < deadline:
            method, path, body, headers = make_request(index, next(SERIAL))
            start = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            mine.append(time.perf_counter() - start)
            got.append((response.status, json.loads(payload) if payload else {}))
        conn.close()
        with lock:
            latencies.extend(mine)
            answers.extend(got)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, answers


def _now() -> str:
    """An agent posts what it has just collected: paid now, in the business time zone."""
    return dt.datetime.now(BUSINESS).isoformat(timespec="seconds")


def summary(name: str, latencies: list[float], seconds: float) -> tuple[float, float]:
    rate = len(latencies) / seconds
    q = statistics.quantiles(latencies, n=100)
    print(f"  {name:<22} {len(latencies):>7,} requests  {rate:>8,.0f}/s  p50 {q[49] * 1000:6.1f} ms  "
          f"p99 {q[98] * 1000:6.1f} ms")
    return rate, q[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="8,16,32", help="client counts to run, each client its own agent")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    counts = [int(c) for c in args.clients.split(",")]

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    url = f"postgresql://postgres@127.0.0.1:5432/{DB}"
    env = os.environ | {"DATABASE_URL": url, "SECRET_KEY": "bench", "RECOVERY_DEMO_PASSWORD": "bench-password-1",
                        "PYTHONPATH": str(ROOT), "RECOVERY_AGENT_RATE_LIMIT": "100000/minute"}
    recovery = str(ROOT / ".venv/bin/recovery")
    subprocess.run([recovery, "init"], env=env, check=True, capture_output=True)
    subprocess.run([recovery, "demo", "--customers", "2000", "--months", "12"], env=env, check=True,
                   capture_output=True)
    secrets = {}
    for i in range(max(counts)):
        code = f"AGB{i:02d}"
        out = subprocess.run([recovery, "agent", "create", code, "--name", code, "--deposit", "100000000.00",
                              "--json"], env=env, check=True, capture_output=True, text=True).stdout
        secrets[code] = json.loads(out)["secret"]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_floor (id bigserial PRIMARY KEY, at timestamptz)")
        customers = [r[0] for r in conn.execute("SELECT code FROM customers ORDER BY code")]
    agents = list(secrets)

    def payment(client: int, n: int):
        agent = agents[client]
        body = json.dumps({"customer_id": customers[n % len(customers)], "amount": f"{10 + n % 90}.{n % 100:02d}",
                           "channel_ref": f"R{n:09d}", "paid_at": _now()}).encode()
        key = f"k{n:09d}"
        return "POST", "/api/v1/payments", body, signed_headers(agent, secrets[agent], "POST", "/api/v1/payments",
                                                               body, key)

    def floor(client: int, n: int):
        return "POST", "/bench/insert", b"", {}

    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{PORT}", "--log-level",
         "warning", "bench.post_payments_app:app"], env=env, cwd=ROOT)
    answers: list[tuple[int, dict]] = []
    results = []
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/login")
                break
            except OSError:
                time.sleep(0.2)
        time.sleep(1)
        answers.extend(run_load(payment, 2, max(counts))[1])  # warm every worker's caches and connections
        run_load(floor, 2, min(counts))
        print(f"gunicorn {args.workers} workers, PostgreSQL, {args.seconds:g} s each; each client its own agent")
        for clients in counts:
            floor_latencies, _ = run_load(floor, args.seconds, clients)
            pay_latencies, got = run_load(payment, args.seconds, clients)
            answers.extend(got)
            print(f"{clients} clients")
            floor_rate, floor_p99 = summary("floor: insert one row", floor_latencies, args.seconds)
            pay_rate, pay_p99 = summary("signed agent payment", pay_latencies, args.seconds)
            print(f"  ratio                  rate {pay_rate / floor_rate:.2f}x the floor's; "
                  f"p99 {pay_p99 / floor_p99:.1f}x the floor's")
            results.append((clients, pay_rate / floor_rate, pay_p99 / floor_p99))
    finally:
        server.terminate()
        server.wait(timeout=20)

    print("summary                " + "; ".join(f"{c} clients: {rate:.2f}x the floor's rate, p99 {p99:.1f}x"
                                                  for c, rate, p99 in results))
    created = [a for status, a in answers if status == 201]
    statuses = sorted({status for status, _ in answers})
    with psycopg.connect(url) as conn:
        ledger = dict(conn.execute(
            "SELECT p.code, count(l.id) FROM payments p LEFT JOIN ledger_entries l ON l.payment_id = p.id "
            "WHERE p.channel = 'agent' AND p.channel_account LIKE 'AGB%' GROUP BY p.code").fetchall())
        takings = conn.execute(
            "SELECT a.code, a.unremitted_fen, coalesce(sum(p.amount_fen), 0) FROM agents a LEFT JOIN payments p "
            "ON p.channel = 'agent' AND p.channel_account = a.code WHERE a.code LIKE 'AGB%' "
            "GROUP BY a.code, a.unremitted_fen").fetchall()
    once = all(ledger.get(a["payment_id"]) == 1 for a in created) and len(ledger) == len(created)
    balanced = all(unremitted == total for _, unremitted, total in takings)
    print(f"check                  statuses {statuses}; {len(created):,} answered 201, each in the ledger exactly "
          f"once: {once}; every bench agent's takings equal its payments: {balanced}")
    if not (once and balanced and statuses == [201]):
        sys.exit(1)


if __name__ == "__main__":
    main()
