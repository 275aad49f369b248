"""The disk filling up during a statement import: nothing of the file is kept, the database stays sound,
and once there is room the import and the nightly jobs complete."""

from __future__ import annotations

import csv
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from recovery import create_app
from recovery.cli import cli
from recovery.extensions import db
from tests.conftest import _settings
from tests.factories import customer, load
from tests.faults import procs

DAY = "2026-03-10"


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of its own (root only), resized by the test; unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root (CAP_SYS_ADMIN); the disk-full case cannot be staged")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _resize(mount: Path, size: int) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mount)], check=True)


def _statement(path: Path, lines: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["channel_ref", "customer_id", "amount", "paid_at"])
        for i in range(lines):
            w.writerow([f"BANK-{i:06d}", f"C{i % 3 + 1}", f"{10 + i % 90}.{i % 100:02d}",
                        f"{DAY}T10:{i % 60:02d}:00+08:00"])
    return path


def _counts(path: Path) -> dict:
    with sqlite3.connect(path) as conn:
        return {"integrity": conn.execute("PRAGMA integrity_check").fetchone()[0],
                "files": conn.execute("SELECT count(*) FROM statement_files").fetchone()[0],
                "lines": conn.execute("SELECT count(*) FROM statement_lines").fetchone()[0]}


def test_a_statement_import_that_fills_the_disk_keeps_nothing_and_completes_once_there_is_room(
        app, backend, recovery, tmp_path, small_disk):
    if backend["name"] != "sqlite":
        pytest.skip("PostgreSQL's disk is its server's own: the database file the import writes is SQLite's")
    load(recovery, tmp_path, customers=[customer("C1"), customer("C2"), customer("C3")])
    db.engine.dispose()
    source = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    database = small_disk / "recovery.sqlite"
    with sqlite3.connect(source) as conn:  # one file, the write-ahead log folded in
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(source, database)
    statement = _statement(tmp_path / "icbc-2026-03-10.csv", 4000)
    # The rerun and the nightly job run in this process, on an app bound to the database on the small disk.
    other = create_app(_settings(f"sqlite:///{database}", tmp_path))
    run = other.test_cli_runner()
    command = ["reconcile", "run", "--date", DAY, "--statement", str(statement), "--format", "csv",
               "--channel", "bank", "--account", "ICBC"]

    _resize(small_disk, database.stat().st_size + 128 * 1024)  # room for a little, not for the statement
    # A real process meets the full disk; the rest runs here.
    full = subprocess.run([str(procs.BIN / "recovery"), *command], env=procs.environment(app, f"sqlite:///{database}"),
                          capture_output=True, text=True, timeout=120)
    assert full.returncode != 0
    assert full.stderr.strip().splitlines()[-1] == "error: database unavailable: database or disk is full", \
        full.stderr
    assert _counts(database) == {"integrity": "ok", "files": 0, "lines": 0}

    _resize(small_disk, 64 * 1024 * 1024)
    with other.app_context():  # the commands find this app's context and use it
        again = run.invoke(cli, command)
        assert again.exit_code == 0, again.output
        assert _counts(database) == {"integrity": "ok", "files": 1, "lines": 4000}
        nightly = run.invoke(cli, ["jobs", "run", "reconcile.daily", "--date", DAY])
        db.engine.dispose()  # let go of the file on the small disk
    assert nightly.exit_code == 0, nightly.output
