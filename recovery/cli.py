"""The `recovery` command line: a Flask CLI group bound to the app factory."""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import OperationalError, ProgrammingError

from recovery import create_app
from recovery.auth.models import Role
from recovery.cliutil import date_param as _date
from recovery.errors import DomainError, ImportRejected
from recovery.extensions import db
from recovery.unitofwork import committed, unit_of_work


def _fail(message: str) -> None:
    """One line on stderr and a non-zero exit, as the contract asks of every command."""
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Domain, database and file errors raised by a command become the contract's one-line error."""
    try:
        yield
    except ImportRejected as e:
        for line in e.errors:
            click.echo(line, err=True)
        _fail(f"import rejected: {e.message}")
    except DomainError as e:
        _fail(e.message)
    except (OperationalError, ProgrammingError) as e:
        reason = str(e.orig).strip().splitlines()[0] if e.orig else str(e)
        if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
            _fail(f"the database schema is missing or out of date ({reason}); run `recovery init`")
        _fail(f"database unavailable: {reason}")
    except OSError as e:
        _fail(f"{e.strerror or e}: {e.filename}" if e.filename else str(e))


class RecoveryGroup(FlaskGroup):
    """Turns domain errors raised by any command into the contract's one-line error."""

    def invoke(self, ctx: click.Context):
        with one_line_errors():
            return super().invoke(ctx)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """`recovery --version`: fee-recovery's version (package metadata), then what it runs on."""
    if not value or ctx.resilient_parsing:
        return
    import platform

    click.echo(f"fee-recovery {metadata.version('fee-recovery')}\nPython {platform.python_version()}\n"
               f"Flask {metadata.version('flask')}\nWerkzeug {metadata.version('werkzeug')}")
    ctx.exit()


@click.group(cls=RecoveryGroup, create_app=create_app, add_default_commands=False, add_version_option=False,
             help="fee-recovery: credit, payments, reconciliation and arrears risk for an electricity utility.")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show fee-recovery's version and exit.")
def cli() -> None:
    pass


@cli.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the schema on DATABASE_URL."""
    from recovery.dbadmin import upgrade

    upgrade()
    click.echo(f"schema at head on {db.engine.url.render_as_string(hide_password=True)}")


@cli.command("import")
@click.argument("kind", type=click.Choice(["customers", "bills", "payments", "events", "area-readings"]))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def import_command(kind: str, file: Path) -> None:
    """Import a contract CSV atomically: every row or none."""
    from recovery.imports.service import import_file
    from recovery.progress import working

    with working(f"import {kind} {file.name}"), unit_of_work():
        result = import_file(db.session, kind, file)
    assigned = f", {result.updated} given their area or line" if result.updated else ""
    click.echo(f"{kind}: {result.rows} rows, {result.inserted} new, {result.unchanged} already present{assigned}")


@cli.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def stats_command(as_json: bool) -> None:
    """Counts of customers, bills, payments and events, and the total outstanding balance."""
    from recovery.billing.service import stats

    figures = stats(db.session)
    if as_json:
        click.echo(json.dumps(figures))
    else:
        for k, v in figures.items():
            click.echo(f"{k}: {v}")


@cli.group("report")
def report_group() -> None:
    """Reports."""


@report_group.command("ageing")
@click.option("--as-of", "as_of", required=True, callback=_date, help="Business date, YYYY-MM-DD.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@with_appcontext
def ageing_command(as_of: dt.date, out: Path | None) -> None:
    """Every customer's balance, overdue part, oldest unpaid due date and ageing bucket."""
    from recovery.billing.service import ageing_csv

    text = ageing_csv(db.session, as_of)
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@cli.command("demo")
@click.option("--customers", default=5000, show_default=True, type=click.IntRange(1, 5_000_000))
@click.option("--months", default=24, show_default=True, type=click.IntRange(1, 120))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--as-of", "as_of", callback=_date, help="The demo's today (default: today).")
@click.option("--csv", "csv_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Also write the generated contract CSV files here.")
@click.option("--work/--no-work", default=True, show_default=True,
              help="Stage the recent days' work (statements reconciled, promises, dunning, requests waiting for "
                   "approval, the month before closed) so that every role has work on first sign-in.")
