"""What the demo-based benchmarks share: running `recovery …` against a database, and a scratch database
(a temporary SQLite file or a fresh PostgreSQL database, dropped afterwards)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")


def recovery(url: str, *args: str) -> float:
    """Run `recovery ARGS` with DATABASE_URL=url (output discarded); returns the seconds it took."""
    start = time.perf_counter()
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([str(ROOT / ".venv/bin/recovery"), *args], check=True, env=env, stdout=subprocess.DEVNULL,
                   cwd=ROOT)
    return time.perf_counter() - start


@contextlib.contextmanager
def scratch_database(kind: str, name: str) -> Iterator[str]:
    """The SQLAlchemy URL of an empty database of `kind` (sqlite | postgresql), removed on exit."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.sqlite"
        return
    database = f"{name}_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{database}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def verdict(problems: list[str]) -> None:
    """Exit non-zero, saying why, when a benchmark's result is wrong or over its target."""
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    if problems:
        raise SystemExit(1)
