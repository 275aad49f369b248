"""`recovery kiosk|cards|counter|prepaid …` and the agent actions `recovery agent suspend|reinstate|forfeit`."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from recovery.bounds import date_problem
from recovery.cliutil import date_param as _date
from recovery.extensions import db
from recovery.unitofwork import unit_of_work


def _instant(_ctx, _param, value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as e:
        raise click.BadParameter(f"not an ISO 8601 timestamp: {value!r}") from e
    if parsed.tzinfo is None:
        raise click.BadParameter("a timestamp must carry its offset, e.g. 2026-11-22T18:00:00+08:00")
    if problem := date_problem(parsed.date()):
        raise click.BadParameter(f"{value!r}: expected an instant on {problem}")
    return parsed




def _print_frame(frame, as_json: bool) -> None:
    if as_json:
        click.echo(frame.to_json(orient="records", date_format="iso", force_ascii=False))
    else:
        click.echo(frame.to_string(index=False) if len(frame) else "(nothing that day)")


# ---------------------------------------------------------------- kiosks


@click.group("kiosk")
def kiosk_group() -> None:
    """Self-service kiosks: registration, cash collections, the day's figures."""


@kiosk_group.command("register")
@click.argument("kiosk_id")
@click.option("--location", required=True, help="Where the terminal stands.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def kiosk_register(kiosk_id: str, location: str, as_json: bool) -> None:
    """Register a kiosk; prints its API secret once."""
    from recovery.payments.channels.kiosks import register_kiosk

    with unit_of_work():
        new = register_kiosk(db.session, kiosk_id, location=location)
    if as_json:
        click.echo(json.dumps({"kiosk_id": new.kiosk.code, "secret": new.secret}, ensure_ascii=False))
    else:
        click.echo(f"kiosk {new.kiosk.code} at {new.kiosk.location}")
        click.echo(f"API secret (shown only now, stored encrypted): {new.secret}")


@kiosk_group.command("collect")
@click.argument("kiosk_id")
@click.argument("counted")
@click.option("--by", "collected_by", help="Who collected and counted it (default: you).")
@click.option("--reference", required=True, help="The cash bag's seal number.")
@click.option("--at", "collected_at", callback=_instant, help="When (ISO 8601 with offset; default now).")
@with_appcontext
def kiosk_collect(kiosk_id: str, counted: str, collected_by: str | None, reference: str,
                  collected_at: dt.datetime | None) -> None:
    """Record the cash taken out of a kiosk and counted."""
    from recovery.audit.service import current_actor
    from recovery.money import parse_yuan
    from recovery.payments.channels.kiosks import record_collection

    with unit_of_work():
        row = record_collection(db.session, kiosk_id, parse_yuan(counted), collected_by=collected_by or current_actor(),
                                reference=reference, collected_at=collected_at)
    click.echo(f"kiosk {kiosk_id}: {counted} yuan collected on {row.collected_on.isoformat()} ({reference})")


@kiosk_group.command("day")
@click.option("--date", "day", required=True, callback=_date)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def kiosk_day_command(day: dt.date, as_json: bool) -> None:
    """Per kiosk: cash and card payments, cash counted, the difference (amounts in fen)."""
    from recovery.payments.channels.kiosks import kiosk_day

    _print_frame(kiosk_day(db.session, day), as_json)


# ---------------------------------------------------------------- recharge cards


@click.group("cards")
def cards_group() -> None:
    """Prepaid recharge cards: batches, distributors, sales, redemption, voiding."""


@cards_group.command("batch")
@click.argument("code")
@click.option("--face-value", required=True, help="Yuan, e.g. 100.00.")
@click.option("--count", required=True, type=click.IntRange(1, 100_000))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="CSV of serial and PIN for the printer (the only place the PINs ever appear).")
@with_appcontext
def cards_batch(code: str, face_value: str, count: int, out: Path) -> None:
    """Issue a batch of cards; writes serials and PINs to --out once (stored only hashed)."""
    from recovery.audit.service import current_actor
    from recovery.money import parse_yuan
    from recovery.payments.channels.cards import create_batch

    if out.exists():
        raise click.BadParameter(f"{out} exists; PINs are never written over an existing file", param_hint="--out")
    written = False
    try:
        with unit_of_work():
            pairs = create_batch(db.session, code, face_value_fen=parse_yuan(face_value), count=count,
                                 created_by=current_actor())
            with out.open("x", newline="", encoding="utf-8") as f:
                written = True
                w = csv.writer(f)
                w.writerow(["serial", "pin", "face_value"])
                w.writerows((serial, pin, face_value) for serial, pin in pairs)
    except BaseException:
        if written:
            out.unlink()  # PINs of cards that were never stored must not circulate
        raise
    click.echo(f"batch {code}: {count} cards of {face_value} yuan; serials and PINs in {out}")


