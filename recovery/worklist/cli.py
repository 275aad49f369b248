"""`recovery worklist …` and `recovery segments …`: the day's build, account managers, coverage, segments."""

from __future__ import annotations

import datetime as dt
import json

import click
from flask.cli import with_appcontext

from recovery.cliutil import committed as _commit
from recovery.cliutil import date_param as _date
from recovery.extensions import db
from recovery.jobs.runner import run_by_hand


@click.group("worklist")
def worklist_group() -> None:
    """The officers' worklist: the day's build, account managers and coverage."""


@worklist_group.command("build")
@click.option("--date", "day", callback=_date, help="Business date (default: today).")
@with_appcontext
def worklist_build(day: dt.date | None) -> None:
    """Segments, coverage and the day's work items, as the nightly job does (rerunnable)."""
    from recovery.timeutil import today
    from recovery.worklist.build import nightly

    day = day or today()
    summary = run_by_hand("collections.worklist", day, lambda: nightly(db.session, day))
    click.echo(json.dumps(summary, ensure_ascii=False))


@worklist_group.command("assign")
@click.option("--grid", help="Only this grid's customers (default: every grid).")
@click.option("--date", "day", callback=_date, help="Business date (default: today).")
@with_appcontext
def worklist_assign(grid: str | None, day: dt.date | None) -> None:
    """Give unassigned customers a manager and a deputy by the coverage rule; deputies take over from managers
    who left."""
    from recovery.audit.service import current_actor
    from recovery.timeutil import today
    from recovery.worklist.coverage import assign

    summary = _commit(lambda: assign(db.session, day or today(), grid, actor=current_actor()))
    click.echo(json.dumps(summary, ensure_ascii=False))


@worklist_group.command("coverage")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def worklist_coverage(as_json: bool) -> None:
    """Customers nobody covers, customers without a deputy, and the load per manager."""
    from recovery.worklist.coverage import report

    doc = report(db.session)
    if as_json:
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    click.echo(f"orphans: {len(doc['orphans'])}; without a deputy: {doc['without_deputy']}")
    for o in doc["orphans"]:
        click.echo(f"  orphan {o['code']} ({o['grid']}): {o['why']}")
    for m in doc["managers"]:
        click.echo(f"  {m['manager']}{'' if m['active'] else ' (inactive)'}: {m['customers']} customers "
                   f"(high_value {m['high_value']}, potential {m['potential']}, medium {m['medium']}, low {m['low']}), "
                   f"load {m['load']:.2f}, deputy for {m['deputy_for']}")


@click.group("segments")
def segments_group() -> None:
    """Customer segments by value and risk."""


@segments_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_appcontext
def segments_show(as_json: bool) -> None:
    """Customers per value segment with their monthly bills and contact frequencies, and per risk band."""
    from recovery.money import format_yuan
    from recovery.worklist.segments import segments_table, summary

    rows = [{**r, **{k: int(r[k]) if r[k] is not None else None for k in ("visit_every_days", "call_every_days")}}
            for r in segments_table(db.session)]
    counts = summary(db.session)
    if as_json:
        value = [{"value_segment": r["value_segment"], "customers": int(r["customers"]),
                  "monthly_bill_min": format_yuan(int(r["min_fen"])),
                  "monthly_bill_max": format_yuan(int(r["max_fen"])),
                  "visit_every_days": r["visit_every_days"], "call_every_days": r["call_every_days"],
                  "as_of": r["as_of"].isoformat() if r["as_of"] else None} for r in rows]
        click.echo(json.dumps({"value": value, "counts": counts}, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no segments yet: run `recovery segments refresh` or the nightly worklist build")
        return
    click.echo(f"as of {rows[0]['as_of']}")
    for r in rows:
        click.echo(f"  {r['value_segment']:<10} {int(r['customers']):>8} customers, monthly bill "
                   f"{format_yuan(int(r['min_fen']))}–{format_yuan(int(r['max_fen']))}; visit every "
                   f"{r['visit_every_days'] or '-'} days, call every {r['call_every_days'] or '-'} days")
    click.echo("  risk: " + ", ".join(f"{k.removeprefix('risk_')} {v}" for k, v in counts.items()
                                      if k.startswith("risk_")))


@segments_group.command("refresh")
@click.option("--date", "day", callback=_date, help="Business date (default: today).")
@with_appcontext
def segments_refresh(day: dt.date | None) -> None:
    """Recompute every customer's segments now."""
    from recovery.timeutil import today
    from recovery.worklist.segments import refresh

    day = day or today()
    # The segments are the first step of the worklist's job: under its lock, never beside it.
    summary = run_by_hand("collections.worklist", day, lambda: refresh(db.session, day), scope="segments")
    click.echo(json.dumps(summary, ensure_ascii=False))
