"""`recovery penalties …` and `recovery debit …`: late-payment penalties, direct debit, reversals."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from recovery.cliutil import date_param as _date
from recovery.extensions import db
from recovery.jobs.runner import run_by_hand
from recovery.unitofwork import committed, unit_of_work


@click.group("penalties")
def penalties_group() -> None:
    """Late-payment penalties (电费违约金)."""


@penalties_group.command("accrue")
@click.option("--date", "day", required=True, callback=_date, help="Accrue to this business date, YYYY-MM-DD.")
@with_appcontext
def penalties_accrue(day: dt.date) -> None:
    """Bring every bill's penalty to its total as of the date (posts only the change; rerunnable)."""
    from recovery.billing.penalties import accrue
    from recovery.progress import working

    with working(f"penalties accrue {day.isoformat()}"):
        summary = run_by_hand("billing.penalties", day, lambda: accrue(db.session, day))
    click.echo(json.dumps(summary))


@click.group("debit")
def debit_group() -> None:
    """Direct debit (代扣): mandates, daily batches, bank files and results; payment reversals."""


@debit_group.group("mandate")
def mandate_group() -> None:
    """Customers' direct-debit mandates."""


@mandate_group.command("add")
@click.argument("customer_id")
@click.option("--bank", "bank_code", required=True, help="The debtor's bank code.")
@click.option("--account", required=True, help="The account number or IBAN.")
@click.option("--reference", required=True, help="The mandate reference (at most 35 characters).")
@click.option("--signed-on", "signed_on", required=True, callback=_date, help="YYYY-MM-DD.")
@with_appcontext
def mandate_add(customer_id: str, bank_code: str, account: str, reference: str, signed_on: dt.date) -> None:
    """Record a signed mandate for a customer."""
    from recovery.payments.direct_debit.service import create_mandate

    committed(lambda: create_mandate(db.session, customer_id, bank_code=bank_code, account=account,
                                     reference=reference, signed_on=signed_on))
    click.echo(f"mandate {reference} for {customer_id} recorded")


@mandate_group.command("revoke")
@click.argument("reference")
@with_appcontext
def mandate_revoke(reference: str) -> None:
    """Revoke a mandate: later batches leave its customer out."""
    from recovery.payments.direct_debit.service import revoke_mandate

    committed(lambda: revoke_mandate(db.session, reference))
    click.echo(f"mandate {reference} revoked")


def _batch_json(batch) -> dict:
    from recovery.money import format_yuan

    return {"batch": batch.code, "collection_date": batch.created_for.isoformat(), "status": batch.status,
            "items": batch.item_count, "total": format_yuan(batch.total_fen), "succeeded": batch.succeeded_count,
            "returned": batch.returned_count, "returned_total": format_yuan(batch.returned_fen)}


@debit_group.command("batch")
@click.option("--date", "day", required=True, callback=_date, help="Collection day: bills due on it, YYYY-MM-DD.")
@with_appcontext
def debit_batch(day: dt.date) -> None:
    """Create (or top up, while unsent) the debit batch for the bills falling due on the date."""
    from recovery.payments.direct_debit.service import create_batch

    made = []

    def work() -> dict:
        made.append(create_batch(db.session, day))
        return {"batch": made[0].code, "status": made[0].status, "items": made[0].item_count,
                "total_fen": made[0].total_fen}

    run_by_hand("payments.debit_batch", day, work)
    click.echo(json.dumps(_batch_json(made[0])))


@debit_group.command("show")
@click.argument("code")
@with_appcontext
def debit_show(code: str) -> None:
    """A batch's status, counts and totals as JSON."""
    from recovery.payments.direct_debit.service import get_batch

    click.echo(json.dumps(_batch_json(get_batch(db.session, code))))


@debit_group.command("export")
@click.argument("code")
@click.option("--format", "fmt", required=True, type=click.Choice(["csv", "pain008"]))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@with_appcontext
def debit_export(code: str, fmt: str, out: Path | None) -> None:
    """Write a batch as the bank's file: CSV or ISO 20022 pain.008.001.02."""
    from recovery.payments.direct_debit.files import batch_csv, pain008
    from recovery.payments.direct_debit.service import batch_items, get_batch

    batch = get_batch(db.session, code)
    items = batch_items(db.session, batch)
    data = (batch_csv(items, batch.created_for).encode() if fmt == "csv"
            else pain008(batch.code, batch.created_for, items))
    if out:
        out.write_bytes(data)
    else:
        click.echo(data.decode(), nl=False)


@debit_group.command("send")
@click.argument("code")
@with_appcontext
def debit_send(code: str) -> None:
    """Mark a batch sent to the bank: its debits are posted as provisional payments."""
    from recovery.payments.direct_debit.service import send_batch

    batch = committed(lambda: send_batch(db.session, code))
    click.echo(json.dumps(_batch_json(batch)))


@debit_group.command("results")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", required=True, type=click.Choice(["csv", "pain002", "camt054"]))
@click.option("--on", "day", callback=_date, help="Business date returns count from (default: today).")
@with_appcontext
def debit_results(file: Path, fmt: str, day: dt.date | None) -> None:
    """Import the bank's results: successes settle, returns are reversed with the bank's reason code."""
    from recovery.payments.direct_debit.service import import_results

    summary = committed(lambda: import_results(db.session, file, fmt, on=day))
    click.echo(json.dumps(summary.as_dict()))


@debit_group.command("reverse")
@click.argument("payment_id")
@click.option("--code", required=True, help="Reason code (a bank's return code, or the office's).")
@click.option("--reason", required=True, help="Why, in words.")
@click.option("--on", "day", callback=_date, help="Business date the reversal counts from (default: today).")
@with_appcontext
def debit_reverse(payment_id: str, code: str, reason: str, day: dt.date | None) -> None:
    """Reverse any posted payment: a reversal entry pointing at it, allocations rebuilt."""
    from sqlalchemy import select

    from recovery.errors import NotFound
    from recovery.payments.models import Payment
    from recovery.payments.reversals import reverse_payment

    with unit_of_work():
        payment = db.session.scalar(select(Payment).where(Payment.code == payment_id))
        if payment is None:
            raise NotFound(f"no payment {payment_id}")
        reverse_payment(db.session, payment, reason, code, on=day)
    click.echo(f"payment {payment_id} reversed ({code})")
