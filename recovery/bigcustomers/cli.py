"""`recovery big-customers …`: the nightly refresh for any day, named contacts from a file, the strategic flag,
and the list."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from recovery.cliutil import committed, customer_by_code, date_param
from recovery.extensions import db


@click.group("big-customers")
def big_customers_group() -> None:
    """Big customers: a monthly bill over the policy's amount, or flagged strategic."""


@big_customers_group.command("refresh")
@click.option("--date", "day", callback=date_param, help="Business date (default: today).")
@with_appcontext
def refresh_command(day: dt.date | None) -> None:
    """Find today's big customers: new ones get a first-contact call on the worklist (job customers.big)."""
    from recovery.bigcustomers.service import refresh
    from recovery.timeutil import today

    summary = committed(lambda: refresh(db.session, day or today()))
    click.echo(json.dumps(summary))


@big_customers_group.command("import-contacts")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def import_contacts_command(file: Path) -> None:
    """Import named contacts: customer_id, role (finance | electrician | manager), name, phone. Atomic."""
    from recovery.audit.service import current_actor
    from recovery.bigcustomers.service import import_contacts

    result = committed(lambda: import_contacts(db.session, file, by=current_actor()))
    click.echo(f"contacts: {result['rows']} rows, {result['inserted']} new")


@big_customers_group.command("strategic")
@click.argument("customer")
@click.option("--reason", required=True)
@with_appcontext
def strategic_command(customer: str, reason: str) -> None:
    """Flag a customer as strategic: a big customer from now, its first contact due within the deadline."""
    from recovery.audit.service import current_actor
    from recovery.bigcustomers.service import set_strategic
    from recovery.timeutil import today

    row = committed(lambda: set_strategic(db.session, customer_by_code(customer), reason=reason, by=current_actor(),
                                          day=today()))
    click.echo(f"{customer}: strategic; first contact due by {row.contact_by.isoformat()}")


@big_customers_group.command("list")
@with_appcontext
def list_command() -> None:
    """Big customers as JSON lines: reason, monthly bill, manager, first contact and its deadline."""
    from recovery.bigcustomers.service import listing
    from recovery.money import format_yuan
    from recovery.timeutil import today

    for r in listing(db.session, None, today()):
        click.echo(json.dumps({"customer_id": r["code"], "reason": r["reason"],
                               "monthly_bill": format_yuan(r["monthly_bill_fen"]), "manager": r["manager"],
                               "contact_by": r["contact_by"].isoformat(),
                               "contacted_at": r["contacted_at"].isoformat() if r["contacted_at"] else None,
                               "contact_late": r["contact_late"], "missing_contacts": r["missing_contacts"]},
                              ensure_ascii=False))