@with_appcontext
def demo_command(customers: int, months: int, seed: int, as_of: dt.date | None, csv_dir: Path | None,
                 work: bool) -> None:
    """Load a realistic synthetic utility (idempotent for the same arguments)."""
    from recovery.audit import service as audit
    from recovery.demo import loss as loss_demo
    from recovery.demo.generator import generate, write_csv
    from recovery.demo.service import ensure_demo_users, load_chunk_or_explain, summary
    from recovery.progress import progress
    from recovery.timeutil import today

    as_of = as_of or today()
    tz = current_app.config["RECOVERY_TZ"]
    areas = loss_demo.LossPlan(customers=customers, months=months, seed=seed, as_of=as_of, tz=tz)
    chunks = map(areas.prepare, generate(customers=customers, months=months, seed=seed, as_of=as_of, tz=tz))
    # One transaction per chunk of 50,000 customers: memory stays bounded and progress is kept.
    for chunk in progress(chunks, total=-(-customers // 50_000), unit="chunk", desc="demo"):
        with unit_of_work():
            load_chunk_or_explain(chunk)
    with unit_of_work():
        areas.finish(db.session)  # the area meters' readings, once every chunk's bills are known
        created = ensure_demo_users()
        audit.record(db.session, "demo.load", "database", None, customers=customers, months=months, seed=seed,
                     as_of=as_of.isoformat())
    from recovery.demo.accounts import add as add_accounts
    from recovery.demo.generator import describe

    add_accounts(db.session, as_of, describe(customers=customers, months=months, seed=seed, as_of=as_of,
                                             tz=tz).demolition_grid)
    if work:
        from recovery.demo.work import stage

        staged = stage(db.session, as_of)
        if staged["staged"]:
            click.echo(f"recent work staged: {staged['statements']} statements reconciled, promises "
                       f"{staged['promises']}, pay plan {staged['pay_plan']}, write-off asked for "
                       f"{staged['write_off']}, disconnection asked for {staged['disconnection']}, "
                       f"assessment {staged['assessment']['month']} closed")
        loss = loss_demo.stage(db.session, areas)
        click.echo(f"line loss: {loss['period']} screened, {loss['inspections']} inspections staged")
    if csv_dir:
        csv_dir.mkdir(parents=True, exist_ok=True)
        again = loss_demo.LossPlan(customers=customers, months=months, seed=seed, as_of=as_of, tz=tz)
        write_csv(map(again.prepare, generate(customers=customers, months=months, seed=seed, as_of=as_of, tz=tz)),
                  csv_dir, tz=tz)
        again.write_readings(csv_dir)
    click.echo(f"demo utility loaded: {customers} customers, {months} months up to {as_of.isoformat()}")
    if created:
        click.echo(summary(created))
        click.echo("(set RECOVERY_DEMO_PASSWORD to choose it; it is shown only now)")


@cli.group("user")
def user_group() -> None:
    """Users and their roles."""


@user_group.command("create")
@click.argument("username")
@click.option("--role", required=True,
              type=click.Choice([role.value for role in Role]))
@click.option("--name", "display_name", help="Display name (default: the username).")
@click.option("--grid", "grids", multiple=True, help="Grid code an officer works (repeatable).")
@click.password_option(envvar="RECOVERY_USER_PASSWORD")
@with_appcontext
def user_create(username: str, role: str, display_name: str | None, grids: tuple[str, ...], password: str) -> None:
    """Create a user who signs in to the officer pages."""
    from recovery.auth.service import create_user

    committed(lambda: create_user(db.session, username, role=role, password=password, display_name=display_name,
                                  grids=grids))
    click.echo(f"user {username} ({role}) created")


@user_group.command("password")
@click.argument("username")
@click.password_option(envvar="RECOVERY_USER_PASSWORD")
@with_appcontext
def user_password(username: str, password: str) -> None:
    """Set a user's new password; every session they have open ends."""
    from recovery.auth.service import change_password

    committed(lambda: change_password(db.session, username, password))
    click.echo(f"user {username}: password changed, open sessions ended")


@user_group.command("deactivate")
@click.argument("username")
@with_appcontext
def user_deactivate(username: str) -> None:
    """Stop a user from signing in; every session they have open ends now."""
    from recovery.auth.service import deactivate

    committed(lambda: deactivate(db.session, username))
    click.echo(f"user {username} deactivated, open sessions ended")


@user_group.command("unlock")
@click.argument("username")
@with_appcontext
def user_unlock(username: str) -> None:
    """Lift the sign-in lockout of a user name before it runs out (audited)."""
    from recovery.auth.service import unlock

    unlocked = committed(lambda: unlock(db.session, username))
    click.echo(f"user name {username} unlocked" if unlocked else f"user name {username} was not locked")


@cli.group("agent")
def agent_group() -> None:
    """Partner collection agents."""


def _print_secret(new, as_json: bool) -> None:
    from recovery.money import format_yuan

    if as_json:
        limit = format_yuan(new.agent.limit_fen)
        click.echo(json.dumps({"code": new.agent.code, "secret": new.secret, "limit": limit}))
    else:
        click.echo(f"agent {new.agent.code}: limit {format_yuan(new.agent.limit_fen)} yuan")
        click.echo(f"API secret (shown only now, stored encrypted): {new.secret}")


@agent_group.command("create")
@click.argument("code")
@click.option("--name", required=True)
@click.option("--deposit", required=True, help="The agent's deposit in yuan, e.g. 50000.00.")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def agent_create(code: str, name: str, deposit: str, as_json: bool) -> None:
    """Register a partner agent; prints its code, its API secret once, and its limit."""
    from recovery.money import parse_yuan
    from recovery.payments.channels.agents import create_agent

    new = committed(lambda: create_agent(db.session, code, name=name, deposit_fen=parse_yuan(deposit)))
    _print_secret(new, as_json)


@agent_group.command("rotate-secret")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True)
@with_appcontext
def agent_rotate(code: str, as_json: bool) -> None:
    """Issue a new API secret; the previous one stays valid for seven days."""
    from recovery.payments.channels.agents import rotate_secret

    new = committed(lambda: rotate_secret(db.session, code))
    _print_secret(new, as_json)


@agent_group.command("remit")
@click.argument("code")
@click.argument("amount")
@click.option("--reference", required=True, help="The remittance's bank or receipt reference.")
@click.option("--on", "remitted_on", callback=_date, help="Business date (default: today).")
@with_appcontext
def agent_remit(code: str, amount: str, reference: str, remitted_on: dt.date | None) -> None:
    """Record money an agent handed over; it frees that much of the agent's limit."""
    from recovery.audit.service import current_actor
    from recovery.money import format_yuan, parse_yuan
    from recovery.payments.channels.agents import get_agent, record_remittance
    from recovery.timeutil import today

    committed(lambda: record_remittance(db.session, code, parse_yuan(amount), remitted_on=remitted_on or today(),
                                        reference=reference, recorded_by=current_actor()))
    click.echo(f"agent {code}: unremitted takings now {format_yuan(get_agent(db.session, code).unremitted_fen)}")


DASK_HELP = ("Run on a Dask cluster: a scheduler's address (tcp://host:8786) or `local` for a LocalCluster on this "
             "machine (needs the `dask` extra).")


@cli.group("model")
def model_group() -> None:
    """The arrears-risk model."""


@model_group.command("train")
@click.option("--as-of", "as_of", required=True, callback=_date, help="Train on data known at this date.")
@click.option("--tune", is_flag=True, help="Choose hyperparameters by time-based cross-validation first (slower).")
@click.option("--dask", "dask", metavar="ADDRESS", help=DASK_HELP)
@with_appcontext
def model_train(as_of: dt.date, tune: bool, dask: str | None) -> None:
    """Train on data known at the date; the new version becomes the active one."""
    from recovery.audit import service as audit
    from recovery.progress import working
    from recovery.risk.service import train_model

    with unit_of_work():
        with working(f"model train --as-of {as_of.isoformat()}"):
            version, evaluation = train_model(db.session, as_of, tune=tune, dask=dask)
        audit.record(db.session, "model.train", "model", version, as_of=as_of.isoformat(),
                     auc=evaluation["model"]["roc_auc"] if "model" in evaluation else None)
    click.echo(json.dumps({"version": version, "evaluation": evaluation}, ensure_ascii=False, indent=2))


@model_group.command("score")
@click.option("--as-of", "as_of", required=True, callback=_date)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Language of reasons.")
@click.option("--dask", "dask", metavar="ADDRESS", help=DASK_HELP)
@with_appcontext
def model_score(as_of: dt.date, out: Path | None, lang: str, dask: str | None) -> None:
    """Score every customer as of the date with the active model; stores the run and writes the scores CSV."""
    from recovery.jobs.runner import run_by_hand
    from recovery.progress import working
    from recovery.risk.service import scores_csv

    scored: list[str] = []

    def work() -> dict:
        scored.append(scores_csv(db.session, as_of, lang=lang, dask=dask))
        return {"scored": scored[0].count("\n") - 1}

    with working(f"model score --as-of {as_of.isoformat()}"):
        run_by_hand("risk.score", as_of, work)  # the nightly scoring's lock and history
    text = scored[0]
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@model_group.command("evaluate")
@click.option("--as-of", "as_of", required=True, callback=_date, help="Features at this date, outcomes after it.")
@click.option("--truth", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV customer_id,pd: true probabilities of default at the date (a simulated utility's); "
                   "adds the oracle's figures and the oracle gap.")
@with_appcontext
def model_evaluate(as_of: dt.date, truth: Path | None) -> None:
    """The active model's metrics (and the points baseline's) on held-out outcomes, as JSON."""
    from recovery.risk.service import evaluate, read_truth

    figures = evaluate(db.session, as_of, truth=read_truth(truth) if truth else None)
    click.echo(json.dumps(figures, ensure_ascii=False, indent=2))


@model_group.command("drift")
@click.option("--as-of", "as_of", required=True, callback=_date)
@with_appcontext
def model_drift(as_of: dt.date) -> None:
    """Population stability per feature against the active model's training data; warns when it is stale."""
    from recovery.risk.service import drift

    report = drift(db.session, as_of)
    click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    if report["stale"]:
        click.echo(f"warning: the active model is stale: {', '.join(report['drifted_features'])} shifted "
                   f"(PSI > {report['threshold']}); retrain with `recovery model train --as-of {as_of}`", err=True)


@cli.group("statement")
def statement_group() -> None:
    """Bank and channel statements."""


@statement_group.command("show")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", required=True, type=click.Choice(["csv", "mt940", "camt053", "camt054", "pain002"]))
@click.option("--json", "as_json", is_flag=True, help="Print the contract's parsed-statement JSON.")
def statement_show(file: Path, fmt: str, as_json: bool) -> None:
    """Parse a statement without importing it; refuse one that cannot be parsed completely."""
    from reconciliation.formats import StatementError, parse, to_json

    # The MT940 library logs a multi-line dump before we refuse the file; our one line says it all.
    logging.getLogger("mt940").setLevel(logging.CRITICAL)
    try:
        statements = parse(file, fmt)
    except StatementError as e:
        _fail("; ".join(e.problems) if getattr(e, "problems", None) else str(e))
    document = to_json(statements)
    if as_json:
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    for st in document["statements"]:
        click.echo(f"{st['account'] or '-'} {st['currency'] or ''}: {len(st['lines'])} lines, "
                   f"opening {st['opening_balance']}, closing {st['closing_balance']}")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug", is_flag=True)
@with_appcontext
def serve_command(host: str, port: int, debug: bool) -> None:
    """Development server; production is `gunicorn wsgi:app`."""
    from werkzeug.serving import run_simple

    # Flask's app.run() refuses to start under its own CLI; werkzeug's server is what it would run.
    app = current_app._get_current_object()
    app.debug = debug
    run_simple(host, port, app, use_reloader=False, use_debugger=debug, threaded=True)


from recovery import domains  # noqa: E402

domains.init_cli(cli)  # each domain's commands, attached beside the ones above (recovery/domains.py)

def _guarded(command: click.Command) -> click.Command:
    """The command as `app.cli` holds it: a copy whose errors become the contract's one line, as under `recovery`
    (Flask's own `flask` group would print a traceback)."""
    guarded = copy.copy(command)
    invoke = command.invoke

    def invoke_guarded(ctx: click.Context):
        with one_line_errors():
            return invoke(ctx)

    guarded.invoke = invoke_guarded  # type: ignore[method-assign]
    return guarded


def register(app: Flask) -> None:
    """Every `recovery` command on `app.cli` too, so that `flask --app wsgi …` reaches them (contracts.md).

    `recovery` finds its own commands first; Flask's group finds these copies."""
    for name, command in cli.commands.items():
        app.cli.add_command(_guarded(command), name)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="recovery")


if __name__ == "__main__":
    main()
