"""Demolition and clearance sites (拆迁, 清场): a flag on a grid or a building, from a day until it is lifted.

While a flag is in force over a customer (its grid's, or its building's):
- no late-payment penalty accrues on its bills (recovery.billing.penalties reads `penalty_stops`): the days
  from `flagged_on` up to the day before `lifted_on` are left out of every bill's penalty, and what accrued
  before the flag stays;
- it leaves the dunning ladder (recovery.collections.dunning leaves out `covered(day)`): no reminders, no
  notices, no disconnection orders on a site that is coming down;
- its arrears are on the clearance track instead, with a report of their own (`track`): what each customer
  owed when the site was flagged, what it owes now, what it has paid since and the penalties frozen on it,
  for the recovery team that works the site (claims against the compensation, tracing the people who left).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
from sqlalchemy import and_, func, or_, select, union_all
from sqlalchemy.orm import Session

from recovery import bulk
from recovery.audit import service as audit
from recovery.auth.models import User
from recovery.auth.service import visible_customers
from recovery.buildings.models import Building, BuildingResident, ClearanceFlag, ClearanceKind
from recovery.customers.models import Customer, Grid
from recovery.errors import Conflict, Invalid, NotFound
from recovery.ledger.models import EntryKind, LedgerEntry
from recovery.ledger.positions import classify, positions
from recovery.money import format_yuan
from recovery.payments.models import Payment, PaymentState
from recovery.timeutil import start_of_day

KINDS = tuple(k.value for k in ClearanceKind)


def _visible(user: User | None):
    """The user's customers (a select of ids); None (the command line) sees every customer."""
    return select(Customer.id) if user is None else visible_customers(user)


def flag(session: Session, *, kind: str, on: dt.date, reason: str, by: str, grid: str | None = None,
         building: str | None = None) -> ClearanceFlag:
    """Flag a grid or a building (exactly one) as a demolition or clearance site from `on`. Audited."""
    if kind not in KINDS:
        raise Invalid(f"kind is one of {', '.join(KINDS)}", code="bad_kind")
    if (grid is None) == (building is None):
        raise Invalid("flag either a grid or a building", code="grid_or_building")
    if not (reason or "").strip():
        raise Invalid("a reason is required", code="reason_required")
    row = ClearanceFlag(kind=kind, flagged_on=on, reason=reason.strip()[:500], flagged_by=by)
    if grid is not None:
        row.grid_id = session.scalar(select(Grid.id).where(Grid.code == grid))
        if row.grid_id is None:
            raise NotFound(f"no grid {grid}", code="grid_not_found")
        scope = ClearanceFlag.grid_id == row.grid_id
    else:
        row.building_id = session.scalar(select(Building.id).where(Building.code == building))
        if row.building_id is None:
            raise NotFound(f"no building {building}", code="building_not_found")
        scope = ClearanceFlag.building_id == row.building_id
    if session.scalar(select(ClearanceFlag.id).where(scope, or_(ClearanceFlag.lifted_on.is_(None),
                                                                ClearanceFlag.lifted_on > on))):
        raise Conflict(f"{grid or building} is flagged already", code="already_flagged")
    session.add(row)
    session.flush()  # the audit entry names the flag
    audit.record(session, "clearance.flag", "grid" if grid else "building", grid or building, actor=by, id=row.id,
                 kind=kind, flagged_on=on.isoformat(), reason=row.reason)
    return row


def lift(session: Session, flag_id: int, *, on: dt.date, by: str) -> ClearanceFlag:
    """Lift a flag from `on`: penalties accrue again from that day, and the ladder takes its customers back.
    Audited."""
    row = session.get(ClearanceFlag, flag_id)
    if row is None:
        raise NotFound(f"no clearance flag #{flag_id}", code="flag_not_found")
    if row.lifted_on is not None:
        raise Conflict(f"clearance flag #{flag_id} was lifted on {row.lifted_on.isoformat()}", code="already_lifted")
    if on <= row.flagged_on:
        raise Invalid("a flag is lifted after the day it was set", code="bad_date")
    row.lifted_on, row.lifted_by = on, by
    audit.record(session, "clearance.lift", "clearance_flag", str(row.id), actor=by, lifted_on=on.isoformat())
    return row


