"""The daily reconciliation: load a day's ledger payments and statement lines (one query each), let the
engine match them, and store matches and breaks in bulk.

A run replaces the previous run of the same day and channel account: matches are rewritten, and a
break found again (same fingerprint) keeps its row, status and resolution; an open break that is no
longer found is removed (the late statement explained it), a resolved one stays as history. Matched
provisional payments become settled (the channel has now accounted for them). Rerunning a day with
the same data therefore changes nothing.

Engine account keys are "channel␟channel_account", so one engine call per channel covers every
account of it without ever matching across accounts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Date, String, and_, delete, func, insert, literal, select, tuple_, type_coerce, update
from sqlalchemy.orm import Session

from reconciliation.matching import BREAK_COLUMNS, Window, match
from recovery import bulk
from recovery.audit import service as audit
from recovery.customers.models import Customer
from recovery.ops import metrics
from recovery.payments.models import Channel, Payment, PaymentState, Receipt
from recovery.reconcile import duties
from recovery.reconcile import policy as recon_policy
from recovery.reconcile.models import (
    BreakKind,
    BreakStatus,
    ReconBreak,
    ReconMatch,
    ReconRun,
    Resolution,
    RunState,
    Statement,
    StatementLine,
    SuspenseItem,
)
from recovery.timeutil import now, start_of_day

SEP = "\x1f"
SYSTEM = "system"
SUMMARY_COLUMNS = ["statement_total_fen", "statement_lines", "ledger_total_fen", "ledger_payments", "matched"]


@dataclass
class DayFrames:
    """What one day's reconciliation reads: payments and lines around the day, and statement coverage."""

    payments: pd.DataFrame
    lines: pd.DataFrame
    covered: pd.DataFrame  # account key, day (the business days live statements cover, day-1..day+1)
    cash: pd.DataFrame  # per account key: the day's kiosk and counter cash payments (count, fen), balanced as totals


def _instants(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, format="ISO8601")


def load_day(session: Session, day: dt.date, *, channel: str | None = None, account: str | None = None,
             margin: dt.timedelta) -> DayFrames:
    """The day's payments and statement lines with `margin` either side, in one query each."""
    start, end = start_of_day(day) - margin, start_of_day(day + dt.timedelta(days=1)) + margin
    p_where = [Payment.paid_at >= start, Payment.paid_at < end, Payment.state != PaymentState.reversed]
    # Cash at kiosks and counters is balanced as totals (recovery/reconcile/duties.py); their card part
    # is matched line by line against the acquirer's statement.
    cash = and_(Payment.channel.in_([Channel.kiosk, Channel.counter]),
                Payment.id.in_(select(Receipt.payment_id).where(Receipt.tender == "cash")))
    l_where = [StatementLine.at >= start, StatementLine.at < end, Statement.superseded_by_id.is_(None)]
    s_where = [Statement.superseded_by_id.is_(None), Statement.period_start <= day + dt.timedelta(days=1),
               Statement.period_end >= day - dt.timedelta(days=1)]
    if channel:
        p_where.append(Payment.channel == channel)
        l_where.append(StatementLine.channel == channel)
        s_where.append(Statement.channel == channel)
    if account:
        p_where.append(Payment.channel_account == account)
        l_where.append(StatementLine.channel_account == account)
        s_where.append(Statement.channel_account == account)
    # Read as columns (COPY on PostgreSQL): a day of a large utility is a million rows each way.
    payments = bulk.read_text_frame(session, select(
        Payment.id.label("payment_id"), Payment.channel, Payment.channel_account, Payment.channel_ref.label("ref"),
        Customer.code.label("customer"), Payment.amount_fen, type_coerce(Payment.paid_at, String).label("at"),
        Payment.state,
    ).join(Customer, Customer.id == Payment.customer_id).where(*p_where, ~cash), {
        "payment_id": "int64", "channel": "str", "channel_account": "str", "ref": "str", "customer": "str",
        "amount_fen": "int64", "at": "str", "state": "str"}, nullable=("ref",))
    day_start, day_end = start_of_day(day), start_of_day(day + dt.timedelta(days=1))
    cash_totals = pd.DataFrame(session.execute(
        select(Payment.channel, Payment.channel_account, func.count(), func.sum(Payment.amount_fen))
        .where(*p_where[2:], Payment.paid_at >= day_start, Payment.paid_at < day_end, cash)
        .group_by(Payment.channel, Payment.channel_account)).all(),
        columns=["channel", "channel_account", "ledger_payments", "ledger_total_fen"])
    cash_totals.index = cash_totals["channel"] + SEP + cash_totals["channel_account"]
    lines = bulk.read_text_frame(session, select(
        StatementLine.id.label("line_id"), StatementLine.channel, StatementLine.channel_account,
        StatementLine.reference.label("ref"), StatementLine.customer_code.label("customer"),
        StatementLine.amount_fen, type_coerce(StatementLine.at, String).label("at"), StatementLine.text,
    ).join(Statement, Statement.id == StatementLine.statement_id).where(*l_where), {
        "line_id": "int64", "channel": "str", "channel_account": "str", "ref": "str", "customer": "str",
        "amount_fen": "int64", "at": "str", "text": "str"}, nullable=("ref", "customer", "text"))
    statements = session.execute(select(Statement.channel, Statement.channel_account, Statement.period_start,
                                        Statement.period_end).where(*s_where)).all()
    covered = [(f"{c}{SEP}{a}", start_day + dt.timedelta(days=k))
               for c, a, start_day, end_day in statements
               for k in range((end_day - start_day).days + 1)]
    for frame in (payments, lines):
        frame["at"] = _instants(frame["at"])
        frame["account"] = frame["channel"] + SEP + frame["channel_account"]
    # Credits only: a debit on a bank statement (charges, the utility's own transfers) is no collection.
    lines = lines[lines["amount_fen"] > 0].reset_index(drop=True)
    return DayFrames(payments=payments, lines=lines,
                     covered=pd.DataFrame(covered, columns=["account", "day"]).drop_duplicates(),
                     cash=cash_totals[["ledger_payments", "ledger_total_fen"]].astype("int64"))


