"""`recovery disputes …`: list, register and answer complaints and bill disputes from the command line."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from recovery.cliutil import committed as _commit
from recovery.cliutil import customer_by_code
from recovery.cliutil import yuan_param as _yuan
from recovery.extensions import db


@click.group("disputes")
def disputes_group() -> None:
    """Customers' complaints and bill disputes, with their deadlines."""


def _print(docs: list[dict]) -> None:
    from recovery.disputes.schemas import DisputeOut

    click.echo(json.dumps(DisputeOut(many=True).dump(docs), ensure_ascii=False))


@disputes_group.command("list")
@click.option("--status", type=click.Choice(["open", "overdue", "resolved", "all"]), default="open", show_default=True)
@click.option("--owner", help="Only this owner's (username).")
@click.option("--grid", help="Only this grid's customers.")
@with_appcontext
def disputes_list(status: str, owner: str | None, grid: str | None) -> None:
    """Print the disputes as JSON: open ones by deadline (default), overdue, resolved or all."""
    from recovery.disputes import service

    _print(service.listing(db.session, None, status=status, owner=owner, grid=grid))


@disputes_group.command("register")
@click.argument("customer")
@click.option("--kind", required=True, type=click.Choice(["outage", "meter_reading", "wrong_amount", "service"]))
@click.option("--channel", required=True, type=click.Choice(["counter", "phone", "online", "letter", "visit"]))
@click.option("--description", required=True, help="What the customer says.")
@click.option("--bill", "bills", multiple=True, help="A disputed bill (held from dunning while open); repeatable.")
@click.option("--owner", help="Who must answer it (default: the customer's account manager).")
@click.option("--against", help="The officer a service complaint is about.")
@click.option("--against-agent", help="The partner agent the complaint is about (counted in its assessment).")
@click.option("--against-distributor", help="The card distributor the complaint is about.")
@with_appcontext
def disputes_register(customer: str, kind: str, channel: str, description: str, bills: tuple[str, ...],
                      owner: str | None, against: str | None, against_agent: str | None,
                      against_distributor: str | None) -> None:
    """Register a complaint or bill dispute for CUSTOMER (its bills are held from dunning until it is answered)."""
    from recovery.audit.service import current_actor
    from recovery.disputes import service

    dispute = _commit(lambda: service.register(db.session, customer_by_code(customer), kind=kind, channel=channel,
                                               description=description, bill_codes=bills, owner=owner,
                                               against=against, against_agent=against_agent,
                                               against_distributor=against_distributor,
                                               registered_by=current_actor()))
    _print([service.document(db.session, dispute)])


@disputes_group.command("resolve")
@click.argument("dispute_id", type=int)
@click.option("--outcome", required=True, type=click.Choice(["upheld", "rejected"]))
@click.option("--reason", required=True, help="What the customer is told.")
@click.option("--remedy", type=click.Choice(["corrected_bill", "credit", "none"]), help="Upheld: what is done.")
@click.option("--bill", help="The disputed bill the remedy applies to (default: the only one).")
@click.option("--amount", callback=_yuan, help="corrected_bill: the bill's right amount; credit: the yuan credited.")
@click.option("--kwh", type=click.FloatRange(min=0), help="corrected_bill: the bill's right consumption.")
@click.option("--against", help="Upheld: the officer at fault (counted in the assessment).")
@with_appcontext
def disputes_resolve(dispute_id: int, outcome: str, reason: str, remedy: str | None, bill: str | None,
                     amount: int | None, kwh: float | None, against: str | None) -> None:
    """Answer a dispute: upheld (a corrected bill or a credit through the ledger, or no money) or rejected."""
    from recovery.audit.service import current_actor
    from recovery.disputes import service

    def work():
        dispute = service.get(db.session, dispute_id)
        return service.resolve(db.session, dispute, outcome=outcome, reason=reason, by=current_actor(),
                               any_owner=True, remedy=remedy, bill_code=bill, amount_fen=amount, kwh=kwh,
                               against=against)

    dispute = _commit(work)
    _print([service.document(db.session, dispute)])
