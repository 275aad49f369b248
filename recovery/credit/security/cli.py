"""`recovery credit review|deposit|guarantee|qualify`: the security side of credit on the command line.

Each command commits once; domain errors become the contract's one-line error (recovery.cli).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from recovery.cliutil import committed as _commit
from recovery.cliutil import customer_by_code as _customer
from recovery.cliutil import date_param as _date
from recovery.cliutil import yuan_param as _yuan
from recovery.extensions import db
from recovery.money import format_yuan


@click.command("review")
@click.option("--date", "day", callback=_date, help="Business date (default: today).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the CSV here (default: stdout).")
@with_appcontext
def review_command(day: dt.date | None, out: Path | None) -> None:
    """Print the customers whose held security falls short of what their rating requires (CSV)."""
    from recovery.credit.security.review import shortfall_csv, shortfalls
    from recovery.timeutil import today

    text = shortfall_csv(shortfalls(db.session, day or today()))
    db.session.rollback()  # read only
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@click.group("deposit")
def deposit_group() -> None:
    """Customer deposits: recommend, request, receive, list."""


@deposit_group.command("recommend")
@click.argument("code")
@click.option("--date", "day", callback=_date, help="Business date (default: today).")
@with_appcontext
def deposit_recommend(code: str, day: dt.date | None) -> None:
    """The customer's recommended deposit and required versus held security, as JSON."""
    from recovery.credit.security.review import customer_security
    from recovery.timeutil import today

    doc = customer_security(db.session, _customer(code), day or today())
    click.echo(json.dumps({"customer_id": code, **{k.removesuffix("_fen"): format_yuan(v) if k.endswith("_fen") else v
                                                   for k, v in doc.items()}}, ensure_ascii=False))


@deposit_group.command("request")
@click.argument("code")
@click.option("--amount", callback=_yuan, help="Yuan (default: the top-up to the recommended deposit).")
@click.option("--reason", required=True)
@with_appcontext
def deposit_request(code: str, amount: int | None, reason: str) -> None:
    """Ask the customer for a deposit."""
    from recovery.audit.service import current_actor
    from recovery.credit.security.deposits import request_deposit

    d = _commit(lambda: request_deposit(db.session, _customer(code), requested_by=current_actor(), reason=reason,
                                        amount_fen=amount))
    click.echo(f"deposit #{d.id}: {format_yuan(d.requested_fen)} requested of {code}")


@deposit_group.command("receive")
@click.argument("code")
@click.option("--amount", callback=_yuan, required=True, help="Yuan received.")
@click.option("--reference", required=True, help="The receipt's or bank transfer's reference.")
@click.option("--date", "day", callback=_date, help="Business date received (default: today).")
@click.option("--deposit", "deposit_id", type=int, help="The deposit it pays (default: the open request).")
@with_appcontext
def deposit_receive(code: str, amount: int, reference: str, day: dt.date | None, deposit_id: int | None) -> None:
    """Record money received as deposit (a liability; the bill balance does not change)."""
    from recovery.audit.service import current_actor
    from recovery.credit.security.deposits import receive

    entry = _commit(lambda: receive(db.session, _customer(code), amount_fen=amount, reference=reference,
                                    received_by=current_actor(), received_on=day, deposit_id=deposit_id))
    click.echo(f"deposit #{entry.deposit_id}: {format_yuan(amount)} received from {code} ({reference})")


@deposit_group.command("list")
@click.argument("code")
@with_appcontext
def deposit_list(code: str) -> None:
    """The customer's deposits and what each holds, as JSON."""
    from recovery.credit.security.deposits import deposits_of

    rows = [{"deposit_id": d["deposit"].id, "status": d["deposit"].status,
             "requested": format_yuan(d["deposit"].requested_fen), "held": format_yuan(d["deposit"].held_fen),
             "entries": [{"kind": e.kind, "amount": format_yuan(e.amount_fen), "on": e.effective_on.isoformat(),
                          "reference": e.reference} for e in d["entries"]]}
            for d in deposits_of(db.session, _customer(code))]
    click.echo(json.dumps(rows, ensure_ascii=False, indent=2))


