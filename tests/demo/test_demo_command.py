"""`recovery demo` loads a realistic utility through the import loaders, and is idempotent."""

from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import func, select

from recovery.auth.models import User


def test_demo_loads_customers_bills_payments_events_and_users(recovery, session, monkeypatch, tmp_path):
    monkeypatch.setenv("RECOVERY_DEMO_PASSWORD", "demo-password-123")
    result = recovery("demo", "--customers", "300", "--months", "12", "--as-of", "2026-11-23",
                      "--csv", tmp_path / "csv")
    assert result.exit_code == 0, result.output
    assert "password: demo-password-123" in result.output

    stats = json.loads(recovery("stats", "--json").stdout)
    assert stats["customers"] == 300
    assert stats["bills"] > 300 * 9 and stats["payments"] > 300 * 6 and stats["events"] > 0
    assert stats["outstanding"] != "0.00"
    assert session.scalar(select(func.count()).select_from(User)) >= 3

    # The files it wrote are contract files that `recovery import` accepts as already present.
    for kind in ("customers", "bills", "payments", "events"):
        again = recovery("import", kind, tmp_path / "csv" / f"{kind}.csv")
        assert again.exit_code == 0, again.output
        assert " 0 new" in again.stdout
    assert json.loads(recovery("stats", "--json").stdout) == stats


def test_demo_again_with_the_same_arguments_changes_nothing(recovery):
    args = ("demo", "--customers", "120", "--months", "6", "--as-of", "2026-11-23")
    assert recovery(*args).exit_code == 0
    first = json.loads(recovery("stats", "--json").stdout)
    second_run = recovery(*args)
    assert second_run.exit_code == 0, second_run.output
    assert "users created" not in second_run.output
    assert json.loads(recovery("stats", "--json").stdout) == first


def test_demo_ageing_shows_arrears_in_several_buckets(recovery, tmp_path):
    assert recovery("demo", "--customers", "400", "--months", "18", "--as-of", "2026-11-23").exit_code == 0
    out = tmp_path / "ageing.csv"
    assert recovery("report", "ageing", "--as-of", "2026-11-23", "--out", out).exit_code == 0
    buckets = pd.read_csv(out, dtype=str, keep_default_na=False)["bucket"].value_counts()
    assert buckets["current"] > 200
    assert len(buckets) >= 4
