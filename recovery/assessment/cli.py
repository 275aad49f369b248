"""`recovery assessment`: a month's assessment table as CSV (the page's export), or the year to it."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from recovery.extensions import db


@click.command("assessment")
@click.option("--month", required=True, help="The month assessed, YYYY-MM.")
@click.option("--kind", type=click.Choice(["officers", "grids", "agents", "distributors"]), default="officers",
              show_default=True)
@click.option("--year", "year_to_date", is_flag=True, help="The yearly score for the year to the month instead.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the CSV here (default: stdout).")
@click.option("--close", "close", is_flag=True,
              help="Close the month first: keep every kind's table as the figures pay is reckoned on "
                   "(again: recompute).")
@with_appcontext
def assessment_command(month: str, kind: str, year_to_date: bool, out: Path | None, close: bool) -> None:
    """Print (or write) the assessment scores of officers, grids, agents or card distributors as CSV."""
    from recovery.assessment import service
    from recovery.assessment.views import csv_rows
    from recovery.audit.service import current_actor
    from recovery.csvexport import safe_cell

    if close:
        from recovery.jobs.runner import run_by_hand
        from recovery.timeutil import today

        # Under the closing job's lock for today, never beside it; closing a named month is not the job's day.
        run_by_hand("assessment.close", today(), lambda: service.close_month(db.session, month, by=current_actor()),
                    scope=f"month {month}")
    if year_to_date:
        table = service.yearly(db.session, kind, month)
        header = ["key", "name", "monthly_mean", "quarterly_mean", "yearly_score", "pay_factor"]
        body = [[key, *(r[c] for c in header[1:])] for key, r in table.iterrows()]
    else:
        header, body = csv_rows(kind, service.monthly(db.session, kind, month))
    stream = out.open("w", newline="", encoding="utf-8-sig") if out else sys.stdout
    try:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(header)
        for row in body:
            writer.writerow([safe_cell("" if v != v else v) for v in row])  # v != v: NaN, nothing measured
    finally:
        if out:
            stream.close()
    if out:
        click.echo(f"{len(body)} {kind} written to {out}", err=True)