@click.group("guarantee")
def guarantee_group() -> None:
    """Guarantees: register, list, release."""


@guarantee_group.command("add")
@click.argument("code")
@click.option("--kind", required=True,
              type=click.Choice(["bank_guarantee", "letter_of_credit", "surety", "mortgage", "pledge"]))
@click.option("--guarantor", required=True)
@click.option("--reference", required=True, help="The letter's or contract's number.")
@click.option("--amount", callback=_yuan, required=True, help="Yuan.")
@click.option("--from", "valid_from", callback=_date, required=True)
@click.option("--until", "valid_until", callback=_date, required=True)
@with_appcontext
def guarantee_add(code: str, kind: str, guarantor: str, reference: str, amount: int, valid_from: dt.date,
                  valid_until: dt.date) -> None:
    """Register a guarantee the customer provided."""
    from recovery.audit.service import current_actor
    from recovery.credit.security.guarantees import register

    g = _commit(lambda: register(db.session, _customer(code), kind=kind, guarantor=guarantor, reference=reference,
                                 amount_fen=amount, valid_from=valid_from, valid_until=valid_until,
                                 created_by=current_actor()))
    click.echo(f"guarantee #{g.id}: {format_yuan(amount)} for {code} until {valid_until.isoformat()} ({g.status})")


@guarantee_group.command("list")
@click.argument("code")
@with_appcontext
def guarantee_list(code: str) -> None:
    """The customer's guarantees, as JSON."""
    from recovery.credit.security.guarantees import guarantees_of

    click.echo(json.dumps([{"guarantee_id": g.id, "kind": g.kind, "guarantor": g.guarantor, "reference": g.reference,
                            "amount": format_yuan(g.amount_fen), "valid_from": g.valid_from.isoformat(),
                            "valid_until": g.valid_until.isoformat(), "status": g.status}
                           for g in guarantees_of(db.session, _customer(code))], ensure_ascii=False, indent=2))


@guarantee_group.command("release")
@click.argument("guarantee_id", type=int)
@click.option("--reason", required=True)
@with_appcontext
def guarantee_release(guarantee_id: int, reason: str) -> None:
    """Hand a guarantee back."""
    from recovery.audit.service import current_actor
    from recovery.credit.security.guarantees import get_guarantee, release

    _commit(lambda: release(db.session, get_guarantee(db.session, guarantee_id), released_by=current_actor(),
                            reason=reason))
    click.echo(f"guarantee #{guarantee_id} released")


@click.command("qualify")
@click.argument("codes", nargs=-1)
@click.option("--all", "everyone", is_flag=True, help="Review every customer.")
@click.option("--unreviewed", is_flag=True, help="Review the customers never reviewed (new sign-ups).")
@with_appcontext
def qualify_command(codes: tuple[str, ...], everyone: bool, unreviewed: bool) -> None:
    """Qualification review: identity check digits and registered capital; prints each outcome as JSON lines."""
    from recovery.audit.service import current_actor
    from recovery.credit.security.qualification import qualify
    from recovery.credit.security.qualification import unreviewed as never_reviewed
    from recovery.customers.models import Customer
    from recovery.errors import Invalid

    if not codes and not everyone and not unreviewed:
        raise Invalid("name the customers to review, or pass --all or --unreviewed")
    ids = None if everyone else never_reviewed(db.session) if unreviewed else [_customer(c).id for c in codes]
    if ids == []:
        return
    reviews = _commit(lambda: qualify(db.session, ids, reviewed_by=current_actor()))
    code_of = dict(db.session.execute(select(Customer.id, Customer.code)
                                      .where(Customer.id.in_([r.customer_id for r in reviews]))).all())
    for r in reviews:
        click.echo(json.dumps({"customer_id": code_of[r.customer_id], "outcome": r.outcome, "findings": r.findings},
                              ensure_ascii=False))