@cards_group.command("distributor")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--manager", "manager_contact", required=True, help="Who hears when its stock runs out.")
@with_appcontext
def cards_distributor(code: str, name: str, manager_contact: str) -> None:
    """Register a card distributor."""
    from recovery.payments.channels.cards import create_distributor

    with unit_of_work():
        create_distributor(db.session, code, name=name, manager_contact=manager_contact)
    click.echo(f"distributor {code} registered")


@cards_group.command("sell")
@click.argument("distributor")
@click.option("--batch", "batch_code", required=True)
@click.option("--count", required=True, type=click.IntRange(1))
@click.option("--reference", required=True, help="The distributor's order or invoice number.")
@with_appcontext
def cards_sell(distributor: str, batch_code: str, count: int, reference: str) -> None:
    """Sell the next COUNT unsold cards of a batch to a distributor."""
    from recovery.audit.service import current_actor
    from recovery.money import format_yuan
    from recovery.payments.channels.cards import sell

    with unit_of_work():
        sale = sell(db.session, distributor, batch_code, count, reference=reference, sold_by=current_actor())
    click.echo(f"{count} cards of {batch_code} sold to {distributor} for {format_yuan(sale.amount_fen)} yuan")


@cards_group.command("remit")
@click.argument("distributor")
@click.argument("amount")
@click.option("--date", "remitted_on", callback=_date, required=True, help="The business day the money arrived.")
@click.option("--reference", required=True, help="The bank transfer's or receipt's number.")
@with_appcontext
def cards_remit(distributor: str, amount: str, remitted_on: dt.date, reference: str) -> None:
    """Record AMOUNT yuan a distributor paid for its cards (reconciled nightly against its sales)."""
    from recovery.audit.service import current_actor
    from recovery.money import parse_yuan
    from recovery.payments.channels.cards import record_remittance

    with unit_of_work():
        record_remittance(db.session, distributor, parse_yuan(amount), remitted_on=remitted_on, reference=reference,
                          recorded_by=current_actor())
    click.echo(f"remittance {reference} of {amount} yuan from {distributor} recorded")


@cards_group.command("redeem")
@click.argument("serial")
@click.option("--customer", "customer_code", required=True)
@click.option("--pin", required=True, prompt=True, hide_input=True, envvar="RECOVERY_CARD_PIN")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def cards_redeem(serial: str, customer_code: str, pin: str, as_json: bool) -> None:
    """Redeem a card for a customer (once)."""
    from recovery.audit.service import current_actor
    from recovery.payments.channels.cards import redeem, redemption_answer

    with unit_of_work():
        payment, receipt = redeem(db.session, serial, pin, customer_code, redeemed_by=current_actor())
        answer = redemption_answer(db.session, payment, receipt)
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False))
    else:
        click.echo(f"card {serial}: {answer['face_value']} yuan credited to {customer_code} "
                   f"(receipt {answer['receipt_no']}, balance {answer['balance']})")


@cards_group.command("void")
@click.argument("serials", nargs=-1)
@click.option("--batch", "batch_code", help="Void every unredeemed card of this batch.")
@click.option("--reason", required=True)
@with_appcontext
def cards_void(serials: tuple[str, ...], batch_code: str | None, reason: str) -> None:
    """Void unredeemed cards (by serial, or a whole batch)."""
    from recovery.audit.service import current_actor
    from recovery.payments.channels.cards import batch_serials, void

    with unit_of_work():
        names = list(serials) + (batch_serials(db.session, batch_code) if batch_code else [])
        n = void(db.session, names, reason=reason, voided_by=current_actor())
    click.echo(f"{n} card(s) voided")


@cards_group.command("day")
@click.option("--date", "day", required=True, callback=_date)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def cards_day_command(day: dt.date, as_json: bool) -> None:
    """Per distributor and batch: sold, redeemed, voided that day, and stock now."""
    from recovery.payments.channels.cards import cards_day

    _print_frame(cards_day(db.session, day), as_json)


# ---------------------------------------------------------------- counter


