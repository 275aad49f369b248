"""`recovery report activity`: the officers' activity report as CSV."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from recovery.extensions import db


@click.command("activity")
@click.option("--period", "month", help="A month, YYYY-MM.")
@click.option("--week", help="An ISO week, YYYY-Www (e.g. 2026-W10), instead of a month.")
@click.option("--by", type=click.Choice(["officer", "grid"]), default="officer", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the CSV here (default: stdout).")
@with_appcontext
def activity_command(month: str | None, week: str | None, by: str, out: Path | None) -> None:
    """Visits, calls, SMS and letters sent, promises taken and kept, warnings followed up and complaints handled,
    per officer or per grid, over a month or a week."""
    from recovery.reports import activity

    p = activity.period(month=month, week=week)
    text = activity.csv_text(activity.report(db.session, p, by), p, by)
    if out:
        out.write_text(text, encoding="utf-8")
        click.echo(f"{text.count(chr(10)) - 1} rows written to {out}", err=True)
    else:
        click.echo(text, nl=False)
