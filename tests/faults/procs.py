"""Real processes for the fault tests: the `recovery` command and a gunicorn server on the test's database,
killed with SIGKILL when the database shows them inside a transaction."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, text

from tests.payments.agent_client import just_now, payment_body, signed_headers

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def environment(app: Flask, database_url: str) -> dict[str, str]:
    """The settings a separate process needs to work on the test's database with the test's keys."""
    return {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-only-secret",
            "RECOVERY_ENCRYPTION_KEYS": ",".join(app.config["ENCRYPTION_KEYS"]), "RECOVERY_TZ": "Asia/Shanghai",
            "RECOVERY_LOG_LEVEL": "WARNING", "RECOVERY_AGENT_RATE_LIMIT": "100000/minute"}


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    """Start a process in a session of its own, so that it and its children can be killed together."""
    return subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL the process and everything it started (gunicorn's workers)."""
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def in_transaction(database_url: str, probe) -> bool:
    """Whether some other connection to the database is inside a write transaction right now.

    SQLite: another connection holds the write lock, so that ours cannot take it (a write transaction
    small enough to stay in the page cache writes nothing to the log before it commits, so the log's size
    would show it too late); PostgreSQL: a backend of this database other than ours has an open
    transaction that holds a transaction id (it wrote).
    """
    if database_url.startswith("sqlite"):
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:  # "database is locked": a writer is inside its transaction
            return "locked" in str(error) or "busy" in str(error)
        probe.execute("ROLLBACK")
        return False
    with probe.connect() as conn:
        return bool(conn.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL")))


def probe_for(database_url: str):
    if database_url.startswith("sqlite"):
        return sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
    return create_engine(database_url, poolclass=None)


def kill_mid_transaction(proc: subprocess.Popen, database_url: str, *, timeout: float = 60) -> bool:
    """SIGKILL `proc` as soon as the database shows it writing; False if it finished first."""
    probe = probe_for(database_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if in_transaction(database_url, probe):
                kill(proc)
                return True
            time.sleep(0.002)
        return False
    finally:
        if isinstance(probe, sqlite3.Connection):
            probe.close()
        else:
            probe.dispose()


SERVER_APP_NAME = "recovery-under-test"


def terminate_backends(database_url: str) -> int:
    """PostgreSQL: drop the server's connections to the database (as a failover or an admin would)."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND application_name = :name"), {"name": SERVER_APP_NAME}).all())
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(env: dict[str, str], port: int, workers: int = 1) -> subprocess.Popen:
    """gunicorn on 127.0.0.1:`port`, as in production; waits until it answers."""
    env = {**env, "PGAPPNAME": SERVER_APP_NAME}  # libpq names the server's connections
    proc = start([str(BIN / "gunicorn"), "-w", str(workers), "--threads", "8", "-b", f"127.0.0.1:{port}",
                  "--graceful-timeout", "1", "wsgi:app"], env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/openapi.json", timeout=2):
                return proc
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if proc.poll() is not None:
                raise RuntimeError(proc.stdout.read().decode(errors="replace")[-3000:]) from None
            time.sleep(0.1)
    kill(proc)
    raise RuntimeError("the server did not start")


PAID_AT = just_now()  # one instant for every try of a payment: a retry sends the very same body


def post_payment(port: int, agent: str, secret: str, n: int, customers: int) -> tuple[int, dict | None]:
    """Post payment number `n` (key k-n, reference R-n, n fen + 1 yuan); (status, answer) or (0, None)."""
    body = payment_body(customer_id=f"C{n % customers + 1}", amount=f"1.{n % 100:02d}", channel_ref=f"R-{n}",
                        paid_at=PAID_AT)
    path = "/api/v1/payments"
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST",
                                     headers=signed_headers(agent, secret, "POST", path, body, f"k-{n}"))
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"{}")
        except ValueError:
            return e.code, None
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return 0, None  # the server went away: not acknowledged


def load(port: int, agent: str, secret: str, numbers: range, customers: int, threads: int = 8,
         into: dict | None = None) -> dict:
    """Post the numbered payments from `threads` clients at once; fills and returns {n: (status, answer)}."""
    answers = {} if into is None else into

    def one(n: int) -> None:
        answers[n] = post_payment(port, agent, secret, n, customers)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, numbers))
    return answers
