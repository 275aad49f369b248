"""`recovery collections …` (the dunning ladder, promises and plans, disconnection orders) and
`recovery notices send` (the outbox)."""

from __future__ import annotations

import datetime as dt
import json

import click
from flask.cli import with_appcontext

from recovery.cliutil import committed as _commit
from recovery.cliutil import date_param as _date
from recovery.extensions import db
from recovery.jobs.runner import run_by_hand


@click.group("collections")
def collections_group() -> None:
    """The dunning ladder, promises to pay, pay plans and disconnection orders."""


@collections_group.command("dunning")
@click.option("--date", "day", callback=_date, help="Business date (default: yesterday, as the nightly job).")
@with_appcontext
def collections_dunning(day: dt.date | None) -> None:
    """Recompute every customer's dunning step; write notices, work items and disconnection orders (rerunnable)."""
    from recovery.collections.dunning import nightly
    from recovery.timeutil import today

    day = day or today() - dt.timedelta(days=1)
    summary = run_by_hand("collections.dunning", day, lambda: nightly(db.session, day))
    click.echo(json.dumps(summary, ensure_ascii=False))


@collections_group.command("promises")
@click.option("--date", "day", callback=_date, help="Business date (default: yesterday, as the nightly job).")
@with_appcontext
def collections_promises(day: dt.date | None) -> None:
    """Find promises kept or broken and pay plans completed or broken (rerunnable)."""
    from recovery.collections.promises import nightly
    from recovery.timeutil import today

    day = day or today() - dt.timedelta(days=1)
    summary = run_by_hand("collections.promises", day, lambda: nightly(db.session, day))
    click.echo(json.dumps(summary, ensure_ascii=False))


@collections_group.command("execute-order")
@click.argument("order_id", type=int)
@click.option("--note", default=None, help="Why it should be carried out, for the approver.")
@with_appcontext
def collections_execute(order_id: int, note: str | None) -> None:
    """Ask for an open disconnection order to be carried out; a supervisor other than the requester approves it
    (the approvals page). Re-checks the latest payments first: a payer's order is cancelled instead."""
    from recovery.audit.service import current_actor
    from recovery.collections.dunning import get_order, request_execution

    result = _commit(lambda: request_execution(db.session, get_order(db.session, order_id), by=current_actor(),
                                               note=note))
    waiting = f", approval request #{result['request_id']}" if result["request_id"] else ""
    click.echo(f"disconnection order #{order_id}: {result['outcome']} ({result['reason']}{waiting})")


@click.group("notices")
def notices_group() -> None:
    """The outbox of SMS and letters."""


@notices_group.command("send")
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(1, 1_000_000))
@with_appcontext
def notices_send(limit: int) -> None:
    """Deliver unsent notices (SMS through NOTIFY_SMS_URL when set, else the log); failures stay queued."""
    from recovery.notifications.senders import send_pending
    from recovery.timeutil import today

    # send_pending commits each message as it goes: a crash keeps what was delivered, it is not all or nothing.
    # Under the job's lock, so that it never sends beside the scheduled run; notices keep arriving during the
    # night, so a run by hand does not stand for the day's (scope).
    summary = run_by_hand("notifications.send", today(), lambda: send_pending(db.session, limit=limit),
                          scope="notices queued so far")
    click.echo(json.dumps(summary))
