"""`recovery agent commission|deposit` and `recovery cards areas`: agents' and distributors' terms."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from recovery.cliutil import committed
from recovery.extensions import db


@click.command("commission")
@click.option("--month", required=True, help="The month, YYYY-MM.")
@click.option("--close", "close", is_flag=True, help="Close the month first: keep each agent's commission as what "
                                                     "the utility pays (again: recompute).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of CSV.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the CSV here (default: stdout).")
@with_appcontext
def agent_commission(month: str, close: bool, as_json: bool, out: Path | None) -> None:
    """Each agent's commission for a month: payments, collected, rate, commission (half up to the fen)."""
    from recovery.audit.service import current_actor
    from recovery.csvexport import safe_cell
    from recovery.money import format_yuan
    from recovery.payments import terms

    if close:
        committed(lambda: terms.close_month(db.session, month, by=current_actor()))
    rows = terms.commissions(db.session, month).to_dict("records")
    if as_json:
        click.echo(json.dumps({"month": month, "closed": terms.closed_at(db.session, month) is not None,
                               "agents": [{"agent": r["agent"], "payments": int(r["payments"]),
                                           "collected": format_yuan(r["collected_fen"]), "rate": r["rate"],
                                           "commission": format_yuan(r["commission_fen"])} for r in rows]},
                              ensure_ascii=False))
        return
    stream = out.open("w", newline="", encoding="utf-8-sig") if out else sys.stdout
    try:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(terms.COMMISSION_HEADER)
        writer.writerows([[safe_cell(v) for v in row] for row in terms.commission_csv_rows(rows)])
    finally:
        if out:
            stream.close()


@click.command("deposit")
@click.argument("code")
@click.argument("amount")
@click.option("--reference", required=True, help="The reference of the money received or paid back.")
@with_appcontext
def agent_deposit(code: str, amount: str, reference: str) -> None:
    """Set an agent's deposit (at least [agents] min_deposit); its limit follows."""
    from recovery.audit.service import current_actor
    from recovery.money import format_yuan, parse_yuan
    from recovery.payments import terms

    agent = committed(lambda: terms.set_deposit(db.session, code, parse_yuan(amount), reference=reference,
                                                by=current_actor()))
    click.echo(f"agent {code}: deposit {format_yuan(agent.deposit_fen)}, limit {format_yuan(agent.limit_fen)} yuan")


@click.command("areas")
@click.argument("code")
@click.argument("grids", nargs=-1, required=True)
@with_appcontext
def distributor_areas(code: str, grids: tuple[str, ...]) -> None:
    """Set the grids a card distributor serves (its areas)."""
    from recovery.audit.service import current_actor
    from recovery.payments import terms

    wanted = committed(lambda: terms.set_areas(db.session, code, list(grids), by=current_actor()))
    click.echo(f"distributor {code}: areas {' '.join(wanted)}")