def _coverage(covered: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """Per account: from and until when statements are known around the day (for open timing breaks)."""
    if covered.empty:
        return pd.DataFrame(columns=["statement_from", "statement_until"])
    prev_day, next_day = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
    accounts = pd.Index(covered["account"].unique())
    prev = accounts.isin(covered.loc[covered["day"] == prev_day, "account"])
    nxt = accounts.isin(covered.loc[covered["day"] == next_day, "account"])
    start, end = pd.Timestamp(start_of_day(day)), pd.Timestamp(start_of_day(next_day))
    return pd.DataFrame({
        "statement_from": pd.to_datetime(np.where(prev, start - pd.Timedelta(days=1), start), utc=True),
        "statement_until": pd.to_datetime(np.where(nxt, end + pd.Timedelta(days=1), end), utc=True),
    }, index=accounts)


def _int(value) -> int | None:
    return None if pd.isna(value) else int(value)


def fingerprints(breaks: pd.DataFrame) -> pd.Series:
    """A break's identity across reruns: its kind and the payment it concerns, else its statement line.

    A timing break keyed by its payment stays the same break when the neighbouring day's line arrives
    (it is then cleared in place); repeats within one day get a counter.
    """
    by_line = breaks["kind"].isin([BreakKind.missing_in_ledger, BreakKind.duplicate]) & breaks["line_id"].notna()
    by_line |= breaks["payment_id"].isna()
    no_ids = breaks["line_id"].isna() & breaks["payment_id"].isna()
    key = np.where(no_ids, "R" + breaks["ref"].astype("string").fillna(""),
                   np.where(by_line, "L" + breaks["line_id"].astype("string").fillna(""),
                            "P" + breaks["payment_id"].astype("string").fillna("")))
    base = breaks["kind"].astype(str) + "|" + breaks["account"].astype(str) + "|" + pd.Series(key, index=breaks.index)
    n = base.groupby(base).cumcount()
    return base.where(n == 0, base + "#" + n.astype(str))


def reconcile_day(session: Session, day: dt.date, *, channel: str | None = None, account: str | None = None,
                  actor: str = SYSTEM) -> dict:
    """Reconcile one business day (one channel, one account, or all); returns a JSON-able summary."""
    cfg = recon_policy.settings()
    frames = load_day(session, day, channel=channel, account=account, margin=dt.timedelta(hours=cfg["margin_hours"]))
    start, end = pd.Timestamp(start_of_day(day)), pd.Timestamp(start_of_day(day + dt.timedelta(days=1)))
    coverage = _coverage(frames.covered, day)
    with_statement = set(frames.covered.loc[frames.covered["day"] == day, "account"])

    in_day = lambda f: f[(f["at"] >= start) & (f["at"] < end)]  # noqa: E731
    accounts = sorted(set(in_day(frames.payments)["account"]) | set(in_day(frames.lines)["account"])
                      | with_statement)
    all_matches, all_breaks, summaries = [], [], []
    for ch in sorted({a.split(SEP)[0] for a in accounts}):
        pays = frames.payments[frames.payments["channel"] == ch]
        lines = frames.lines[frames.lines["channel"] == ch]
        window = Window(day_start=start, day_end=end, coverage=coverage, ledger_until=pd.Timestamp(now()))
        result = match(lines, pays, recon_policy.rules_for(ch), window)
        all_matches.append(result.matches)
        all_breaks.append(result.breaks)
        summaries.append(result.summary)
    matches = pd.concat(all_matches, ignore_index=True) if all_matches else pd.DataFrame(
        columns=["match_id", "line_id", "payment_id", "pass"])
    breaks = pd.concat(all_breaks, ignore_index=True) if all_breaks else pd.DataFrame(
        columns=["kind", "status", "account", "line_id", "payment_id"])
    summary = (pd.concat(summaries) if summaries else pd.DataFrame(columns=SUMMARY_COLUMNS)).astype("int64")
    # Without a statement for the day there is nothing to compare: payments wait, no breaks are raised.
    breaks = breaks[breaks["account"].isin(with_statement)]

    # Kiosk cash, drawers and cards: their counts are their statements (comparisons of totals).
    duty, figures = duties.duty_breaks(session, day, channel)
    if account:
        duty = duty[duty["account"].str.split(SEP).str[1] == account]
        figures = figures[figures["account"].str.split(SEP).str[1] == account]
    counted = set(figures["account"]) | set(duty["account"])
    with_statement |= counted
    # Agents' and card distributors' remittances owed by the day: breaks of their accounts, which need no
    # statement of the day.
    owed = duties.obligation_breaks(session, day, cfg["remittance_days"], channel)
    if account:
        owed = owed[owed["account"].str.split(SEP).str[1] == account]
    duty = pd.concat([d for d in (duty, owed) if len(d)], ignore_index=True) if len(owed) else duty
    # Accounts reconciled on an earlier run of the day that have nothing left today (their payments were
    # reversed, their count withdrawn) are refreshed too: their figures go to zero, their open breaks away.
    accounts = sorted(set(accounts) | counted | set(duty["account"]) | set(frames.cash.index)
                      | _stored_accounts(session, day, channel, account))
    breaks = pd.concat([b for b in (breaks, duty) if len(b)], ignore_index=True) if len(duty) else \
        breaks.reset_index(drop=True)
    summary = summary.reindex(summary.index.union(pd.Index(accounts)), fill_value=0).astype("int64")
    counted_cols, cash_cols = ["statement_total_fen", "statement_lines"], ["ledger_total_fen", "ledger_payments"]
    extra = figures.astype({c: "int64" for c in counted_cols}).groupby("account")[counted_cols].sum()
    summary[counted_cols] += extra.reindex(summary.index, fill_value=0).to_numpy(dtype="int64")
    summary[cash_cols] += frames.cash.reindex(summary.index, fill_value=0)[cash_cols].to_numpy(dtype="int64")

    runs = _write_runs(session, day, accounts, summary, actor)
    _write_matches(session, runs, matches, frames.lines)
    counts = _write_breaks(session, day, runs, breaks)
    metrics.breaks_found(session, counts)
    _finish_runs(session, runs, with_statement, actor)
    suspense = _write_suspense(session, day, runs, cfg["suspense_channels"])
    settled = _settle(session, list(runs.values()))
    settled += _settle_balanced_cash(session, day, figures, duty)
    out = {"day": day.isoformat(), "accounts": len(runs), "matched": int(summary.get("matched", pd.Series()).sum()),
           "breaks": counts, "suspense_items": suspense, "settled": settled}
    audit.record(session, "reconcile.run", "reconciliation_day", day.isoformat(), actor=actor,
                 channel=channel, account=account, **out)
    return out


def _stored_accounts(session: Session, day: dt.date, channel: str | None, account: str | None) -> set[str]:
    """Account keys with a run stored for the day, within the scope of this run."""
    query = select(ReconRun.channel, ReconRun.channel_account).where(ReconRun.day == day)
    if channel:
        query = query.where(ReconRun.channel == channel)
    if account:
        query = query.where(ReconRun.channel_account == account)
    return {f"{ch}{SEP}{acct}" for ch, acct in session.execute(query)}


def _write_runs(session: Session, day: dt.date, accounts: list[str], summary: pd.DataFrame,
                actor: str) -> dict[str, int]:
    """Insert or refresh each account's run row for the day; returns account key -> run id."""
    existing = {f"{r.channel}{SEP}{r.channel_account}": r for r in session.scalars(
        select(ReconRun).where(ReconRun.day == day, ReconRun.channel.in_({a.split(SEP)[0] for a in accounts})))}
    stamp = now()
    ids = {}
    for key in accounts:  # one row per channel account of the day: a handful, not one per payment
        ch, acct = key.split(SEP)
        fig = summary.loc[key] if key in summary.index else None
        values = {
            # Provisional: _finish_runs sets the state from the breaks as stored (clerks may have resolved some).
            "state": existing[key].state if key in existing else RunState.no_statement,
            "matched": int(fig["matched"]) if fig is not None else 0,
            "statement_lines": int(fig["statement_lines"]) if fig is not None else 0,
            "ledger_payments": int(fig["ledger_payments"]) if fig is not None else 0,
            "statement_total_fen": int(fig["statement_total_fen"]) if fig is not None else 0,
            "ledger_total_fen": int(fig["ledger_total_fen"]) if fig is not None else 0,
        }
        run = existing.get(key)
        if run is None:
            run = ReconRun(day=day, channel=ch, channel_account=acct, run_by=actor, run_at=stamp, **values)
            session.add(run)
        else:
            # A reopened run is stamped as rerun even when nothing moved: it no longer waits for the night.
            changed = any(getattr(run, k) != v for k, v in values.items()) or waiting_rerun(run)
            for k, v in values.items():
                setattr(run, k, v)
            if changed:
                run.run_by, run.run_at = actor, stamp
        ids[key] = run
    session.flush()  # matches and breaks point at the runs
    return {k: r.id for k, r in ids.items()}


def _finish_runs(session: Session, runs: dict[str, int], with_statement: set[str], actor: str) -> None:
    """Each run's state from its breaks as stored: a break a clerk resolved no longer keeps the day open."""
    session.flush()  # the breaks just written are counted
    unresolved = set(session.scalars(select(ReconBreak.run_id).where(
        ReconBreak.run_id.in_(list(runs.values())), ReconBreak.status != BreakStatus.resolved).distinct()))
    for key, run_id in runs.items():  # the day's channel accounts: a handful
        run = session.get(ReconRun, run_id)
        state = (RunState.no_statement if key not in with_statement
                 else RunState.breaks if run_id in unresolved else RunState.balanced)
        if run.state != state:
            run.state, run.run_by, run.run_at = state, actor, now()


def _write_matches(session: Session, runs: dict[str, int], matches: pd.DataFrame, lines: pd.DataFrame) -> None:
    """Replace the runs' matches, unless they are exactly the ones stored (a rerun then writes nothing)."""
    cols = ["run_id", "match_no", "line_id", "payment_id", "rule"]
    account = matches.merge(lines[["line_id", "account"]], on="line_id") if len(matches) else \
        matches.assign(account=pd.Series([], dtype=object))
    account = account[account["account"].isin(runs)]
    fresh = pd.DataFrame({
        "run_id": account["account"].map(runs).to_numpy(dtype="int64"),
        "match_no": account["match_id"].to_numpy(dtype="int64"),
        "line_id": account["line_id"].to_numpy(dtype="int64"),
        "payment_id": account["payment_id"].to_numpy(dtype="int64"),
        "rule": account["pass"].to_numpy(dtype=object),
    })
    stored = bulk.read_text_frame(session, select(ReconMatch.run_id, ReconMatch.match_no, ReconMatch.line_id,
                                                  ReconMatch.payment_id, ReconMatch.rule)
                                  .where(ReconMatch.run_id.in_(list(runs.values()))),
                                  {"run_id": "int64", "match_no": "int64", "line_id": "int64", "payment_id": "int64",
                                   "rule": "str"})
    if len(stored) == len(fresh):
        order = ["run_id", "line_id", "payment_id"]
        a = fresh.sort_values(order, ignore_index=True)
        b = stored.astype({c: "int64" for c in cols[:4]}).sort_values(order, ignore_index=True)[cols]
        if a.equals(b.astype({"rule": object})):
            return
    session.execute(delete(ReconMatch).where(ReconMatch.run_id.in_(list(runs.values()))))
    bulk.insert_frame(session, ReconMatch.__table__, fresh)


def _write_breaks(session: Session, day: dt.date, runs: dict[str, int], breaks: pd.DataFrame) -> dict[str, int]:
    """Keep breaks found again (clearing timing ones the engine now finds matched), add new ones, drop
    open ones no longer found."""
    run_ids = list(runs.values())
    existing = bulk.read_frame(session, select(
        ReconBreak.id, ReconBreak.fingerprint, ReconBreak.status, ReconBreak.line_id, ReconBreak.run_id,
        ReconBreak.statement_amount_fen, ReconBreak.ledger_amount_fen,
    ).where(ReconBreak.day == day, ReconBreak.run_id.in_(run_ids)))
    breaks = breaks.reindex(columns=list(BREAK_COLUMNS))
    fresh = breaks.assign(fingerprint=fingerprints(breaks) if len(breaks) else pd.Series([], dtype=object))
    gone = existing[~existing["fingerprint"].isin(fresh["fingerprint"]) & (existing["status"] != BreakStatus.resolved)]
    if len(gone):
        session.execute(delete(ReconBreak).where(ReconBreak.id.in_(gone["id"].astype(int).tolist())))
    kept = existing.merge(fresh[["fingerprint", "status", "line_id", "statement_amount_fen", "ledger_amount_fen"]],
                          on="fingerprint", suffixes=("", "_new"))
    cleared = (kept["status"] != BreakStatus.resolved) & (kept["status_new"] == BreakStatus.resolved)
    differs = np.zeros(len(kept), dtype=bool)
    for c in ("line_id", "statement_amount_fen", "ledger_amount_fen"):
        old_v, new_v = kept[c].astype("Int64"), kept[f"{c}_new"].astype("Int64")
        differs |= (old_v.isna() != new_v.isna()).to_numpy() | (old_v != new_v).fillna(False).to_numpy(dtype=bool)
    if cleared.any() or differs.any():
        stamp = now()
        # A few rows (differences whose content moved, timing differences now matched): by primary key.
        session.execute(update(ReconBreak), [
            {"id": int(r.id), "line_id": _int(r.line_id_new), "statement_amount_fen": _int(r.statement_amount_fen_new),
             "ledger_amount_fen": _int(r.ledger_amount_fen_new),
             **({"status": BreakStatus.resolved, "resolution": Resolution.cleared, "resolved_by": SYSTEM,
                 "resolved_at": stamp, "resolution_note": "matched across the cut-off by the neighbouring day"}
                if clear else {})}
            for r, clear in zip(kept[cleared | differs].itertuples(), cleared[cleared | differs], strict=True)])
    new = fresh[~fresh["fingerprint"].isin(existing["fingerprint"])]
    if len(new):
        ch_acct = new["account"].str.split(SEP, n=1, expand=True)
        resolved = new["status"] == BreakStatus.resolved
        stamp = pd.Timestamp(now())
        bulk.insert_frame(session, ReconBreak.__table__, pd.DataFrame({
            "run_id": new["account"].map(runs).to_numpy(dtype="int64"),
            "day": pd.Series([pd.Timestamp(day)] * len(new)),
            "channel": ch_acct[0].to_numpy(), "channel_account": ch_acct[1].to_numpy(),
            "kind": new["kind"].to_numpy(), "fingerprint": new["fingerprint"].to_numpy(),
            "status": new["status"].to_numpy(),
            "line_id": new["line_id"].astype("Int64").to_numpy(),
            "payment_id": new["payment_id"].astype("Int64").to_numpy(),
            "channel_ref": new["ref"].to_numpy(), "customer_code": new["customer"].to_numpy(),
            "statement_amount_fen": new["statement_amount_fen"].astype("Int64").to_numpy(),
            "ledger_amount_fen": new["ledger_amount_fen"].astype("Int64").to_numpy(),
            "note": new["note"].to_numpy(),
            "created_at": pd.Series([stamp] * len(new)),
            "resolution": np.where(resolved, Resolution.cleared.value, None),
            "resolved_by": np.where(resolved, SYSTEM, None),
            "resolved_at": pd.Series([stamp if r else pd.NaT for r in resolved], dtype="datetime64[ns, UTC]"),
        }))
    return {k: int(v) for k, v in fresh["kind"].value_counts().items()} if len(fresh) else {}


def _write_suspense(session: Session, day: dt.date, runs: dict[str, int], channels: Iterable[str]) -> int:
    """Unmatched credits of bank-like channels wait in suspense until a clerk assigns them; an open item
    whose line has since matched is withdrawn."""
    channels = list(channels)
    run_ids = list(runs.values())
    missing = select(ReconBreak.line_id).where(
        ReconBreak.run_id.in_(run_ids), ReconBreak.kind == BreakKind.missing_in_ledger,
        ReconBreak.channel.in_(channels), ReconBreak.line_id.is_not(None))
    pairs = [tuple(k.split(SEP, 1)) for k in runs if k.split(SEP, 1)[0] in channels]
    if not pairs:
        return 0
    # Only the accounts this run reconciled: another channel's items are not this run's to withdraw.
    session.execute(delete(SuspenseItem).where(
        SuspenseItem.day == day, SuspenseItem.status == "open",
        tuple_(SuspenseItem.channel, SuspenseItem.channel_account).in_(pairs),
        ~SuspenseItem.line_id.in_(missing),
        SuspenseItem.line_id.in_(select(StatementLine.id).where(StatementLine.business_day == day))))
    stamp = now()
    new = select(StatementLine.id, literal(day, Date()), StatementLine.channel, StatementLine.channel_account,
                 StatementLine.amount_fen, StatementLine.reference, StatementLine.text,
                 literal("open"), literal(stamp, SuspenseItem.created_at.type)) \
        .where(StatementLine.id.in_(missing), ~StatementLine.id.in_(select(SuspenseItem.line_id)))
    session.execute(insert(SuspenseItem).from_select(
        ["line_id", "day", "channel", "channel_account", "amount_fen", "reference", "text", "status", "created_at"],
        new))
    return session.scalar(select(func.count()).select_from(SuspenseItem).where(
        SuspenseItem.day == day, SuspenseItem.status == "open",
        tuple_(SuspenseItem.channel, SuspenseItem.channel_account).in_(pairs))) or 0


def _settle(session: Session, run_ids: list[int]) -> int:
    """Provisional payments the channel's statement has now accounted for become settled."""
    if not run_ids:
        return 0
    matched = select(ReconMatch.payment_id).where(ReconMatch.run_id.in_(run_ids))
    return session.execute(update(Payment).where(Payment.id.in_(matched), Payment.state == PaymentState.provisional)
                           .values(state=PaymentState.settled)).rowcount or 0


def _settle_balanced_cash(session: Session, day: dt.date, figures: pd.DataFrame, duty: pd.DataFrame) -> int:
    """A kiosk whose cash counted agrees with its cash payments has accounted for them: they are settled."""
    kiosk = figures[figures["account"].str.startswith("kiosk" + SEP) & ~figures["account"].isin(duty["account"])]
    codes = kiosk["account"].str.split(SEP).str[1].tolist()
    if not codes:
        return 0
    return session.execute(update(Payment).where(
        Payment.channel == Channel.kiosk, Payment.channel_account.in_(codes), Payment.state == PaymentState.provisional,
        Payment.paid_at >= start_of_day(day), Payment.paid_at < start_of_day(day + dt.timedelta(days=1)),
        Payment.id.in_(select(Receipt.payment_id).where(Receipt.tender == "cash")),
    ).values(state=PaymentState.settled)).rowcount or 0


def days_with_open_timing(session: Session, days: Iterable[dt.date], accounts: Iterable[tuple[str, str]]) -> set:
    """Which of these days still hold open timing breaks for these accounts (their neighbour may clear them)."""
    days, accounts = list(days), list(accounts)
    if not days or not accounts:
        return set()
    rows = session.execute(select(ReconBreak.day).where(
        ReconBreak.day.in_(days), ReconBreak.kind == BreakKind.timing, ReconBreak.status != BreakStatus.resolved,
        ReconBreak.channel.in_({c for c, _ in accounts})).distinct()).scalars()
    return set(rows)


def reconcile_with_neighbours(session: Session, day: dt.date, *, channel: str | None = None,
                              account: str | None = None, actor: str = SYSTEM) -> dict:
    """Reconcile `day`, then the days either side that still wait on it for a timing difference."""
    summary = reconcile_day(session, day, channel=channel, account=account, actor=actor)
    neighbours = [day - dt.timedelta(days=1), day + dt.timedelta(days=1)]
    chans = [(c.value, "") for c in Channel] if channel is None else [(channel, account or "")]
    for other in sorted(days_with_open_timing(session, neighbours, chans)):
        reconcile_day(session, other, channel=channel, account=account, actor=actor)
    return summary


def nightly(session: Session, day: dt.date) -> dict:
    """The nightly job (reconcile.daily): reconcile every channel for the day that just ended, then every
    earlier day reopened since its last run (a late statement, a payment reversed after the day balanced)."""
    summary = reconcile_with_neighbours(session, day, actor=SYSTEM)
    reopened = rerun_reopened(session, actor=SYSTEM)
    if reopened:
        summary["reopened_rerun"] = reopened
    return summary


def waiting_rerun(run: ReconRun) -> bool:
    """Reopened since it last ran: the nightly job reruns it."""
    return run.reopened_at is not None and run.reopened_at >= run.run_at


def rerun_reopened(session: Session, *, actor: str = SYSTEM) -> list[str]:
    """Rerun every channel account's day reopened since its last run; returns "day channel:account" of each."""
    waiting = session.execute(
        select(ReconRun.day, ReconRun.channel, ReconRun.channel_account)
        .where(ReconRun.reopened_at.is_not(None), ReconRun.reopened_at >= ReconRun.run_at)
        .order_by(ReconRun.day, ReconRun.channel, ReconRun.channel_account)).all()
    for day, ch, acct in waiting:  # the few accounts whose day changed after it was reconciled
        reconcile_day(session, day, channel=ch, account=acct, actor=actor)
    return [f"{day.isoformat()} {ch}:{acct}" for day, ch, acct in waiting]


def mark_reopened(session: Session, days: dict[tuple[str, str], set[dt.date]]) -> None:
    """A statement arrived for days already reconciled: mark their runs reopened (they are rerun next)."""
    ReconRun.reopen(session, days)