def flags(session: Session) -> list[dict]:
    """Every flag, newest first, with what it covers."""
    rows = session.execute(select(ClearanceFlag, Grid.code, Building.code)
                           .join(Grid, Grid.id == ClearanceFlag.grid_id, isouter=True)
                           .join(Building, Building.id == ClearanceFlag.building_id, isouter=True)
                           .order_by(ClearanceFlag.flagged_on.desc(), ClearanceFlag.id.desc())).all()
    return [{"flag": f, "grid": g, "building": b} for f, g, b in rows]


def _flagged_customers():
    """customer_id, flag_id, kind, flagged_on, lifted_on for every flag over every customer it covers."""
    f = ClearanceFlag
    by_grid = (select(Customer.id.label("customer_id"), f.id.label("flag_id"), f.kind, f.flagged_on, f.lifted_on)
               .join(f, f.grid_id == Customer.grid_id))
    by_building = (select(BuildingResident.customer_id, f.id, f.kind, f.flagged_on, f.lifted_on)
                   .join(f, f.building_id == BuildingResident.building_id))
    return union_all(by_grid, by_building).subquery("flagged")


def covered(day: dt.date):
    """Ids of the customers under a flag in force on `day` (a select)."""
    c = _flagged_customers().c
    return select(c.customer_id).where(c.flagged_on <= day, or_(c.lifted_on.is_(None), c.lifted_on > day))


def on_track(session: Session, customer_id: int, day: dt.date) -> bool:
    """Whether a flag in force on `day` covers the customer."""
    c = _flagged_customers().c
    return session.scalar(select(c.customer_id).where(
        c.customer_id == customer_id, c.flagged_on <= day, or_(c.lifted_on.is_(None), c.lifted_on > day)).limit(1)) \
        is not None


def penalty_stops(session: Session, day: dt.date) -> pd.DataFrame:
    """Per customer the periods without penalty up to `day`: customer_id, start, end (exclusive; a flag still in
    force ends the day after `day`), overlapping flags merged so that no day is taken off twice."""
    c = _flagged_customers().c
    frame = bulk.read_frame(session, select(c.customer_id, c.flagged_on, c.lifted_on).where(c.flagged_on <= day))
    empty = pd.DataFrame({"customer_id": pd.Series(dtype="int64"), "start": pd.Series(dtype="datetime64[ns]"),
                          "end": pd.Series(dtype="datetime64[ns]")})
    if frame.empty:
        return empty
    start = pd.to_datetime(frame["flagged_on"])
    end = pd.to_datetime(frame["lifted_on"]).fillna(pd.Timestamp(day) + pd.Timedelta(days=1))
    s = pd.DataFrame({"customer_id": frame["customer_id"].astype("int64"), "start": start, "end": end})
    s = s[s["end"] > s["start"]].sort_values(["customer_id", "start", "end"], ignore_index=True)
    if s.empty:
        return empty
    # A new period starts where a flag begins after every earlier one of the customer has ended.
    reach = s.groupby("customer_id")["end"].cummax()
    before = reach.groupby(s["customer_id"]).shift()
    period = (before.isna() | (s["start"] > before)).cumsum()
    merged = s.groupby(period).agg(customer_id=("customer_id", "first"), start=("start", "min"), end=("end", "max"))
    return merged.reset_index(drop=True)


TRACK_COLUMNS = ["customer_id", "name", "grid", "building", "kind", "flagged_on", "owed_at_flag_fen", "balance_fen",
                 "overdue_fen", "days_overdue", "paid_since_fen", "penalty_fen"]


