"""`recovery buildings …`: buildings and residents in from files, a company's arrears with the residents behind
them, direct billing, demolition and clearance flags, and the clearance track's CSV."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from recovery.cliutil import committed as _commit
from recovery.cliutil import customer_by_code, date_param
from recovery.extensions import db


@click.group("buildings")
def buildings_group() -> None:
    """Property-managed buildings, demolition and clearance sites."""


@buildings_group.command("import")
@click.argument("kind", type=click.Choice(["buildings", "residents"]))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def import_command(kind: str, file: Path) -> None:
    """Import buildings (building,name,grid[,company,company_name,company_customer_id]) or residents
    (customer_id,building[,payer,linked_on]): atomic, every row or none."""
    from recovery.audit.service import current_actor
    from recovery.buildings import service
    from recovery.timeutil import today

    if kind == "buildings":
        result = _commit(lambda: service.import_buildings(db.session, file, by=current_actor()))
    else:
        result = _commit(lambda: service.import_residents(db.session, file, by=current_actor(), today_=today()))
    click.echo(f"{kind}: " + ", ".join(f"{k} {v}" for k, v in result.items()))


@buildings_group.command("arrears")
@click.argument("company", required=False)
@click.option("--as-of", "as_of", callback=date_param, help="Business date (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def arrears_command(company: str | None, as_of: dt.date | None, as_json: bool) -> None:
    """Every property company's arrears, or one company's with the residents behind them."""
    from recovery.buildings import service
    from recovery.money import format_yuan
    from recovery.timeutil import today

    day = as_of or today()
    if company is None:
        rows = [{"company": r["company"].code, "name": r["company"].name, "residents": r["residents"],
                 "owing": r["owing"], "balance": format_yuan(r["balance_fen"]),
                 "overdue": format_yuan(r["overdue_fen"])} for r in service.companies(db.session, None, day)]
        document = {"as_of": day.isoformat(), "companies": rows}
    else:
        report = service.company_arrears(db.session, None, service.get_company(db.session, company), day)
        document = {"company": company, "as_of": day.isoformat(),
                    "residents": report["totals"]["residents"], "owing": report["totals"]["owing"],
                    "balance": format_yuan(report["totals"]["balance_fen"]),
                    "overdue": format_yuan(report["totals"]["overdue_fen"]),
                    "behind": [{"customer_id": r["code"], "building": r["building"],
                                "balance": format_yuan(r["balance_fen"]), "overdue": format_yuan(r["overdue_fen"]),
                                "days_overdue": r["days_overdue"]} for r in report["residents"]]}
    if as_json:
        click.echo(json.dumps(document, ensure_ascii=False))
        return
    for r in document.get("companies", document.get("behind", [])):
        click.echo(" ".join(f"{k}={v}" for k, v in r.items()))


@buildings_group.command("direct-billing")
@click.argument("customer")
@click.option("--reason", required=True)
@click.option("--on", "on", callback=date_param, help="From this business day (default: today).")
@with_appcontext
def direct_billing_command(customer: str, reason: str, on: dt.date | None) -> None:
    """Move a resident billed through a property company to direct billing."""
    from recovery.audit.service import current_actor
    from recovery.buildings import service
    from recovery.timeutil import today

    found = customer_by_code(customer)
    link = _commit(lambda: service.move_to_direct_billing(db.session, found, on=on or today(), reason=reason,
                                                          by=current_actor()))
    click.echo(f"{customer}: billed directly from {link.ended_on.isoformat()}")


@buildings_group.command("stop-collecting")
@click.argument("company")
@click.option("--reason", required=True)
@click.option("--on", "on", callback=date_param, help="From this business day (default: today).")
@with_appcontext
def stop_collecting_command(company: str, reason: str, on: dt.date | None) -> None:
    """The company stops collecting: every resident it pays for is billed directly from the day."""
    from recovery.audit.service import current_actor
    from recovery.buildings import service
    from recovery.timeutil import today

    result = _commit(lambda: service.stop_collecting(db.session, service.get_company(db.session, company),
                                                     on=on or today(), reason=reason, by=current_actor()))
    click.echo(f"{company}: {result['moved']} residents billed directly from {result['stopped_on'].isoformat()}")


@buildings_group.command("flag")
@click.option("--grid")
@click.option("--building")
@click.option("--kind", type=click.Choice(["demolition", "clearance"]), required=True)
@click.option("--reason", required=True)
@click.option("--on", "on", callback=date_param, help="From this business day (default: today).")
@with_appcontext
def flag_command(grid: str | None, building: str | None, kind: str, reason: str, on: dt.date | None) -> None:
    """Flag a grid or a building as a demolition or clearance site: no penalties, its own recovery track."""
    from recovery.audit.service import current_actor
    from recovery.buildings import clearance
    from recovery.timeutil import today

    row = _commit(lambda: clearance.flag(db.session, kind=kind, grid=grid, building=building, on=on or today(),
                                         reason=reason, by=current_actor()))
    click.echo(f"flag #{row.id}: {grid or building} {kind} from {row.flagged_on.isoformat()}")


@buildings_group.command("lift")
@click.argument("flag_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--on", "on", callback=date_param, help="From this business day (default: today).")
@with_appcontext
def lift_command(flag_id: int, on: dt.date | None) -> None:
    """Lift a clearance flag: penalties accrue again and the ladder takes its customers back."""
    from recovery.audit.service import current_actor
    from recovery.buildings import clearance
    from recovery.timeutil import today

    row = _commit(lambda: clearance.lift(db.session, flag_id, on=on or today(), by=current_actor()))
    click.echo(f"flag #{row.id} lifted from {row.lifted_on.isoformat()}")


@buildings_group.command("track")
@click.option("--as-of", "as_of", callback=date_param, help="Business date (default: today).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the CSV here (default: stdout).")
@with_appcontext
def track_command(as_of: dt.date | None, out: Path | None) -> None:
    """The clearance track as CSV: arrears left on demolition and clearance sites."""
    import csv

    from recovery.buildings import clearance
    from recovery.buildings.clearance import TRACK_HEADER, track_csv_rows
    from recovery.csvexport import safe_cell
    from recovery.timeutil import today

    rows = track_csv_rows(clearance.track(db.session, None, as_of or today()))
    stream = out.open("w", newline="", encoding="utf-8-sig") if out else sys.stdout
    try:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(TRACK_HEADER)
        writer.writerows([[safe_cell(v) for v in row] for row in rows])
    finally:
        if out:
            stream.close()
    if out:
        click.echo(f"{len(rows)} customers on the clearance track written to {out}", err=True)
