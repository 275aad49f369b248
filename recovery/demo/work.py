"""The demo's recent days of work, so that every role finds something to do on first sign-in.

Everything goes through the product's own paths, as the people and the night would: statements taken in
and reconciled (reconcile.intake, the reconcile.daily job), promises and a pay plan recorded by officers
(collections.promises), the night's jobs through the job runner (penalties, promises, dunning), a
write-off and a disconnection asked for by an officer (they wait on /approvals), and the month before
closed for the assessment. Nothing is written around them.

Statements: for each of the STATEMENT_DAYS business days before the demo's today, one channel CSV per
channel of STATEMENT_CHANNELS (the account with the most payments that day), built from the day's payments
with a few deliberate differences (a line left out, an amount mistyped, a line sent twice, a credit the
books do not know, a line booked after midnight), so the clerk's dashboard shows breaks of every kind.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recovery import bulk
from recovery.audit import service as audit
from recovery.audit.models import AuditEntry
from recovery.auth.models import Role, User, officer_grids
from recovery.collections import dunning, promises
from recovery.collections.models import DisconnectionOrder, OrderStatus
from recovery.collections.writeoff import service as writeoff
from recovery.customers.models import Customer
from recovery.jobs import runner
from recovery.jobs.table import job
from recovery.ledger.positions import classify, positions
from recovery.money import format_yuan
from recovery.payments.models import Payment, PaymentState
from recovery.reconcile import intake
from recovery.reconcile import service as reconcile
from recovery.timeutil import business_tz, start_of_day
from recovery.unitofwork import unit_of_work

ACTION = "demo.work"
STATEMENT_DAYS = 3
STATEMENT_CHANNELS = ("bank", "agent", "kiosk", "card")
# The differences put into the statements, two per statement, in turn.
DIFFERENCES = ("left_out", "mistyped", "sent_twice", "unknown_credit", "booked_next_day")
CLERK = "clerk"
SUPERVISOR = "supervisor"


def staged(session: Session) -> bool:
    """Whether the demo's work has been staged in this database already."""
    return session.scalar(select(AuditEntry.id).where(AuditEntry.action == ACTION).limit(1)) is not None