def track(session: Session, user: User | None, day: dt.date) -> list[dict]:
    """The clearance track on `day`: every customer under a flag in force (the user's customers), with what it
    owed at the end of the day before the flag, what it owes now (balance, overdue, days), what it paid since
    the flag and the penalties frozen on its account; customers who owe nothing and owed nothing left out.
    Most owed first."""
    c = _flagged_customers().c
    flagged = bulk.read_frame(session, select(c.customer_id, c.kind, c.flagged_on).where(
        c.flagged_on <= day, or_(c.lifted_on.is_(None), c.lifted_on > day),
        c.customer_id.in_(_visible(user))))
    if flagged.empty:
        return []
    # The earliest flag in force over each customer is the one its track counts from.
    flagged = flagged.sort_values(["customer_id", "flagged_on"]).drop_duplicates("customer_id", ignore_index=True)
    flagged["flagged_on"] = pd.to_datetime(flagged["flagged_on"]).dt.date
    staged = bulk.stage(session, "clearance_track", flagged.assign(
        since=[start_of_day(d) for d in flagged["flagged_on"]]),
        {"customer_id": bulk.ID, "kind": bulk.TEXT, "flagged_on": bulk.DATE_T, "since": bulk.INSTANT})
    ids = select(staged.c.customer_id)
    now_pos = classify(bulk.read_frame(session, positions(day, ids)), day)
    at_flag = []
    for flagged_on, group in flagged.groupby("flagged_on"):  # a few flag days: one set-based query each
        eve = flagged_on - dt.timedelta(days=1)
        p = bulk.read_frame(session, positions(eve, select(Customer.id).where(
            Customer.id.in_(group["customer_id"].tolist())), oldest=False))
        at_flag.append(p.assign(owed_at_flag_fen=p["balance_fen"])[["customer_id", "owed_at_flag_fen"]])
    paid = bulk.read_frame(session, select(Payment.customer_id, func.sum(Payment.amount_fen).label("paid_since_fen"))
                           .join(staged, and_(staged.c.customer_id == Payment.customer_id,
                                              Payment.paid_at >= staged.c.since))
                           .where(Payment.state != PaymentState.reversed).group_by(Payment.customer_id))
    penalty = bulk.read_frame(session, select(LedgerEntry.customer_id,
                                              func.sum(LedgerEntry.amount_fen).label("penalty_fen"))
                              .where(LedgerEntry.kind == EntryKind.penalty, LedgerEntry.customer_id.in_(ids))
                              .group_by(LedgerEntry.customer_id))
    info = bulk.read_frame(session, select(Customer.id.label("customer_id"), Customer.code, Customer.name,
                                           Grid.code.label("grid"), Building.code.label("building"))
                           .join(Grid, Grid.id == Customer.grid_id)
                           .join(BuildingResident, BuildingResident.customer_id == Customer.id, isouter=True)
                           .join(Building, Building.id == BuildingResident.building_id, isouter=True)
                           .where(Customer.id.in_(ids)))
    out = (flagged.merge(info, on="customer_id").merge(now_pos, on="customer_id", how="left")
           .merge(pd.concat(at_flag), on="customer_id", how="left").merge(paid, on="customer_id", how="left")
           .merge(penalty, on="customer_id", how="left"))
    for col in ("owed_at_flag_fen", "balance_fen", "overdue_fen", "paid_since_fen", "penalty_fen"):
        # Sums come back as Decimal on PostgreSQL (exact integers here): read as numbers, none as 0.
        out[col] = pd.to_numeric(out[col]).fillna(0).astype("int64")
    out = out[(out["balance_fen"] > 0) | (out["owed_at_flag_fen"] > 0)]
    out = out.sort_values(["balance_fen", "code"], ascending=[False, True])
    rows = []
    for r in out.to_dict("records"):
        rows.append({"customer_id": r["code"], "name": r["name"], "grid": r["grid"],
                     "building": None if pd.isna(r["building"]) else r["building"], "kind": r["kind"],
                     "flagged_on": r["flagged_on"], "owed_at_flag_fen": r["owed_at_flag_fen"],
                     "balance_fen": r["balance_fen"], "overdue_fen": r["overdue_fen"],
                     "days_overdue": None if pd.isna(r.get("days_overdue")) else int(r["days_overdue"]),
                     "paid_since_fen": r["paid_since_fen"], "penalty_fen": r["penalty_fen"]})
    return rows


TRACK_HEADER = ["customer_id", "name", "grid", "building", "kind", "flagged_on", "owed_at_flag", "balance", "overdue",
                "days_overdue", "paid_since", "penalty"]


def track_csv_rows(rows: list[dict]) -> list[list]:
    """The clearance track's CSV rows (amounts as yuan decimals)."""
    def y(fen: int) -> Decimal:
        return Decimal(format_yuan(fen))

    return [[r["customer_id"], r["name"], r["grid"], r["building"], r["kind"], r["flagged_on"].isoformat(),
             y(r["owed_at_flag_fen"]), y(r["balance_fen"]), y(r["overdue_fen"]), r["days_overdue"],
             y(r["paid_since_fen"]), y(r["penalty_fen"])] for r in rows]