@click.group("counter")
def counter_group() -> None:
    """Counter payments: cashiers' drawers."""


@counter_group.command("open")
@click.argument("cashier")
@click.option("--float", "opening_float", required=True, help="The opening float in yuan.")
@with_appcontext
def counter_open(cashier: str, opening_float: str) -> None:
    """Open a cashier's drawer for today."""
    from recovery.audit.service import current_actor
    from recovery.money import parse_yuan
    from recovery.payments.channels.counter import open_drawer

    with unit_of_work():
        row = open_drawer(db.session, cashier, opening_float_fen=parse_yuan(opening_float), opened_by=current_actor())
    click.echo(f"{cashier}'s drawer for {row.business_day.isoformat()} is open with {opening_float} yuan")


@counter_group.command("close")
@click.argument("cashier")
@click.option("--counted", required=True, help="The cash counted in the drawer at close, float included, in yuan.")
@with_appcontext
def counter_close(cashier: str, counted: str) -> None:
    """Close a cashier's drawer for today with the cash counted."""
    from recovery.audit.service import current_actor
    from recovery.money import parse_yuan
    from recovery.payments.channels.counter import close_drawer

    with unit_of_work():
        row = close_drawer(db.session, cashier, counted_fen=parse_yuan(counted), closed_by=current_actor())
    click.echo(f"{cashier}'s drawer for {row.business_day.isoformat()} is closed with {counted} yuan counted")


@counter_group.command("day")
@click.option("--date", "day", required=True, callback=_date)
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def counter_day_command(day: dt.date, as_json: bool) -> None:
    """Per cashier: float, takings, expected and counted cash (amounts in fen)."""
    from recovery.payments.channels.counter import drawers_day

    _print_frame(drawers_day(db.session, day), as_json)


# ---------------------------------------------------------------- prepayment


@click.group("prepaid")
def prepaid_group() -> None:
    """Prepaid customers (预购电)."""


@prepaid_group.command("enrol")
@click.argument("customer")
@click.option("--on", "opened_on", callback=_date, help="From this business date (default today).")
@with_appcontext
def prepaid_enrol(customer: str, opened_on: dt.date | None) -> None:
    """Put a customer on prepayment."""
    from recovery.payments.prepaid import enrol

    with unit_of_work():
        enrol(db.session, customer, opened_on=opened_on)
    click.echo(f"customer {customer} is on prepayment")


@prepaid_group.command("show")
@click.argument("customer")
@with_appcontext
def prepaid_show(customer: str) -> None:
    """A prepaid customer's balance and state, as JSON."""
    from recovery.payments.prepaid import balance_of

    click.echo(json.dumps(balance_of(db.session, customer)))


# ---------------------------------------------------------------- agent actions (attached to `recovery agent`)


def _requested(req) -> None:
    click.echo(f"approval request #{req.id} ({req.kind} {req.subject_id}) is waiting for a supervisor")


@click.command("suspend")
@click.argument("code")
@click.option("--reason", required=True)
@with_appcontext
def agent_suspend(code: str, reason: str) -> None:
    """Request a supervisor's approval to suspend an agent."""
    from recovery.audit.service import current_actor
    from recovery.payments.channels.agent_actions import request_suspension

    with unit_of_work():
        req = request_suspension(db.session, code, reason=reason, requested_by=current_actor())
    _requested(req)


@click.command("reinstate")
@click.argument("code")
@click.option("--reason", required=True)
@with_appcontext
def agent_reinstate(code: str, reason: str) -> None:
    """Request a supervisor's approval to let a suspended agent post again."""
    from recovery.audit.service import current_actor
    from recovery.payments.channels.agent_actions import request_reinstatement

    with unit_of_work():
        req = request_reinstatement(db.session, code, reason=reason, requested_by=current_actor())
    _requested(req)


@click.command("forfeit")
@click.argument("code")
@click.argument("amount")
@click.option("--reason", required=True)
@with_appcontext
def agent_forfeit(code: str, amount: str, reason: str) -> None:
    """Request a supervisor's approval to forfeit AMOUNT yuan of an agent's deposit."""
    from recovery.audit.service import current_actor
    from recovery.money import parse_yuan
    from recovery.payments.channels.agent_actions import request_forfeiture

    with unit_of_work():
        req = request_forfeiture(db.session, code, parse_yuan(amount), reason=reason, requested_by=current_actor())
    _requested(req)

