"""The officers' activity report (催费工作量报表): per officer or per grid, over a month or an ISO week.

Built from what the service records, each measure one SELECT (all of them in one UNION ALL, grouped once):
- visits, calls: the visits log (collections.models.Visit) in the period, by the officer who made them;
- sms, letters: customer notices (dunning, prepaid, reconnection …) sent in the period (`sent_at`), counted
  for the customer's officers: the account manager, or the officers of the customer's grid when it has none
  (the assessment's rule), since the night sends them on the officer's customers;
- promises_taken: promises to pay made in the period, by who recorded them;
- promises_kept: promises falling due in the period that were kept (the assessment's rule), by who took them;
- warnings_followed: early warnings (worklist items early_warning_*) done in the period, by who did them;
- complaints_handled: complaints and disputes answered in the period, by their owner.
Per grid, each is counted on the grid of the customer it concerns. Instants are cut at the business day's
midnight. Rows: every active officer (with anyone else who did something), or every grid, zeros included.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from recovery import bulk
from recovery.auth.models import Role, User, officer_grids
from recovery.collections.models import ContactKind, Promise, PromiseStatus, Visit, WorkItem, WorkStatus
from recovery.csvexport import safe_cell
from recovery.customers.models import Customer, Grid
from recovery.disputes.models import Dispute, DisputeStatus
from recovery.errors import Invalid
from recovery.notifications.models import Notification
from recovery.timeutil import MONTH, start_of_day
from recovery.worklist.models import AccountManager

MEASURES = ("visits", "calls", "sms", "letters", "promises_taken", "promises_kept", "warnings_followed",
            "complaints_handled")
BY = ("officer", "grid")
WEEK = re.compile(r"^(19[7-9][0-9]|2[01][0-9][0-9])-W(0[1-9]|[1-4][0-9]|5[0-3])\Z")
EARLY_WARNING = "early_warning_%"


@dataclass(frozen=True)
class Period:
    """A month (YYYY-MM) or an ISO week (YYYY-Www), first and last business day included."""

    label: str
    first: dt.date
    last: dt.date


def period(month: str | None = None, week: str | None = None) -> Period:
    """The period a month or an ISO week names; Invalid unless exactly one is given and well written."""
    if bool(month) == bool(week):
        raise Invalid("give either a month (YYYY-MM) or an ISO week (YYYY-Www)", code="bad_period")
    if month:
        if not MONTH.match(month):
            raise Invalid(f"a month is written YYYY-MM, not {month!r}", code="bad_period")
        year, m = (int(p) for p in month.split("-"))
        return Period(month, dt.date(year, m, 1), dt.date(year, m, calendar.monthrange(year, m)[1]))
    if not WEEK.match(week):
        raise Invalid(f"an ISO week is written YYYY-Www (e.g. 2026-W10), not {week!r}", code="bad_period")
    year, number = int(week[:4]), int(week[6:])
    try:
        first = dt.date.fromisocalendar(year, number, 1)
    except ValueError:
        raise Invalid(f"{year} has no ISO week {number}", code="bad_period") from None
    return Period(week, first, first + dt.timedelta(days=6))


def _officer_customers():
    """(officer username, customer id): the customers an officer answers for (as in the assessment)."""
    officers = select(User.id, User.username).where(User.role == Role.officer, User.active.is_(True)).subquery("o")
    return union_all(
        select(officers.c.username.label("officer"), AccountManager.customer_id.label("customer_id"))
        .join(officers, officers.c.id == AccountManager.manager_id),
        select(officers.c.username, Customer.id)
        .join(officer_grids, officer_grids.c.user_id == officers.c.id)
        .join(Customer, Customer.grid_id == officer_grids.c.grid_id)
        .where(Customer.id.not_in(select(AccountManager.customer_id))),
    ).subquery("officer_customers")


def _events(p: Period, by: str):
    """One row (key, measure) per thing done in the period; key: the officer's username or the grid code."""
    start, end = start_of_day(p.first), start_of_day(p.last + dt.timedelta(days=1))

    def keyed(source, who, customer_id, measure, *where):
        """A select of (key, measure) from `source`: `who` per officer, the customer's grid per grid."""
        if by == "officer":
            return select(who.label("key"), measure.label("measure")).select_from(source).where(*where)
        return (select(Grid.code.label("key"), measure.label("measure")).select_from(source)
                .join(Customer, Customer.id == customer_id).join(Grid, Grid.id == Customer.grid_id).where(*where))

    contact = case((Visit.kind == ContactKind.visit.value, "visits"), else_="calls")
    parts = [
        keyed(Visit, Visit.officer, Visit.customer_id, contact, Visit.visited_at >= start, Visit.visited_at < end),
        keyed(Promise, Promise.recorded_by, Promise.customer_id, literal("promises_taken"),
              Promise.made_on >= p.first, Promise.made_on <= p.last),
        keyed(Promise, Promise.recorded_by, Promise.customer_id, literal("promises_kept"),
              Promise.status == PromiseStatus.kept, Promise.promised_on >= p.first, Promise.promised_on <= p.last),
        keyed(WorkItem, WorkItem.done_by, WorkItem.customer_id, literal("warnings_followed"),
              WorkItem.status == WorkStatus.done, WorkItem.reason.like(EARLY_WARNING), WorkItem.done_at >= start,
              WorkItem.done_at < end),
        keyed(Dispute, Dispute.owner, Dispute.customer_id, literal("complaints_handled"),
              Dispute.status != DisputeStatus.open, Dispute.resolved_at >= start, Dispute.resolved_at < end),
    ]
    # Notices to customers: SMS unless sent as a letter (a customer notice with no channel goes by SMS).
    sent = and_(Notification.subject_type == "customer", Notification.sent_at >= start, Notification.sent_at < end,
                or_(Notification.channel.is_(None), Notification.channel.in_(("sms", "letter"))))
    notice = case((Notification.channel == "letter", "letters"), else_="sms")
    if by == "officer":
        oc = _officer_customers()
        parts.append(select(oc.c.officer.label("key"), notice.label("measure"))
                     .select_from(Notification)
                     .join(Customer, Customer.code == Notification.subject_id)
                     .join(oc, oc.c.customer_id == Customer.id).where(sent))
    else:
        parts.append(select(Grid.code.label("key"), notice.label("measure")).select_from(Notification)
                     .join(Customer, Customer.code == Notification.subject_id)
                     .join(Grid, Grid.id == Customer.grid_id).where(sent))
    return union_all(*parts).subquery("events")


