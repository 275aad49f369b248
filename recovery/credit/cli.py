"""`recovery credit …`: ratings, qualification, security review."""

from __future__ import annotations

import datetime as dt
import json

import click
from flask.cli import with_appcontext

from recovery.cliutil import committed as _commit
from recovery.cliutil import customer_by_code as _customer
from recovery.cliutil import date_param as _date
from recovery.extensions import db
from recovery.jobs.runner import run_by_hand


@click.group("credit")
def credit_group() -> None:
    """Credit ratings, qualification review, deposits and guarantees."""


@credit_group.command("rate")
@click.option("--customer", "code", help="Rate only this customer (default: every customer).")
@click.option("--as-of", "as_of", callback=_date, help="Business date (default: today).")
@with_appcontext
def credit_rate(code: str | None, as_of: dt.date | None) -> None:
    """Recompute credit ratings in one pass (rerunning a day replaces that day's results)."""
    from recovery.credit.rating.ratings import rate
    from recovery.progress import working
    from recovery.timeutil import today

    ids = [_customer(code).id] if code else None
    day = as_of or today()
    with working(f"credit rate {day.isoformat()}"):
        summary = run_by_hand("credit.ratings", day, lambda: rate(db.session, day, ids),
                              scope=f"customer {code}" if code else None)
    click.echo(json.dumps(summary, ensure_ascii=False))


@credit_group.command("show")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def credit_show(code: str, as_json: bool) -> None:
    """A customer's rating in force, terms and rating history."""
    from recovery.credit.rating.ratings import current_ratings, history
    from recovery.credit.terms import current_terms

    customer = _customer(code)
    now_ = current_ratings(db.session, [customer.id]).iloc[0]
    terms = current_terms(db.session, [customer.id]).iloc[0]["terms"]
    rows = [{"rated_on": r.rated_on.isoformat(), "grade": r.grade, "points": r.points, "cash_only": r.cash_only,
             "upgrade_blocked": r.upgrade_blocked, "reasons": r.reasons} for r in history(db.session, customer.id)]
    doc = {"customer_id": code, "grade": now_["grade"], "points": int(now_["points"]),
           "cash_only": bool(now_["cash_only"]), "overridden": bool(now_["overridden"]), "terms": terms,
           "history": rows}
    if as_json:
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    click.echo(f"{code}: grade {doc['grade']} ({doc['points']} points){' overridden' if doc['overridden'] else ''}"
               f"{', cash only' if doc['cash_only'] else ''}; terms {terms}")
    for r in rows:
        click.echo(f"  {r['rated_on']} {r['grade']:>4} {r['points']:>4}"
                   f"{' cash-only' if r['cash_only'] else ''}{' upgrade-blocked' if r['upgrade_blocked'] else ''}")


@credit_group.command("override")
@click.argument("code")
@click.option("--grade", required=True)
@click.option("--reason", required=True)
@click.option("--until", "until", required=True, callback=_date, help="Last day the override is in force.")
@with_appcontext
def credit_override(code: str, grade: str, reason: str, until: dt.date) -> None:
    """Override a customer's grade until a date (the command line acts with a supervisor's authority)."""
    from recovery.audit.service import current_actor
    from recovery.credit.rating.overrides import set_override

    new = _commit(lambda: set_override(db.session, _customer(code), grade=grade, reason=reason, expires_on=until,
                                       set_by=current_actor(), role="admin"))
    click.echo(f"override #{new.id}: {code} is {new.grade} until {new.expires_on.isoformat()}")


@credit_group.command("revoke-override")
@click.argument("override_id", type=int)
@click.option("--reason", required=True)
@with_appcontext
def credit_revoke(override_id: int, reason: str) -> None:
    """End an override before its expiry."""
    from recovery.audit.service import current_actor
    from recovery.credit.rating.overrides import revoke_override

    _commit(lambda: revoke_override(db.session, override_id, reason=reason, revoked_by=current_actor(), role="admin"))
    click.echo(f"override #{override_id} revoked")


@credit_group.group("terms")
def terms_group() -> None:
    """Settlement terms: post-paid, prepayment, split settlement."""


@terms_group.command("propose")
@click.argument("code")
@click.argument("terms", type=click.Choice(["postpaid", "prepayment", "split"]))
@click.option("--reason", required=True)
@with_appcontext
def terms_propose(code: str, terms: str, reason: str) -> None:
    """Propose a change of terms; a supervisor approves it."""
    from recovery.audit.service import current_actor
    from recovery.credit.terms import propose_terms

    req = _commit(lambda: propose_terms(db.session, _customer(code).id, terms, reason, current_actor()))
    click.echo(f"approval request #{req.id}: {code} to {terms}, waiting for a supervisor")


@terms_group.command("review")
@click.option("--as-of", "as_of", callback=_date, help="Business date (default: today).")
@with_appcontext
def terms_review(as_of: dt.date | None) -> None:
    """Propose the term changes the ratings call for (what the nightly review does)."""
    from recovery.credit.terms import review
    from recovery.timeutil import today

    day = as_of or today()
    click.echo(json.dumps(run_by_hand("credit.terms_review", day, lambda: review(db.session, day)), ensure_ascii=False))


@terms_group.command("settle")
@click.option("--date", "day", callback=_date, help="Business date (default: today).")
@click.option("--readings", type=click.Path(dir_okay=False), help="CSV customer_id,kwh of metered interim readings.")
@with_appcontext
def terms_settle(day: dt.date | None, readings: str | None) -> None:
    """Split settlement for a day: true up periods whose month-end bill arrived, issue interim bills."""
    import pandas as pd
    from sqlalchemy import select

    from recovery.credit.terms import issue_interim_bills, true_up
    from recovery.customers.models import Customer
    from recovery.errors import Invalid
    from recovery.timeutil import today

    day = day or today()
    metered = None
    if readings:
        frame = pd.read_csv(readings, dtype={"customer_id": str}, encoding="utf-8-sig")
        if not {"customer_id", "kwh"} <= set(frame.columns):
            raise Invalid(f"{readings}: needs columns customer_id and kwh")
        ids = dict(db.session.execute(select(Customer.code, Customer.id)
                                      .where(Customer.code.in_(frame["customer_id"].tolist()))).all())
        unknown = sorted(set(frame["customer_id"]) - set(ids))
        if unknown:
            raise Invalid(f"{readings}: unknown customer(s) {', '.join(unknown[:5])}")
        metered = {ids[c]: float(k) for c, k in zip(frame["customer_id"], frame["kwh"], strict=True)}

    def work():
        return {"true_up": true_up(db.session, day), "interim": issue_interim_bills(db.session, day, metered)}

    click.echo(json.dumps(run_by_hand("credit.split_settlement", day, work), ensure_ascii=False))


from recovery.credit.security.cli import deposit_group, guarantee_group, qualify_command, review_command  # noqa: E402

credit_group.add_command(review_command)
credit_group.add_command(deposit_group)
credit_group.add_command(guarantee_group)
credit_group.add_command(qualify_command)
