"""What a reconciled day shows: the contract's report JSON, the clerks' dashboard figures, and the daily
payment report (缴费日报表) per channel and channel account."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from recovery.csvexport import safe_cell
from recovery.money import format_yuan
from recovery.payments.models import Agent, Payment, PaymentState, Remittance
from recovery.reconcile.models import BreakStatus, ReconBreak, ReconRun
from recovery.reconcile.service import waiting_rerun
from recovery.timeutil import start_of_day


def _yuan(fen: int | None) -> str | None:
    return None if fen is None else format_yuan(int(fen))


def _agent_figures(session: Session, day: dt.date, codes: list[str]) -> dict[str, dict[str, str]]:
    """Per agent: the day's takings, what it remitted that day, and its unremitted takings at the day's close."""
    if not codes:
        return {}
    end = start_of_day(day + dt.timedelta(days=1))
    start = start_of_day(day)
    live = Payment.state != PaymentState.reversed
    takings = dict(session.execute(
        select(Payment.channel_account, func.sum(case((Payment.paid_at >= start, Payment.amount_fen), else_=0)))
        .where(Payment.channel == "agent", Payment.channel_account.in_(codes), Payment.paid_at < end, live)
        .group_by(Payment.channel_account)).all())
    total_taken = dict(session.execute(
        select(Payment.channel_account, func.sum(Payment.amount_fen))
        .where(Payment.channel == "agent", Payment.channel_account.in_(codes), Payment.paid_at < end, live)
        .group_by(Payment.channel_account)).all())
    remitted = {code: (today or 0, upto or 0) for code, today, upto in session.execute(
        select(Agent.code, func.sum(case((Remittance.remitted_on == day, Remittance.amount_fen), else_=0)),
               func.sum(Remittance.amount_fen))
        .join(Remittance, Remittance.agent_id == Agent.id)
        .where(Agent.code.in_(codes), Remittance.remitted_on <= day).group_by(Agent.code)).all()}
    out = {}
    for code in codes:
        today_fen, upto_fen = remitted.get(code, (0, 0))
        out[code] = {"takings": format_yuan(int(takings.get(code) or 0)), "remitted": format_yuan(int(today_fen)),
                     "unremitted_at_close": format_yuan(int(total_taken.get(code) or 0) - int(upto_fen))}
    return out


def day_report(session: Session, day: dt.date, *, channel: str | None = None) -> dict[str, Any]:
    """The contract's reconciliation report for a day: per channel account, totals, matched count, breaks."""
    runs_q = select(ReconRun).where(ReconRun.day == day).order_by(ReconRun.channel, ReconRun.channel_account)
    if channel:
        runs_q = runs_q.where(ReconRun.channel == channel)
    runs = list(session.scalars(runs_q))
    linked = aliased(Payment)
    rows = session.execute(
        select(ReconBreak, Payment.code, linked.code)
        .outerjoin(Payment, Payment.id == ReconBreak.payment_id)
        .outerjoin(linked, linked.id == ReconBreak.linked_payment_id)
        .where(ReconBreak.run_id.in_([r.id for r in runs]))
        .order_by(ReconBreak.kind, ReconBreak.channel_ref, ReconBreak.id)
    ).all()
    by_run: dict[int, list[dict[str, Any]]] = {}
    for b, payment_code, linked_code in rows:
        by_run.setdefault(b.run_id, []).append({
            "kind": b.kind, "channel_ref": b.channel_ref, "customer_id": b.customer_code,
            "statement_amount": _yuan(b.statement_amount_fen), "ledger_amount": _yuan(b.ledger_amount_fen),
            "ledger_payment_id": payment_code or linked_code, "status": b.status,
            # Beyond the contract: the break's id (for the resolution pages), why, and how it was cleared.
            "id": b.id, "note": b.note, "resolution": b.resolution,
        })
    agents = _agent_figures(session, day, [r.channel_account for r in runs if r.channel == "agent"])
    channels = []
    for r in runs:
        entry = {"channel": r.channel, "channel_account": r.channel_account, "matched": r.matched,
                 "statement_total": format_yuan(r.statement_total_fen), "ledger_total": format_yuan(r.ledger_total_fen),
                 "breaks": by_run.get(r.id, []),
                 "state": r.state, "statement_lines": r.statement_lines, "ledger_payments": r.ledger_payments,
                 # Reopened since it last ran (a late statement, a reversal): the nightly job reruns it.
                 "reopened": waiting_rerun(r)}
        if r.channel == "agent":
            entry["remittance"] = agents.get(r.channel_account)
        channels.append(entry)
    return {"date": day.isoformat(), "channels": channels}


