"""`recovery loss …`: the month's line loss per area and line, and the suspect list."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click
from flask.cli import with_appcontext

from recovery.extensions import db

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])\Z")


def _period(_ctx, _param, value: str) -> str:
    if not PERIOD.match(value or ""):
        raise click.BadParameter(f"not a period (YYYY-MM): {value!r}")
    return value


@click.group("loss")
def loss_group() -> None:
    """Line loss per transformer area and feeder line, and the monthly theft suspect list."""


@loss_group.command("areas")
@click.option("--period", required=True, callback=_period, help="The month, YYYY-MM.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def loss_areas(period: str, as_json: bool) -> None:
    """Every area's (and line's) kWh delivered and billed, loss rate and flag for the month."""
    from recovery.loss.policy import loss_policy
    from recovery.loss.rates import report

    result = report(db.session, period, loss_policy())
    db.session.rollback()
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    for a in result["areas"]:
        rate = a["loss_rate"] if a["loss_rate"] is not None else "-"
        flags = ",".join(a["flags"])
        click.echo(f"{a['area']}\t{a['line'] or '-'}\t{a['kwh_delivered']}\t{a['kwh_billed']}\t{rate}\t{flags}")


@loss_group.command("suspects")
@click.option("--period", required=True, callback=_period, help="The month, YYYY-MM.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@with_appcontext
def loss_suspects(period: str, out: Path | None) -> None:
    """Screen every customer with an area for the month; store the list and write its CSV, most suspect first."""
    from recovery.cliutil import committed
    from recovery.loss.policy import loss_policy
    from recovery.loss.suspects import run, to_csv
    from recovery.progress import working

    with working(f"loss suspects --period {period}"):
        ranked = committed(lambda: run(db.session, period, loss_policy()))
    text = to_csv(ranked)
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