def report(session: Session, p: Period, by: str = "officer") -> pd.DataFrame:
    """The activity table: one row per officer (key: username, name, grids) or per grid (key: code, name),
    a column per measure, sorted by key."""
    if by not in BY:
        raise Invalid(f"by is one of {', '.join(BY)}", code="bad_by")
    session.flush()  # the read below goes through Core, which does not autoflush pending changes
    events = _events(p, by)
    counted = bulk.read_frame(session, select(events.c.key, events.c.measure, func.count().label("n"))
                              .where(events.c.key.is_not(None)).group_by(events.c.key, events.c.measure))
    wide = (counted.pivot(index="key", columns="measure", values="n") if not counted.empty
            else pd.DataFrame(index=pd.Index([], name="key")))
    if by == "officer":
        people = bulk.read_frame(session, select(User.username.label("key"), User.display_name.label("name"),
                                                 User.role, User.active))
        grids = bulk.read_frame(session, select(User.username.label("key"), Grid.code.label("grid"))
                                .join(officer_grids, officer_grids.c.user_id == User.id)
                                .join(Grid, Grid.id == officer_grids.c.grid_id))
        listed = people[(people["role"] == Role.officer.value) & people["active"].astype(bool)]["key"]
        keys = sorted(set(listed) | set(wide.index))
        names = people.set_index("key")["name"]
        joined = grids.groupby("key")["grid"].apply(lambda g: " ".join(sorted(g))) if not grids.empty else pd.Series()
        out = pd.DataFrame({"name": [names.get(k, k) for k in keys],
                            "grids": [joined.get(k, "") for k in keys]}, index=pd.Index(keys, name="key"))
    else:
        grids = bulk.read_frame(session, select(Grid.code.label("key"), Grid.name).order_by(Grid.code))
        out = pd.DataFrame({"name": grids["name"].to_numpy()}, index=pd.Index(grids["key"], name="key"))
    wide = wide.reindex(index=out.index, columns=list(MEASURES)).fillna(0).astype("int64")
    return out.join(wide)


def header(by: str) -> list[str]:
    """The CSV's columns: period, by, key, name, (grids,) one per measure."""
    return ["period", "by", "key", "name", *(["grids"] if by == "officer" else []), *MEASURES]


def csv_body(table: pd.DataFrame, p: Period, by: str) -> list[list]:
    """The report's rows as the CSV has them (see header)."""
    return [[p.label, by, key, r["name"], *([r["grids"]] if by == "officer" else []), *(int(r[m]) for m in MEASURES)]
            for key, r in table.iterrows()]


def csv_text(table: pd.DataFrame, p: Period, by: str) -> str:
    """The report as CSV text (the command's file; formulas neutralised)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header(by))
    for row in csv_body(table, p, by):
        writer.writerow([safe_cell(v) for v in row])
    return buf.getvalue()