def dashboard(session: Session, day: dt.date) -> list[dict[str, Any]]:
    """Per channel: accounts, matched payments, both totals and open / resolved breaks for the day."""
    runs = session.execute(
        select(ReconRun.channel, func.count(), func.sum(ReconRun.matched), func.sum(ReconRun.statement_total_fen),
               func.sum(ReconRun.ledger_total_fen))
        .where(ReconRun.day == day).group_by(ReconRun.channel).order_by(ReconRun.channel)).all()
    breaks = dict(((ch, st), n) for ch, st, n in session.execute(
        select(ReconBreak.channel, case((ReconBreak.status == BreakStatus.resolved, "resolved"), else_="open"),
               func.count())
        .where(ReconBreak.day == day).group_by(ReconBreak.channel, ReconBreak.status)).all())
    out = []
    for ch, accounts, matched, st_total, led_total in runs:
        open_n = sum(n for (c, s), n in breaks.items() if c == ch and s == "open")
        out.append({"channel": ch, "accounts": accounts, "matched": int(matched or 0),
                    "statement_total_fen": int(st_total or 0), "ledger_total_fen": int(led_total or 0),
                    "open_breaks": open_n, "resolved_breaks": breaks.get((ch, "resolved"), 0)})
    return out


PAYMENT_REPORT_COLUMNS = ["date", "channel", "channel_account", "collected_count", "collected", "settled_count",
                          "settled", "outstanding_count", "outstanding", "statement_total", "open_breaks"]


def payment_report(session: Session, day: dt.date) -> list[dict[str, Any]]:
    """The daily payment report: per channel and channel account, what was collected on the day (live
    payments), how much of it the channel has settled, what is still provisional, beside the statement."""
    start, end = start_of_day(day), start_of_day(day + dt.timedelta(days=1))
    settled = Payment.state == PaymentState.settled
    rows = session.execute(
        select(Payment.channel, Payment.channel_account, func.count(), func.sum(Payment.amount_fen),
               func.sum(case((settled, 1), else_=0)), func.sum(case((settled, Payment.amount_fen), else_=0)))
        .where(Payment.paid_at >= start, Payment.paid_at < end, Payment.state != PaymentState.reversed)
        .group_by(Payment.channel, Payment.channel_account)).all()
    runs = {(r.channel, r.channel_account): r for r in session.scalars(select(ReconRun).where(ReconRun.day == day))}
    open_breaks = dict(((ch, acct), n) for ch, acct, n in session.execute(
        select(ReconBreak.channel, ReconBreak.channel_account, func.count())
        .where(ReconBreak.day == day, ReconBreak.status != BreakStatus.resolved)
        .group_by(ReconBreak.channel, ReconBreak.channel_account)).all())
    figures = {(ch, acct): (n, int(total or 0), int(s_n or 0), int(s_total or 0))
               for ch, acct, n, total, s_n, s_total in rows}
    out = []
    for key in sorted(set(figures) | set(runs)):
        n, total, s_n, s_total = figures.get(key, (0, 0, 0, 0))
        run = runs.get(key)
        out.append({"date": day.isoformat(), "channel": key[0], "channel_account": key[1],
                    "collected_count": n, "collected_fen": total, "settled_count": s_n, "settled_fen": s_total,
                    "outstanding_count": n - s_n, "outstanding_fen": total - s_total,
                    "statement_total_fen": run.statement_total_fen if run and run.state != "no_statement" else None,
                    "open_breaks": open_breaks.get(key, 0)})
    return out


def payment_report_csv(rows: list[dict[str, Any]]) -> str:
    """The daily payment report as CSV (amounts in yuan, empty where there is no statement)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(PAYMENT_REPORT_COLUMNS)
    for r in rows:
        w.writerow([r["date"], r["channel"], safe_cell(r["channel_account"]), r["collected_count"],
                    format_yuan(r["collected_fen"]),
                    r["settled_count"], format_yuan(r["settled_fen"]), r["outstanding_count"],
                    format_yuan(r["outstanding_fen"]),
                    "" if r["statement_total_fen"] is None else format_yuan(r["statement_total_fen"]),
                    r["open_breaks"]])
    return buf.getvalue()
