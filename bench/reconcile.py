"""Reconciliation benchmark: one business day of N ledger payments and N statement lines with 1% injected
breaks, reconciled end to end (load both tables, match, store matches and breaks), against a bare pandas
hash join of the same two tables measured in the same run.

    .venv/bin/python bench/reconcile.py --database sqlite --n 1000000
    .venv/bin/python bench/reconcile.py --database postgresql --n 1000000
    .venv/bin/python bench/reconcile.py --database postgresql --n 1000000 --from-files

`--from-files`: one channel account's day, its payments in the ledger and its statement as the contract's
channel CSV; timed is the command a clerk runs, `recovery reconcile run --date D --channel agent --statement
FILE --format csv` (a fresh process: statement intake, reading the day, matching, storing), against pandas
reading the payments file and the statement file and outer-joining them on the reference, in the same run.

Two baselines: the join alone (the frames already in memory), and reading both tables from the database
then joining them (the same reads the reconciliation does, without its rules). The run also checks that
the breaks found are exactly the injected ones, and that a rerun changes nothing; it exits non-zero when
either fails, or when the break counts (by kind, and stored) differ from the injected ones.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import scratch_database, verdict  # noqa: E402
from recovery import bulk, create_app  # noqa: E402
from recovery.extensions import db  # noqa: E402
from tests.reconciliation.reconcile_day import generate_day  # noqa: E402

PG_ADMIN = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
DAY = dt.date(2026, 11, 22)


def _setup(n: int, seed: int, *, accounts: int = 4, with_lines: bool = True):
    """The generated day loaded straight into customers, payments and (with_lines) one statement (untimed)."""
    from recovery.customers.models import Customer, Grid
    from recovery.payments.models import Payment

    data = generate_day(n, day=DAY, seed=seed, break_share=0.01, accounts=accounts,
                        no_ref_share=0.1 if with_lines else 0.0)  # a channel CSV line always has its reference
    stamp = pd.Timestamp.now(tz="UTC")
    db.session.add(Grid(code="G1", name="bench"))
    db.session.flush()  # customers point at the grid
    codes = sorted(set(data.payments["customer"]) | set(data.lines["customer"]))
    bulk.insert_frame(db.session, Customer.__table__, pd.DataFrame({
        "id": range(1, len(codes) + 1), "code": codes, "name": codes, "customer_class": "residential",
        "grid_id": 1, "opened_on": pd.Series([pd.Timestamp("2020-01-01")] * len(codes)),
        "created_at": pd.Series([stamp] * len(codes))}))
    cust_id = pd.Series(range(1, len(codes) + 1), index=codes)
    p = data.payments
    bulk.insert_frame(db.session, Payment.__table__, pd.DataFrame({
        "id": p["payment_id"].to_numpy(), "code": "P" + p["payment_id"].astype(str), "customer_id":
        p["customer"].map(cust_id).to_numpy(), "channel": "agent", "channel_account": p["account"].to_numpy(),
        "channel_ref": p["ref"].to_numpy(), "amount_fen": p["amount_fen"].to_numpy(), "paid_at": p["at"],
        "state": "settled", "created_at": pd.Series([stamp] * len(p))}))
    if with_lines:
        _statement(data)
    if db.engine.dialect.name == "postgresql":
        # Rows were given explicit ids: move the sequences past them.
        for table in ("customers", "payments", "statement_lines")[:3 if with_lines else 2]:
            db.session.execute(db.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                       f"(SELECT max(id) FROM {table}))"))
    db.session.commit()
    db.session.execute(db.text("ANALYZE"))
    db.session.commit()
    return data


def _statement(data) -> None:
    """The day's statement lines stored as one statement per account, with the generator's line ids."""
    from recovery.reconcile.models import Statement, StatementFile, StatementLine

    file = StatementFile(sha256="0" * 64, name="bench", format="csv", line_count=len(data.lines), imported_by="bench")
    db.session.add(file)
    db.session.flush()
    statements = {}
    for acct in sorted(data.lines["account"].unique()):  # four accounts: four rows
        st = Statement(file_id=file.id, channel="agent", channel_account=acct, period_start=DAY, period_end=DAY,
                       line_count=int((data.lines["account"] == acct).sum()))
        db.session.add(st)
        db.session.flush()
        statements[acct] = st.id
    ln = data.lines
    local_day = ln["at"].dt.tz_convert("Asia/Shanghai").dt.tz_localize(None).dt.normalize()
    bulk.insert_frame(db.session, StatementLine.__table__, pd.DataFrame({
        "id": ln["line_id"].to_numpy(), "statement_id": ln["account"].map(statements).to_numpy(),
        "channel": "agent", "channel_account": ln["account"].to_numpy(), "line_index": range(len(ln)),
        "business_day": local_day, "at": ln["at"], "reference": ln["ref"].to_numpy(),
        "customer_code": ln["customer"].to_numpy(), "amount_fen": ln["amount_fen"].to_numpy()}))


def _baseline(data) -> tuple[float, float]:
    """(join of the in-memory frames, read both tables from the database + join) in seconds."""
    from sqlalchemy import select

    from recovery.payments.models import Payment
    from recovery.reconcile.models import StatementLine

    start = time.perf_counter()
    data.lines.merge(data.payments, on=["account", "ref"], how="outer")
    join_only = time.perf_counter() - start
    start = time.perf_counter()
    pays = bulk.read_frame(db.session, select(Payment.id, Payment.channel_account, Payment.channel_ref,
                                              Payment.amount_fen, Payment.paid_at))
    lines = bulk.read_frame(db.session, select(StatementLine.id, StatementLine.channel_account,
                                               StatementLine.reference, StatementLine.amount_fen, StatementLine.at))
    lines.merge(pays, left_on=["channel_account", "reference"], right_on=["channel_account", "channel_ref"],
                how="outer")
    db.session.rollback()
    return join_only, time.perf_counter() - start


def _yuan(fen: pd.Series) -> pd.Series:
    return (fen // 100).astype(str) + "." + (fen % 100).astype(str).str.zfill(2)


def _local_iso(at: pd.Series) -> pd.Series:
    return at.dt.tz_convert("Asia/Shanghai").dt.strftime("%Y-%m-%dT%H:%M:%S+08:00")


def _from_files(args, url: str, work: Path) -> None:
    """The clerk's command from a statement file, against pandas reading both files and joining them."""
    import subprocess

    from recovery.reconcile.models import ReconBreak, StatementLine

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RECOVERY_TZ": "Asia/Shanghai"})
    with app.app_context():
        import flask_migrate

        flask_migrate.upgrade()
        data = _setup(args.n, args.seed, accounts=1, with_lines=False)
        db.session.remove()
        db.engine.dispose()
    statement, payments = work / "statement.csv", work / "payments.csv"
    ln, p = data.lines, data.payments
    pd.DataFrame({"channel_ref": ln["ref"], "customer_id": ln["customer"], "amount": _yuan(ln["amount_fen"]),
                  "paid_at": _local_iso(ln["at"])}).to_csv(statement, index=False)
    pd.DataFrame({"customer_id": p["customer"], "channel": "agent", "channel_account": p["account"],
                  "channel_ref": p["ref"], "amount": _yuan(p["amount_fen"]), "paid_at": _local_iso(p["at"])}
                 ).to_csv(payments, index=False)

    env = {**os.environ, "DATABASE_URL": url, "RECOVERY_TZ": "Asia/Shanghai", "SECRET_KEY": "bench"}
    command = [str(ROOT / ".venv/bin/recovery"), "reconcile", "run", "--date", DAY.isoformat(), "--channel", "agent"]
    start = time.perf_counter()
    first = subprocess.run([*command, "--statement", str(statement), "--format", "csv"], env=env, check=True,
                           capture_output=True, text=True).stdout
    t_run = time.perf_counter() - start
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 / 1024  # kB on Linux
    start = time.perf_counter()
    again = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    t_rerun = time.perf_counter() - start

    start = time.perf_counter()
    read = {"engine": "pyarrow", "dtype": {"channel_ref": str, "customer_id": str, "amount": str}}
    pd.read_csv(statement, **read).merge(pd.read_csv(payments, **read), on="channel_ref", how="outer")
    t_floor = time.perf_counter() - start

    summary, rerun = json.loads(first), json.loads(again)
    with app.app_context():
        found = bulk.read_frame(db.session, db.select(ReconBreak.kind, StatementLine.reference, ReconBreak.payment_id)
                                .outerjoin(StatementLine, StatementLine.id == ReconBreak.line_id))
        db.session.remove()
        db.engine.dispose()
    refs = ln.set_index("line_id")["ref"]
    expected = data.expected.assign(reference=data.expected["line_id"].map(refs))[["kind", "reference", "payment_id"]]
    key = lambda f: sorted(map(tuple, f.astype(object).where(f.notna(), None).values.tolist()), key=repr)  # noqa: E731
    exact = key(found) == key(expected)
    injected = {k: int(v) for k, v in data.expected["kind"].value_counts().items()}
    print(f"database              {args.database}")
    print(f"day                   {len(p):,} ledger payments of one account, a {len(ln):,}-line statement CSV, "
          f"{len(data.expected):,} injected breaks")
    print(f"reconcile run --statement {t_run:7.2f} s  (a fresh process: intake, read, match, store): "
          f"{summary['matched']:,} matched, breaks {summary['breaks']}")
    print(f"peak memory           {peak_gb:.2f} GB  (the reconcile process; bar: 4 GB)")
    print(f"rerun                 {t_rerun:7.2f} s  same result: {rerun['breaks'] == summary['breaks']}")
    print(f"breaks exactly the injected ones: {exact}")
    print(f"floor: pandas         {t_floor:7.2f} s  (read the payments file and the statement file, outer join)")
    print(f"ratio                 {t_run / t_floor:.1f}x the floor (bar: 3x)")
    verdict([problem for problem, wrong in (
        ("the breaks found are not exactly the injected ones", not exact),
        (f"the rerun's breaks {rerun['breaks']} differ from the first run's {summary['breaks']}",
         rerun["breaks"] != summary["breaks"] or rerun["matched"] != summary["matched"]),
        (f"break counts by kind {summary['breaks']} differ from the injected {injected}",
         summary["breaks"] != injected),
        (f"the reconcile process peaked at {peak_gb:.2f} GB, over 4 GB", peak_gb > 4),
    ) if wrong])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--n", type=int, default=1_000_000, help="ledger payments (and about as many lines)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--from-files", action="store_true",
                        help="time `recovery reconcile run --statement` on one account's statement CSV")
    args = parser.parse_args()
    if args.from_files:
        with tempfile.TemporaryDirectory() as tmp, scratch_database(args.database, "recovery_bench_reconcile") as url:
            _from_files(args, url, Path(tmp))
        return

    with tempfile.TemporaryDirectory() as tmp:
        if args.database == "postgresql":
            name = f"recovery_bench_reconcile_{os.getpid()}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')
            url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
        else:
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RECOVERY_TZ": "Asia/Shanghai"})
        try:
            with app.app_context():
                import flask_migrate

                from recovery.reconcile.models import ReconBreak
                from recovery.reconcile.service import reconcile_day

                flask_migrate.upgrade()
                t0 = time.perf_counter()
                data = _setup(args.n, args.seed)
                t_setup = time.perf_counter() - t0

                start = time.perf_counter()
                summary = reconcile_day(db.session, DAY, actor="bench")
                db.session.commit()
                t_run = time.perf_counter() - start

                start = time.perf_counter()
                again = reconcile_day(db.session, DAY, actor="bench")
                db.session.commit()
                t_rerun = time.perf_counter() - start

                found = bulk.read_frame(db.session, db.select(ReconBreak.kind, ReconBreak.line_id,
                                                              ReconBreak.payment_id))
                key = lambda f: sorted(map(tuple, f.astype(object).where(f.notna(), None).values.tolist()))  # noqa: E731
                exact = key(found) == key(data.expected[["kind", "line_id", "payment_id"]])
                stored = int(db.session.scalar(db.select(db.func.count()).select_from(ReconBreak)))
                db.session.rollback()
                t_join, t_read_join = _baseline(data)
                db.session.remove()
                db.engine.dispose()
        finally:
            if args.database == "postgresql":
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    lines = len(data.lines)
    print(f"database              {args.database}")
    print(f"day                   {len(data.payments):,} ledger payments, {lines:,} statement lines, "
          f"{len(data.expected):,} injected breaks (setup {t_setup:.1f} s, untimed)")
    print(f"reconcile (end to end) {t_run:7.2f} s  load + match + store: {summary['matched']:,} matched, "
          f"breaks {summary['breaks']}")
    print(f"rerun                 {t_rerun:7.2f} s  same result: {again == summary}")
    print(f"breaks exactly the injected ones: {exact}")
    print(f"baseline: pandas join {t_join:7.2f} s  (the two frames in memory, outer join on account + reference)")
    print(f"baseline: read + join {t_read_join:7.2f} s  (both tables read from the database, then joined)")
    print(f"ratio                 reconcile takes {t_run / t_join:.1f}x the bare join, "
          f"{t_run / t_read_join:.1f}x reading and joining")

    injected = {k: int(v) for k, v in data.expected["kind"].value_counts().items()}
    problems = [p for p, wrong in (
        ("the breaks found are not exactly the injected ones", not exact),
        (f"the rerun's summary differs: {again} against {summary}", again != summary),
        (f"break counts by kind {summary['breaks']} differ from the injected {injected}",
         summary["breaks"] != injected),
        (f"{stored:,} breaks stored, {len(data.expected):,} injected", stored != len(data.expected)),
    ) if wrong]
    verdict(problems)


if __name__ == "__main__":
    main()
