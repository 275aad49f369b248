"""Statement intake: a file is recorded once, by its content hash, with each statement's identifiers and
the business days it covers, so that a file taken twice or an overlapping statement is refused, never
counted twice.

Which channel account a statement belongs to:
- a channel CSV names none: the caller names it (`--channel`, `--account`), or, without an account,
  it is the one account of that channel whose payments carry the file's references;
- a bank statement (MT940, camt.053/054) is the statement's account number, mapped through the
  policy's [reconcile.accounts] to a channel and channel account (see recovery/reconcile/policy.py).

A CSV line's instant is its `paid_at` and its business day the local date of it; a bank line has only
a booking date, so its instant is noon of that day (business time) and its day the booking day.
Pending and information-only entries (camt PDNG/INFO/FUTR) are not on the account yet: not taken in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from reconciliation.formats import StatementError, parse_frame
from reconciliation.formats.model import NOT_BOOKED
from recovery import bulk
from recovery.audit import service as audit
from recovery.errors import Conflict, Invalid
from recovery.money import check_currency
from recovery.payments.models import Channel, Payment
from recovery.reconcile.models import Statement, StatementFile, StatementLine
from recovery.reconcile.policy import channel_account_for, currency_for
from recovery.timeutil import business_tz

INTAKE_FORMATS = ("csv", "mt940", "camt053", "camt054")
NO_REFERENCE = {"", "NONREF", "NOTPROVIDED", "NONE"}


@dataclass
class Intake:
    """What a file brought: the file, its statements, and the (channel, account) -> days it touches."""

    file: StatementFile
    statements: list[Statement]
    days: dict[tuple[str, str], set[dt.date]] = field(default_factory=dict)
    superseded: list[int] = field(default_factory=list)
    skipped_pending: int = 0


def _infer_account(session: Session, channel: str, refs: list[str], name: str) -> str:
    """The one account of `channel` whose payments carry these references."""
    sample = [r for r in refs if r][:1000]
    found = session.scalars(select(Payment.channel_account).where(
        Payment.channel == channel, Payment.channel_ref.in_(sample)).distinct()).all() if sample else []
    if len(found) == 1:
        return found[0]
    if not found:
        raise Invalid(f"{name}: no {channel} payment carries this file's references, so its channel account "
                      f"cannot be told; name it with --account")
    raise Invalid(f"{name}: the references belong to several {channel} accounts ({', '.join(sorted(found))}); "
                  f"name the file's account with --account")


def _lines_frame(frame: pd.DataFrame, fmt: str) -> pd.DataFrame:
    """The parsed lines in the stored shape: business day, instant, reference, customer, amount, text."""
    tz = business_tz()
    if fmt == "csv":
        at = frame["paid_at"].dt.tz_convert("UTC")
        day = at.dt.tz_convert(tz).dt.tz_localize(None).dt.normalize()
    else:
        day = frame["booked_on"].fillna(frame["value_on"]).dt.normalize()
        at = (day + pd.Timedelta(hours=12)).dt.tz_localize(tz, ambiguous=False, nonexistent="shift_forward") \
            .dt.tz_convert("UTC")
    ref = frame["reference"].astype(object).where(frame["reference"].notna(), None)
    ref = ref.where(~ref.fillna("").str.strip().str.upper().isin(NO_REFERENCE), None)
    text = (frame["counterparty"].fillna("").astype(str) + " "
            + frame["description"].fillna("").astype(str)).str.strip()
    return pd.DataFrame({
        "statement_index": frame["statement_index"].to_numpy(),
        "line_index": frame["line_index"].to_numpy(),
        "business_day": day,
        "at": at,
        "reference": ref.str.slice(0, 140),
        "customer_code": frame["customer_id"].astype(object).where(frame["customer_id"].notna(), None),
        "amount_fen": frame["amount"].astype("Int64"),
        "fee_fen": frame["fee"].astype("Int64"),
        "text": text.where(text != "", None).str.slice(0, 1000),
    })


def take_in(session: Session, data: bytes, name: str, fmt: str, *, channel: str | None = None,
            account: str | None = None, day: dt.date | None = None, replace: bool = False,
            actor: str) -> Intake:
    """Record a statement file and its lines; refuse a file already taken or a statement overlapping another.

    `day` states the business day of a channel CSV (one file is one day's statement); without it the
    day most of its lines fall on. `replace=True` lets an overlapping statement supersede the earlier one.
    """
    if fmt not in INTAKE_FORMATS:
        raise Invalid(f"cannot reconcile a {fmt} file; formats: {', '.join(INTAKE_FORMATS)}")
    if channel is not None and channel not in {c.value for c in Channel}:
        raise Invalid(f"unknown channel {channel!r}; channels: {', '.join(c.value for c in Channel)}")
    digest = hashlib.sha256(data).hexdigest()
    earlier = session.scalar(select(StatementFile).where(StatementFile.sha256 == digest))
    if earlier is not None:
        raise Conflict(f"{name} was already imported (as {earlier.name} on "
                       f"{earlier.imported_at.astimezone(business_tz()):%Y-%m-%d %H:%M}, sha256 {digest[:12]}…); "
                       f"nothing was changed", code="duplicate_statement_file")
    try:
        statements, frame = parse_frame(data, fmt, name=name)
    except StatementError as e:
        problems = getattr(e, "problems", None)
        raise Invalid("; ".join(problems) if problems else str(e), code="statement_unreadable") from None
    currencies = frame.groupby("statement_index")["currency"].unique()
    booked = ~frame["status"].fillna("").isin(NOT_BOOKED)
    pending = int((~booked).sum())
    frame = frame[booked & frame["amount"].notna()].reset_index(drop=True)
    lines = _lines_frame(frame, fmt)

    if fmt == "csv":
        if channel is None:
            raise Invalid(f"{name}: a channel CSV names no channel; say which (--channel agent, …)")
        account = account or _infer_account(session, channel, list(lines["reference"].dropna().unique()), name)
        targets = [(channel, account[:40])]
    else:
        targets = [(channel, account[:40]) if account else channel_account_for(st.account, channel)
                   for st in statements]

    for i, st in enumerate(statements):
        ch, acct = targets[i]
        found = {st.currency or ""} | {c if isinstance(c, str) else "" for c in currencies.get(i, [])}
        label = f"statement {i + 1} of {name}" + (f" (account {st.account})" if st.account else f" ({ch}:{acct})")
        check_currency(found, currency_for(st.account, ch, acct), label)

    file = StatementFile(sha256=digest, name=name[-255:], format=fmt, line_count=len(lines), imported_by=actor)
    session.add(file)
    session.flush()  # statements point at the file
    result = Intake(file=file, statements=[], skipped_pending=pending)
    rows = []
    for i, st in enumerate(statements):
        ch, acct = targets[i]
        mine = lines[lines["statement_index"] == i]
        if fmt == "csv":
            days = mine["business_day"].dt.date
            start = end = day or (days.mode().iloc[0] if len(days) else None)
        else:
            start = mine["business_day"].min().date() if len(mine) else None
            end = mine["business_day"].max().date() if len(mine) else None
        if start is None:
            continue  # a statement without booked lines covers nothing
        _check_overlap(session, ch, acct, st.statement_id, st.number, start, end, name, replace, result)
        stmt = Statement(file_id=file.id, channel=ch, channel_account=acct, account=st.account,
                         statement_ref=(st.statement_id or None) and st.statement_id[:64],
                         number=(st.number or None) and str(st.number)[:32], period_start=start, period_end=end,
                         opening_balance_fen=st.opening_balance, closing_balance_fen=st.closing_balance,
                         line_count=len(mine))
        session.add(stmt)
        session.flush()  # lines point at the statement; a later statement of this file may overlap it
        result.statements.append(stmt)
        rows.append(mine.assign(statement_id=stmt.id, channel=ch, channel_account=acct))
        touched = set(pd.to_datetime(mine["business_day"]).dt.date) | {start}
        result.days.setdefault((ch, acct), set()).update(touched)
    if result.superseded:
        session.execute(update(Statement).where(Statement.id.in_(result.superseded))
                        .values(superseded_by_id=result.statements[0].id))
    if rows:
        bulk.insert_frame(session, StatementLine.__table__, pd.concat(rows, ignore_index=True))
    audit.record(session, "statement.import", "statement_file", str(file.id), actor=actor, name=file.name,
                 format=fmt, sha256=digest, lines=len(lines), pending_not_taken=pending,
                 accounts=[f"{c}:{a}" for c, a in result.days], superseded=result.superseded)
    return result


def _check_overlap(session: Session, channel: str, account: str, ref: str | None, number: str | None,
                   start: dt.date, end: dt.date, name: str, replace: bool, result: Intake) -> None:
    """Refuse (or, replacing, supersede) live statements of the account with the same identifiers or days."""
    same_number = Statement.number == str(number)[:32] if number else Statement.number.is_(None)
    same_ids = and_(Statement.statement_ref == ref[:64], same_number) if ref else None
    days_overlap = and_(Statement.period_start <= end, Statement.period_end >= start)
    clash = session.execute(
        select(Statement.id, Statement.statement_ref, Statement.number, Statement.period_start, Statement.period_end,
               StatementFile.name)
        .join(StatementFile, StatementFile.id == Statement.file_id)
        .where(Statement.channel == channel, Statement.channel_account == account, Statement.superseded_by_id.is_(None),
               or_(days_overlap, same_ids) if same_ids is not None else days_overlap)
    ).all()
    clash = [c for c in clash if c.id not in {s.id for s in result.statements}]
    if not clash:
        return
    if not replace:
        what = "; ".join(f"statement {c.statement_ref or '-'}/{c.number or '-'} of {c.period_start}..{c.period_end} "
                         f"from {c.name}" for c in clash)
        raise Conflict(f"{name}: {channel} account {account} overlaps what is already imported ({what}); "
                       f"nothing was changed. To take this file instead, import it with --replace",
                       code="overlapping_statement")
    result.superseded.extend(c.id for c in clash)
