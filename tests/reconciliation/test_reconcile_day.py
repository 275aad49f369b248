"""The nightly reconciliation end to end, through the CLI, on both databases: a generated day with known
injected differences yields exactly those breaks; a rerun changes nothing; a file is never taken twice."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from recovery.extensions import db
from recovery.payments.models import Payment
from recovery.reconcile.models import ReconBreak, ReconMatch, ReconRun
from tests.factories import customer, load, write_csv
from tests.reconciliation.reconcile_day import generate_day

DAY = dt.date(2026, 11, 22)
TZ = "Asia/Shanghai"
STATEMENT_COLUMNS = ["channel_ref", "customer_id", "amount", "paid_at"]


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _local(at: pd.Timestamp) -> str:
    return at.tz_convert(TZ).isoformat()


def _statement(path: Path, lines: pd.DataFrame) -> Path:
    return write_csv(path, STATEMENT_COLUMNS, [
        {"channel_ref": r.ref, "customer_id": r.customer, "amount": _yuan(r.amount_fen), "paid_at": _local(r.at)}
        for r in lines.itertuples()])


@pytest.fixture
def day_data(recovery, tmp_path):
    """A generated agent day (about 5 breaks of each kind) loaded into the ledger; statement lines split into
    the day's file and the next day's (the lines past midnight)."""
    data = generate_day(150, day=DAY, break_share=0.034, seed=11, accounts=1, no_ref_share=0.0)
    pays = data.payments
    codes = sorted(set(pays["customer"]) | set(data.lines["customer"]))
    load(recovery, tmp_path, customers=[customer(c) for c in codes],
         payments=[{"payment_id": "", "customer_id": r.customer, "channel": "agent", "channel_account": "AG01",
                    "channel_ref": r.ref, "amount": _yuan(r.amount_fen), "paid_at": _local(r.at)}
                   for r in pays.itertuples()])
    next_day = data.lines["at"] >= data.day_end
    today = _statement(tmp_path / "ag01-today.csv", data.lines[~next_day])
    tomorrow = _statement(tmp_path / "ag01-tomorrow.csv", data.lines[next_day])
    return data, today, tomorrow


def _report(recovery, day=DAY) -> dict:
    result = recovery("reconcile", "report", "--date", day.isoformat(), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _breaks(report: dict) -> set[tuple[str, str, str]]:
    return {(b["kind"], b["channel_ref"], b["status"]) for ch in report["channels"] for b in ch["breaks"]}


def _expected(data) -> set[tuple[str, str]]:
    """(kind, channel_ref) of every injected difference: the payment's reference, else the line's."""
    line_refs = data.lines.set_index("line_id")["ref"]
    return {(r.kind, f"R{int(r.payment_id)}" if not pd.isna(r.payment_id) else line_refs.loc[int(r.line_id)])
            for r in data.expected.itertuples()}


def test_every_injected_break_is_found_and_nothing_else(recovery, day_data):
    data, today, _tomorrow = day_data
    result = recovery("reconcile", "run", "--date", DAY, "--channel", "agent", "--statement", today,
                      "--format", "csv", "--account", "AG01")
    assert result.exit_code == 0, result.output
    report = _report(recovery)
    [agent] = report["channels"]
    assert (agent["channel"], agent["channel_account"]) == ("agent", "AG01")
    found = {(k, ref) for k, ref, _status in _breaks(report)}
    assert found == _expected(data)
    assert {k for k, _ in found} == {"missing_in_ledger", "missing_in_statement", "amount_mismatch", "duplicate",
                                     "timing"}
    # The next day's statement has not come: the payments just before midnight wait as open timing breaks.
    assert all(s == "open" for k, _r, s in _breaks(report) if k == "timing")
    in_day = data.payments[(data.payments["at"] >= data.day_start) & (data.payments["at"] < data.day_end)]
    assert agent["ledger_total"] == _yuan(int(in_day["amount_fen"].sum()))


def test_a_rerun_changes_nothing(recovery, day_data):
    _data, today, _tomorrow = day_data
    assert recovery("reconcile", "run", "--date", DAY, "--channel", "agent", "--statement", today, "--format", "csv",
                    "--account", "AG01").exit_code == 0

    def snapshot():
        db.session.expire_all()
        rows = db.session.execute(select(ReconBreak.id, ReconBreak.fingerprint, ReconBreak.status,
                                         ReconBreak.line_id, ReconBreak.payment_id).order_by(ReconBreak.id)).all()
        matches = db.session.execute(select(ReconMatch.id, ReconMatch.line_id, ReconMatch.payment_id, ReconMatch.rule)
                                     .order_by(ReconMatch.line_id)).all()
        runs = db.session.execute(select(ReconRun.id, ReconRun.matched, ReconRun.run_at)).all()
        return _report(recovery), rows, matches, runs

    before = snapshot()
    again = recovery("reconcile", "run", "--date", DAY, "--channel", "agent")
    assert again.exit_code == 0, again.output
    assert snapshot() == before


def test_the_same_file_twice_is_refused_and_changes_nothing(recovery, day_data):
    _data, today, _tomorrow = day_data
    args = ("reconcile", "run", "--date", DAY, "--channel", "agent", "--statement", today, "--format", "csv",
            "--account", "AG01")
    assert recovery(*args).exit_code == 0
    report = _report(recovery)
    second = recovery(*args)
    assert second.exit_code == 1
    assert "already imported" in second.stderr and second.stderr.count("\n") == 1
    assert _report(recovery) == report


def test_an_overlapping_statement_is_refused_unless_it_replaces_the_first(recovery, day_data, tmp_path):
    data, today, _tomorrow = day_data
    assert recovery("reconcile", "run", "--date", DAY, "--channel", "agent", "--statement", today, "--format", "csv",
                    "--account", "AG01").exit_code == 0
    corrected = _statement(tmp_path / "ag01-corrected.csv",
                           data.lines[data.lines["at"] < data.day_end].drop_duplicates("ref"))
    refused = recovery("reconcile", "run", "--date", DAY, "--channel", "agent", "--statement", corrected,
                       "--format", "csv", "--account", "AG01")
    assert refused.exit_code == 1
    assert "overlaps" in refused.stderr
    replaced = recovery("reconcile", "run", "--date", DAY, "--channel", "agent", "--statement", corrected,
                        "--format", "csv", "--account", "AG01", "--replace")
    assert replaced.exit_code == 0, replaced.output
    kinds = {k for k, _r, _s in _breaks(_report(recovery))}
    assert "duplicate" not in kinds  # the corrected statement no longer repeats lines, and is counted once
    [agent] = _report(recovery)["channels"]
    assert agent["statement_lines"] == len(data.lines[data.lines["at"] < data.day_end].drop_duplicates("ref"))


def test_the_next_days_statement_clears_the_timing_breaks(recovery, day_data):
    _data, today, tomorrow = day_data
    assert recovery("reconcile", "run", "--date", DAY, "--channel", "agent", "--statement", today, "--format", "csv",
                    "--account", "AG01").exit_code == 0
    open_timing = {r for k, r, s in _breaks(_report(recovery)) if k == "timing" and s == "open"}
    assert open_timing
    nxt = DAY + dt.timedelta(days=1)
    result = recovery("reconcile", "run", "--date", nxt, "--channel", "agent", "--statement", tomorrow,
                      "--format", "csv", "--account", "AG01")
    assert result.exit_code == 0, result.output
    timing = {(r, s) for k, r, s in _breaks(_report(recovery)) if k == "timing"}
    assert timing == {(r, "resolved") for r in open_timing}
    other = {(k, s) for k, _r, s in _breaks(_report(recovery, nxt))}
    assert other <= {("timing", "resolved")}


def test_matched_agent_payments_become_settled(recovery, app, day_data):
    _data, today, _tomorrow = day_data
    db.session.execute(Payment.__table__.update().values(state="provisional"))
    db.session.commit()
    assert recovery("reconcile", "run", "--date", DAY, "--channel", "agent", "--statement", today, "--format", "csv",
                    "--account", "AG01").exit_code == 0
    settled = db.session.scalar(select(func.count()).select_from(Payment).where(Payment.state == "settled"))
    matched = db.session.scalar(select(func.count(func.distinct(ReconMatch.payment_id))))
    assert settled == matched > 0


def test_a_late_statement_reopens_its_day_and_the_nightly_job_reruns_the_same(recovery, day_data):
    _data, today, _tomorrow = day_data
    job = recovery("jobs", "run", "reconcile.daily", "--date", DAY)
    assert job.exit_code == 0, job.output
    [agent] = _report(recovery)["channels"]
    assert (agent["state"], agent["breaks"]) == ("no_statement", [])  # payments wait for the agent's statement
    late = recovery("reconcile", "run", "--date", DAY, "--channel", "agent", "--statement", today, "--format", "csv",
                    "--account", "AG01")
    assert late.exit_code == 0, late.output
    db.session.expire_all()
    run = db.session.scalar(select(ReconRun).where(ReconRun.channel_account == "AG01"))
    assert run.reopened_at is not None and run.state == "breaks"
    after = _report(recovery)
    assert recovery("jobs", "run", "reconcile.daily", "--date", DAY).exit_code == 0
    assert _report(recovery) == after