def stage(session: Session, as_of: dt.date) -> dict:
    """Stage the recent days' work as of the demo's today (once per database). Commits as the product's
    jobs and commands do: each step is its own unit of work."""
    if staged(session):
        return {"staged": False}
    with unit_of_work(session):
        summary = {"statements": _statements(session, as_of)}
    for day in _days(as_of):
        runner.run(session, job("reconcile.daily"), day, trigger="demo", actor=CLERK)
    # Every customer's position, read once (a million customers take a while) for the officers' choices.
    pos = _positions(session, as_of)
    with unit_of_work(session):
        summary["promises"] = _promises(session, as_of, pos)
        summary["pay_plan"] = _pay_plan(session, as_of, pos)
    from recovery.demo.disputes import stage as stage_disputes  # complaints, some past their deadline

    with unit_of_work(session):
        summary["disputes"] = stage_disputes(session, as_of, pos)
    yesterday = as_of - dt.timedelta(days=1)
    for job_id in ("billing.penalties", "collections.promises", "collections.dunning"):
        runner.run(session, job(job_id), yesterday, trigger="demo", actor="demo")
    with unit_of_work(session):
        summary["write_off"] = _write_off(session, pos)
    summary["disconnection"] = _disconnection(session, as_of)
    month = (as_of.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    from recovery.assessment.service import close_month

    with unit_of_work(session):
        summary["assessment"] = close_month(session, month, by=SUPERVISOR)
        audit.record(session, ACTION, "database", None, actor="demo", as_of=as_of.isoformat(),
                     statements=summary["statements"])
    return {"staged": True, **summary}


def _days(as_of: dt.date) -> list[dt.date]:
    return [as_of - dt.timedelta(days=n) for n in range(STATEMENT_DAYS, 0, -1)]


# ---------------------------------------------------------------------------------------------- statements


def _day_payments(session: Session, day: dt.date) -> pd.DataFrame:
    return bulk.read_frame(session, select(
        Payment.channel, Payment.channel_account, Payment.channel_ref, Customer.code.label("customer_id"),
        Payment.amount_fen, Payment.paid_at)
        .join(Customer, Customer.id == Payment.customer_id)
        .where(Payment.paid_at >= start_of_day(day), Payment.paid_at < start_of_day(day + dt.timedelta(days=1)),
               Payment.channel.in_(STATEMENT_CHANNELS), Payment.state != PaymentState.reversed)
        .order_by(Payment.channel, Payment.channel_account, Payment.paid_at, Payment.channel_ref))


def _csv(lines: pd.DataFrame) -> bytes:
    stamps = pd.to_datetime(lines["paid_at"], utc=True).dt.tz_convert(business_tz())
    out = pd.DataFrame({"channel_ref": lines["channel_ref"], "customer_id": lines["customer_id"],
                        "amount": [format_yuan(int(f)) for f in lines["amount_fen"]],
                        "paid_at": stamps.map(lambda t: t.isoformat(timespec="seconds"))})
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _differ(lines: pd.DataFrame, kinds: tuple[str, ...], tag: str, day: dt.date) -> pd.DataFrame:
    """The day's lines as the channel reports them, with the given differences from the books (each on a
    line of its own; a one-line day only gains lines)."""
    lines = lines.reset_index(drop=True).copy()
    size = len(lines)
    extra = []
    for n, kind in enumerate(kinds):
        at = n % size
        row = lines.loc[at].copy()
        if size < 2 and kind in ("left_out", "mistyped"):
            kind = "unknown_credit"
        if kind == "left_out":
            lines = lines.drop(index=at)
        elif kind == "mistyped":
            lines.loc[at, "amount_fen"] = int(row["amount_fen"]) + 1_000  # ten yuan more than was paid
        elif kind == "sent_twice":
            extra.append(row)
        elif kind == "booked_next_day":  # the channel booked it after midnight: a timing difference
            lines.loc[at, "paid_at"] = start_of_day(day + dt.timedelta(days=1)) + dt.timedelta(minutes=10)
        else:  # unknown_credit: a credit the books have no payment for
            row["channel_ref"], row["amount_fen"] = f"{tag}-X{n}", 8_800
            extra.append(row)
    return pd.concat([lines, pd.DataFrame(extra)], ignore_index=True) if extra else lines


def _statements(session: Session, as_of: dt.date) -> int:
    """Take in one statement per channel and day (of the channel's busiest account over the days), each with
    two differences from the books."""
    days = _days(as_of)
    frames = [_day_payments(session, day).assign(day=day) for day in days]
    pays = pd.concat([f for f in frames if not f.empty] or frames[:1], ignore_index=True)
    taken, turn = 0, 0
    for channel in STATEMENT_CHANNELS:
        mine = pays[pays["channel"] == channel]
        if mine.empty:
            continue
        account = mine["channel_account"].value_counts().index[0]
        for day in days:
            lines = mine[(mine["channel_account"] == account) & (mine["day"] == day)]
            if lines.empty:
                continue
            kinds = (DIFFERENCES[turn % len(DIFFERENCES)], DIFFERENCES[(turn + 1) % len(DIFFERENCES)])
            turn += 2
            data = _csv(_differ(lines, kinds, f"{channel[:2].upper()}{day:%m%d}", day))
            result = intake.take_in(session, data, f"demo-{channel}-{account}-{day.isoformat()}.csv", "csv",
                                    channel=channel, account=account, day=day, actor=CLERK)
            reconcile.mark_reopened(session, result.days)
            taken += 1
    return taken


# ---------------------------------------------------------------------------------------------- officers' work


def _officer_of(session: Session) -> dict[int, str]:
    """grid id -> the username of an officer working it."""
    rows = session.execute(select(officer_grids.c.grid_id, User.username)
                           .join(User, User.id == officer_grids.c.user_id)
                           .where(User.role == Role.officer).order_by(User.username)).all()
    out: dict[int, str] = {}
    for grid_id, username in rows:
        out.setdefault(grid_id, username)
    return out


def _positions(session: Session, as_of: dt.date) -> pd.DataFrame:
    frame = classify(bulk.read_frame(session, positions(as_of)), as_of)
    grids = bulk.read_frame(session, select(Customer.id.label("customer_id"), Customer.grid_id))
    return frame.merge(grids, on="customer_id")


def _paid_in(session: Session, first: dt.date, last: dt.date) -> pd.Series:
    """Per customer id, what they paid from the start of `first` to the end of `last`."""
    rows = session.execute(select(Payment.customer_id, func.sum(Payment.amount_fen))
                           .where(Payment.paid_at >= start_of_day(first),
                                  Payment.paid_at < start_of_day(last + dt.timedelta(days=1)),
                                  Payment.state != PaymentState.reversed)
                           .group_by(Payment.customer_id)).all()
    return pd.Series({int(c): int(f) for c, f in rows}, dtype="int64")


def _promises(session: Session, as_of: dt.date, pos: pd.DataFrame) -> dict:
    """Promises officers took three weeks ago, due a week ago: kept by customers who paid since, broken by
    customers in arrears who did not; and a few falling due today."""
    officer = _officer_of(session)
    made, due = as_of - dt.timedelta(days=20), as_of - dt.timedelta(days=6)
    paid = _paid_in(session, made, due)
    pos = pos[pos["grid_id"].isin(officer.keys())]
    counts = {"kept": 0, "broken": 0, "due_today": 0}

    def promise(customer_id: int, amount: int, made_on: dt.date, promised_on: dt.date) -> None:
        customer = session.get(Customer, customer_id)
        promises.make_promise(session, customer, amount_fen=amount, promised_on=promised_on, made_on=made_on,
                              recorded_by=officer[customer.grid_id])

    payers = pos[pos["customer_id"].isin(paid[paid > 0].index)].head(5)
    for cid in payers["customer_id"]:
        promise(int(cid), int(paid[int(cid)]), made, due)
        counts["kept"] += 1
    late = pos[(pos["overdue_fen"] > 0) & ~pos["customer_id"].isin(paid.index)]
    for cid, owed in late.head(5)[["customer_id", "overdue_fen"]].itertuples(index=False):
        promise(int(cid), min(int(owed), 50_000), made, due)
        counts["broken"] += 1
    for cid, owed in late.iloc[5:8][["customer_id", "overdue_fen"]].itertuples(index=False):
        promise(int(cid), min(int(owed), 30_000), as_of - dt.timedelta(days=2), as_of)
        counts["due_today"] += 1
    return counts


def _pay_plan(session: Session, as_of: dt.date, pos: pd.DataFrame) -> str | None:
    """A pay plan for a customer deep in arrears: three monthly installments, the first due today."""
    officer = _officer_of(session)
    deep = pos[(pos["overdue_fen"] >= 100_000) & pos["grid_id"].isin(officer.keys())]
    deep = deep.sort_values(["overdue_fen", "customer_id"], ascending=[True, True])
    if deep.empty:
        return None
    row = deep.iloc[len(deep) // 2]
    owed = int(row["overdue_fen"])
    parts = [owed // 3, owed // 3, owed - 2 * (owed // 3)]
    customer = session.get(Customer, int(row["customer_id"]))
    promises.create_plan(session, customer, installments=[(as_of + dt.timedelta(days=30 * n), f)
                                                          for n, f in enumerate(parts)],
                         created_by=officer[customer.grid_id], total_fen=owed, created_on=as_of - dt.timedelta(days=3),
                         note="agreed at the customer's visit")
    return customer.code


def _write_off(session: Session, pos: pd.DataFrame) -> str | None:
    """An officer asks to write off the oldest debt of a customer who has long stopped paying (the overdue
    amount of the demo's today, before the night's penalties: never more than is overdue now)."""
    officer = _officer_of(session)
    old = pos[(pos["days_overdue"].fillna(0) > 180) & pos["grid_id"].isin(officer.keys())]
    if old.empty:
        return None
    # The longest overdue (the smaller debt of equals): the debt least likely to come in.
    row = old.sort_values(["days_overdue", "overdue_fen", "customer_id"], ascending=[False, True, True]).iloc[0]
    customer = session.get(Customer, int(row["customer_id"]))
    writeoff.request_write_off(session, customer, amount_fen=int(row["overdue_fen"]),
                               reason="the business closed and the owner cannot be traced",
                               evidence="two returned letters and a closure notice from the market office",
                               requested_by=officer[customer.grid_id])
    return customer.code


def _disconnection(session: Session, as_of: dt.date) -> str | None:
    """An officer asks for one of the night's disconnection orders to be carried out (re-checked first)."""
    officer = _officer_of(session)
    orders = session.scalars(select(DisconnectionOrder).where(DisconnectionOrder.status == OrderStatus.open)
                             .order_by(DisconnectionOrder.id)).all()
    for order in orders:
        customer = session.get(Customer, order.customer_id)
        if customer.grid_id not in officer:
            continue
        with unit_of_work(session):
            outcome = dunning.request_execution(session, order, by=officer[customer.grid_id], on=as_of,
                                                note="arrears confirmed on the visit; the customer refuses to pay")
        if outcome["outcome"] == "awaiting_approval":
            return customer.code
    return None
