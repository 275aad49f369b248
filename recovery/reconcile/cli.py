"""`recovery reconcile run|report|payments`: the contract's commands, plus the daily payment report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from recovery.cliutil import date_param as _date
from recovery.extensions import db
from recovery.jobs.runner import run_by_hand
from recovery.payments.models import Channel

CHANNELS = click.Choice([c.value for c in Channel])




@click.group("reconcile")
def reconcile_group() -> None:
    """The daily reconciliation of every channel against the books."""


@reconcile_group.command("run")
@click.option("--date", "day", required=True, callback=_date, help="Business day, YYYY-MM-DD.")
@click.option("--channel", type=CHANNELS, help="Only this channel (and, with a CSV statement, the file's channel).")
@click.option("--statement", "statement", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Take this statement file in first.")
@click.option("--format", "fmt", type=click.Choice(["csv", "mt940", "camt053", "camt054"]),
              help="The statement's format.")
@click.option("--account", help="The channel account of a CSV statement (default: told by its references).")
@click.option("--replace", is_flag=True, help="Let the statement supersede an overlapping one already imported.")
@with_appcontext
def reconcile_run(day: dt.date, channel: str | None, statement: Path | None, fmt: str | None, account: str | None,
                  replace: bool) -> None:
    """Reconcile one business day (taking a statement in first); rerunning a day gives the same result."""
    from recovery.audit.service import current_actor
    from recovery.errors import Invalid
    from recovery.reconcile import intake, service

    if (statement is None) != (fmt is None):
        raise Invalid("--statement and --format go together")
    from recovery.progress import working

    actor = current_actor()
    data = statement.read_bytes() if statement is not None else None  # a file that cannot be read: refused first
    taken = None
    others: list[dt.date] = []

    def work() -> dict:
        nonlocal taken, others
        if statement is not None:
            with working(f"statement {statement.name}"):
                taken = intake.take_in(db.session, data, str(statement), fmt, channel=channel,
                                       account=account, day=day if fmt == "csv" else None, replace=replace,
                                       actor=actor)
                service.mark_reopened(db.session, taken.days)
        with working(f"reconcile {day.isoformat()}"):
            summary = service.reconcile_with_neighbours(db.session, day, channel=channel, actor=actor)
        # A file that also covers other days (a bank statement of several days, a late file) reopens them.
        others = sorted({d for ds in (taken.days.values() if taken else []) for d in ds} - {day})
        for other in others:
            with working(f"reconcile {other.isoformat()}"):
                service.reconcile_with_neighbours(db.session, other, channel=channel, actor=actor)
        return summary

    # The nightly job's door: its lock for the day and its history; one channel is a narrower run.
    summary = run_by_hand("reconcile.daily", day, work, scope=f"channel {channel}" if channel else None)
    if taken is not None:
        summary["statement_file"] = {"id": taken.file.id, "lines": taken.file.line_count,
                                     "pending_not_taken": taken.skipped_pending, "superseded": taken.superseded,
                                     "accounts": [f"{c}:{a}" for c, a in taken.days],
                                     "also_reconciled": [d.isoformat() for d in others]}
    click.echo(json.dumps(summary, ensure_ascii=False))


@reconcile_group.command("report")
@click.option("--date", "day", required=True, callback=_date, help="Business day, YYYY-MM-DD.")
@click.option("--channel", type=CHANNELS)
@click.option("--json", "as_json", is_flag=True, help="Print the contract's JSON.")
@with_appcontext
def reconcile_report(day: dt.date, channel: str | None, as_json: bool) -> None:
    """The day's result per channel account: matched, totals and every break."""
    from recovery.reconcile.report import day_report

    document = day_report(db.session, day, channel=channel)
    if as_json:
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    for ch in document["channels"]:
        open_n = sum(1 for b in ch["breaks"] if b["status"] != "resolved")
        click.echo(f"{ch['channel']}:{ch['channel_account']} {ch['state']}: matched {ch['matched']}, statement "
                   f"{ch['statement_total']}, ledger {ch['ledger_total']}, {len(ch['breaks'])} breaks ({open_n} open)")


@reconcile_group.command("payments")
@click.option("--date", "day", required=True, callback=_date, help="Business day, YYYY-MM-DD.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@with_appcontext
def reconcile_payments(day: dt.date, out: Path | None) -> None:
    """The daily payment report (缴费日报表) as CSV: collected, settled, outstanding per channel account."""
    from recovery.reconcile.report import payment_report, payment_report_csv

    text = payment_report_csv(payment_report(db.session, day))
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
