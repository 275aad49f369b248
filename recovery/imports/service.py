"""Imports: check a whole file, then load it set-based in the caller's transaction.

Two layers: `parse_*` turns a contract CSV into a typed frame (or reports every bad row), and
`load_*` puts a typed frame into the database — the demo generator feeds `load_*` directly.
Loading stages the rows in a temporary table (COPY on PostgreSQL, executemany on SQLite) and lets the
database find unknown customers and conflicting re-imports in one statement each. The rows still new
are selected once, with their customers' ids, into a second temporary table; the customers are locked,
then the rows are written with INSERT … SELECT (on PostgreSQL their ledger entries in the same statement,
from the INSERT's RETURNING) and the touched customers re-allocated from scratch, written with COPY.
Where the time goes on a million payments: the per-row foreign-key checks of the three tables written
(payments, ledger_entries, allocations) are the largest part; parsing and staging come next.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import Table, and_, case, exists, func, insert, literal, not_, or_, select, text, update
from sqlalchemy.orm import Session

from recovery import bulk, csvfile, ledger
from recovery.audit import service as audit
from recovery.billing.models import Bill
from recovery.columns import Checker
from recovery.customers.models import Customer, CustomerClass, Grid
from recovery.errors import ImportRejected
from recovery.events.models import Event, EventKind
from recovery.imports import area_readings
from recovery.ledger.allocations import lock_customers, reallocate
from recovery.ledger.corrections import first_billed_fen, first_billed_kwh
from recovery.ledger.models import EntryKind, LedgerEntry
from recovery.loss.models import Area
from recovery.payments.models import Channel, Payment, PaymentState
from recovery.payments.receipts import issue_missing as issue_missing_receipts
from recovery.timeutil import business_tz, now

KINDS = ("customers", "bills", "payments", "events", "area-readings")


@dataclass(frozen=True)
class ImportResult:
    kind: str
    rows: int
    inserted: int
    # Rows already present that filled in what was missing: a customer's first area or line.
    updated: int = 0

    @property
    def unchanged(self) -> int:
        return self.rows - self.inserted - self.updated


# ---------------------------------------------------------------- parsing (file -> typed frame)


def _reject_if(checker: Checker, source: str) -> None:
    if checker.errors:
        raise ImportRejected(checker.messages(source))


def parse_customers(path: Path, source: str | None = None) -> pd.DataFrame:
    """Read and check a customers file."""
    source = source or str(path)
    # The file's `line` is the feeder (线路); the frame's `line` is where each record starts in the file.
    raw = csvfile.read(path, required=("customer_id", "name", "customer_class", "grid", "opened_on"),
                       optional=("id_number", "registered_capital", "phone", "area", "line"),
                       renamed={"line": "feeder"})
    ck = Checker(raw, names={"feeder": "line"})
    frame = pd.DataFrame({
        "customer_id": ck.code("customer_id"),
        "name": ck.text("name"),
        "customer_class": ck.choice("customer_class", CustomerClass),
        "grid": ck.code("grid"),
        "id_number": ck.identity("id_number"),
        "registered_capital_fen": ck.yuan("registered_capital", required=False),
        "opened_on": ck.date("opened_on"),
        "phone": ck.code("phone", required=False, max_len=20),
        "area": ck.code("area", required=False),
        "feeder": ck.code("feeder", required=False),
        "line": raw["line"],
    })
    frame = ck.duplicates(frame, ["customer_id"], CUSTOMER_CONTENT, "customer_id")
    _one_line_per_area(ck, frame)
    _reject_if(ck, source)
    return frame


def _one_line_per_area(ck: Checker, frame: pd.DataFrame) -> None:
    """A transformer area hangs on one feeder: rows naming another line for an area than its first row did."""
    given = frame.loc[frame["area"].notna() & frame["feeder"].notna(), ["area", "feeder", "line"]]
    first = given.drop_duplicates("area")
    later = given.merge(first, on="area", suffixes=("", "_first"))
    for line, area, feeder, first_line in later.loc[later["feeder"] != later["feeder_first"],
                                                    ["line", "area", "feeder_first", "line_first"]].itertuples(
                                                        index=False):
        ck.errors.append((int(line), "line", f"area {area} is on line {feeder} (line {first_line})"))


def parse_bills(path: Path, source: str | None = None) -> pd.DataFrame:
    """Read and check a bills file."""
    source = source or str(path)
    raw = csvfile.read(path, required=("bill_id", "customer_id", "period", "kwh", "amount", "issued_on", "due_on"))
    ck = Checker(raw)
    frame = pd.DataFrame({
        "bill_id": ck.code("bill_id", max_len=40),
        "customer_id": ck.code("customer_id"),
        "period": ck.period("period"),
        "kwh": ck.number("kwh"),
        "amount_fen": ck.yuan("amount"),
        "issued_on": ck.date("issued_on"),
        "due_on": ck.date("due_on"),
        "line": raw["line"],
    })
    ck.not_after(frame["issued_on"], frame["due_on"], "due_on", "falls before issued_on")
    frame = ck.duplicates(frame, ["bill_id"], BILL_CONTENT, "bill_id")
    _reject_if(ck, source)
    return frame


def parse_payments(path: Path, source: str | None = None) -> pd.DataFrame:
    """Read and check a payments file."""
    source = source or str(path)
    raw = csvfile.read(path, required=("customer_id", "channel", "channel_account", "channel_ref", "amount", "paid_at"),
                       optional=("payment_id",))
    ck = Checker(raw)
    frame = pd.DataFrame({
        "payment_id": ck.code("payment_id", required=False, max_len=64),
        "customer_id": ck.code("customer_id"),
        # Deposits applied and guarantees called are posted by the service itself, never imported.
        "channel": ck.choice("channel", [c for c in Channel if c not in (Channel.deposit, Channel.guarantee)]),
        "channel_account": ck.code("channel_account", max_len=40),
        "channel_ref": ck.code("channel_ref", max_len=64),
        "amount_fen": ck.yuan("amount", positive=True),
        "paid_at": ck.instant("paid_at"),
        "line": raw["line"],
    })
    ck.not_future(frame["paid_at"], "paid_at", pd.Timestamp(now()))
    frame = ck.duplicates(frame, PAYMENT_KEY, [*PAYMENT_CONTENT, "payment_id"], "channel_ref")
    # What is left repeating a payment_id names two different channel references.
    ck.duplicates(frame.loc[frame["payment_id"].notna()], ["payment_id"], PAYMENT_KEY, "payment_id")
    _reject_if(ck, source)
    return frame


def parse_events(path: Path, source: str | None = None) -> pd.DataFrame:
    """Read and check an events file."""
    source = source or str(path)
    raw = csvfile.read(path, required=("customer_id", "kind", "occurred_on"), optional=("amount",))
    ck = Checker(raw)
    frame = pd.DataFrame({
        "customer_id": ck.code("customer_id"),
        "kind": ck.choice("kind", EventKind),
        "occurred_on": ck.date("occurred_on"),
        "amount_fen": ck.yuan("amount", required=False),
        "line": raw["line"],
    })
    frame = ck.duplicates(frame, EVENT_KEY, ["amount_fen"], "occurred_on")
    _reject_if(ck, source)
    return frame


# ---------------------------------------------------------------- loading (typed frame -> database)

CUSTOMER_CONTENT = ["name", "customer_class", "grid", "id_number", "registered_capital_fen", "opened_on", "phone",
                    "area", "feeder"]
BILL_CONTENT = ["customer_id", "period", "kwh", "amount_fen", "issued_on", "due_on"]
PAYMENT_KEY = ["channel", "channel_account", "channel_ref"]
PAYMENT_CONTENT = ["customer_id", "amount_fen", "paid_at"]
EVENT_KEY = ["customer_id", "kind", "occurred_on"]


def _same(a, b):
    """Null-safe equality (IS NOT DISTINCT FROM on PostgreSQL, IS on SQLite)."""
    return a.is_not_distinct_from(b)


def _first_difference(pairs: list[tuple[str, object, object]]):
    """A SQL expression naming the first column whose stored value differs from the staged one."""
    return case(*((not_(_same(a, b)), literal(name)) for name, a, b in pairs), else_=literal(None))


def _as_billed(stored, first, staged):
    """What a re-imported bill is checked against: a bill corrected since (an upheld complaint) matches the
    row as the billing system first sent it, or as corrected."""
    return case((_same(stored, staged), stored), else_=func.coalesce(first, stored))


RowError = tuple[int, str, str]  # line, column, reason


def _conflicts(session: Session, staged: Table, stored, on, pairs, key_column: str, key_label) -> list[RowError]:
    """Rows whose natural key is already stored with other content."""
    differs = _first_difference(pairs)
    rows = session.execute(
        select(staged.c.line, key_label, differs.label("col")).join(stored, on).where(differs.is_not(None))
    ).all()
    return [(line, key_column, f"{key} already imported with different {col}") for line, key, col in rows]


def _unknown_customers(session: Session, staged: Table) -> list[RowError]:
    rows = session.execute(
        select(staged.c.line, staged.c.customer_id)
        .where(~exists().where(Customer.code == staged.c.customer_id))
    ).all()
    return [(line, "customer_id", f"unknown customer {code}") for line, code in rows]


def _raise(source: str, errors: list[RowError]) -> None:
    if errors:
        raise ImportRejected([f"{source}:{line}: {column}: {reason}" for line, column, reason in sorted(errors)])


def _count(session: Session, table, *where) -> int:
    # INSERT … SELECT has no reliable rowcount on every driver: count what is about to go in.
    return session.scalar(select(func.count()).select_from(table).where(*where)) or 0


def _touched_customers(session: Session, new: Table) -> Table:
    """The customers (ids) of the rows about to be written."""
    return bulk.fill(session, "touched_customers", {"id": bulk.ID}, select(new.c.customer_id).distinct())


def load_customers(session: Session, frame: pd.DataFrame, source: str = "customers") -> int:
    """Store new customers (creating their grids and areas); identical re-imports change nothing."""
    return load_customers_counted(session, frame, source)[0]


def load_customers_counted(session: Session, frame: pd.DataFrame, source: str = "customers") -> tuple[int, int]:
    """load_customers, returning (customers inserted, customers already present given their first area or line).

    An area or line left empty leaves what is stored; one given where none is stored is the customer's
    assignment (customers imported before areas were known get theirs this way); one other than the stored one
    is an error, as any other difference (a customer moved to another area is not an import's business).
    """
    bulk.sort_memory(session)
    frame = frame.assign(**{c: frame.get(c) for c in ("area", "feeder")})
    staged = bulk.stage(session, "stage_customers", frame, {
        "line": bulk.ID, "customer_id": bulk.TEXT, "name": bulk.TEXT, "customer_class": bulk.TEXT,
        "grid": bulk.TEXT, "id_number": bulk.TEXT, "registered_capital_fen": bulk.FEN,
        "opened_on": bulk.DATE_T, "phone": bulk.TEXT, "area": bulk.TEXT, "feeder": bulk.TEXT,
    })
    s = staged.c
    stored_grid = select(Grid.code).where(Grid.id == Customer.grid_id).scalar_subquery()
    stored_area = select(Area.code).where(Area.id == Customer.area_id).scalar_subquery()
    errors = _conflicts(session, staged, Customer, Customer.code == s.customer_id, [
        ("name", Customer.name, s.name), ("customer_class", Customer.customer_class, s.customer_class),
        ("grid", stored_grid, s.grid), ("id_number", Customer.id_number, s.id_number),
        ("registered_capital", Customer.registered_capital_fen, s.registered_capital_fen),
        ("opened_on", Customer.opened_on, s.opened_on), ("phone", Customer.phone, s.phone),
        # Empty in the file, or nothing stored yet: no difference (see above).
        ("area", func.coalesce(stored_area, s.area), func.coalesce(s.area, stored_area)),
        ("line", func.coalesce(Customer.line, s.feeder), func.coalesce(s.feeder, Customer.line)),
    ], "customer_id", s.customer_id)
    rows = session.execute(select(s.line, s.area, Area.line).join(Area, Area.code == s.area).where(
        Area.line.is_not(None), s.feeder.is_not(None), Area.line != s.feeder)).all()
    errors += [(line, "line", f"area {area} is on line {stored}") for line, area, stored in rows]
    _raise(source, errors)

    session.execute(insert(Grid).from_select(
        ["code", "name"],
        select(s.grid, s.grid).where(~exists().where(Grid.code == s.grid)).distinct(),
    ))
    assigned = _assign_areas(session, staged)
    new = ~exists().where(Customer.code == s.customer_id)
    inserted = _count(session, staged, new)
    session.execute(insert(Customer).from_select(
        ["code", "name", "customer_class", "grid_id", "id_number", "registered_capital_fen", "opened_on",
         "phone", "area_id", "line", "created_at"],
        select(s.customer_id, s.name, s.customer_class, Grid.id, s.id_number, s.registered_capital_fen,
               s.opened_on, s.phone, Area.id, s.feeder, literal(now(), Customer.created_at.type))
        .join(Grid, Grid.code == s.grid).outerjoin(Area, Area.code == s.area).where(new),
    ))
    return inserted, assigned


def _assign_areas(session: Session, staged: Table) -> int:
    """Create the areas the file names (with their line), give areas and customers already stored the area or
    line they lacked; returns how many stored customers were given one."""
    s = staged.c
    stamp = literal(now(), Area.created_at.type)
    session.execute(insert(Area).from_select(
        ["code", "line", "created_at"],
        select(s.area, func.max(s.feeder), stamp).where(s.area.is_not(None), ~exists().where(Area.code == s.area))
        .group_by(s.area)))
    lacking_area = and_(Customer.area_id.is_(None), s.area.is_not(None))
    lacking_line = and_(Customer.line.is_(None), s.feeder.is_not(None))
    assigned = _count(session, staged.join(Customer, Customer.code == s.customer_id), or_(lacking_area, lacking_line))
    if assigned or session.scalar(select(func.count()).select_from(Area).where(Area.line.is_(None))):
        # The updates below look the file's rows up per customer and per area: index them (a temporary index,
        # gone with the table), or a million customers would each scan the staged million.
        session.execute(text(f"CREATE INDEX ix_{staged.name}_customer ON {staged.name} (customer_id)"))
        session.execute(text(f"CREATE INDEX ix_{staged.name}_area ON {staged.name} (area)"))
        bulk.analyze(session, staged)
    named = select(func.max(s.feeder)).where(s.area == Area.code, s.feeder.is_not(None))
    session.execute(update(Area).where(Area.line.is_(None), named.exists()).values(line=named.scalar_subquery()))
    if assigned:
        area_of = select(Area.id).join(staged, s.area == Area.code).where(s.customer_id == Customer.code)
        session.execute(update(Customer).where(Customer.area_id.is_(None), area_of.exists())
                        .values(area_id=area_of.scalar_subquery()))
        line_of = select(s.feeder).where(s.customer_id == Customer.code, s.feeder.is_not(None))
        session.execute(update(Customer).where(Customer.line.is_(None), line_of.exists())
                        .values(line=line_of.scalar_subquery()))
    return assigned


def load_bills(session: Session, frame: pd.DataFrame, source: str = "bills") -> int:
    """Store new bills with their ledger entries and re-allocate the customers' payments."""
    bulk.sort_memory(session)
    staged = bulk.stage(session, "stage_bills", frame, {
        "line": bulk.ID, "bill_id": bulk.TEXT, "customer_id": bulk.TEXT, "period": bulk.TEXT,
        "kwh": Bill.kwh.type, "amount_fen": bulk.FEN, "issued_on": bulk.DATE_T, "due_on": bulk.DATE_T,
    })
    s = staged.c
    errors = _unknown_customers(session, staged)
    stored_customer = select(Customer.code).where(Customer.id == Bill.customer_id).scalar_subquery()
    errors += _conflicts(session, staged, Bill, Bill.code == s.bill_id, [
        ("customer_id", stored_customer, s.customer_id), ("period", Bill.period, s.period),
        ("kwh", _as_billed(Bill.kwh, first_billed_kwh(), s.kwh), s.kwh),
        ("amount", _as_billed(Bill.amount_fen, first_billed_fen(), s.amount_fen), s.amount_fen),
        ("issued_on", Bill.issued_on, s.issued_on), ("due_on", Bill.due_on, s.due_on),
    ], "bill_id", s.bill_id)
    _raise(source, errors)

    stamp = now()
    new = bulk.fill(session, "new_bills", {
        "code": bulk.TEXT, "customer_id": bulk.ID, "period": bulk.TEXT, "kwh": Bill.kwh.type, "amount_fen": bulk.FEN,
        "issued_on": bulk.DATE_T, "due_on": bulk.DATE_T,
    }, select(s.bill_id, Customer.id, s.period, s.kwh, s.amount_fen, s.issued_on, s.due_on)
        .join(Customer, Customer.code == s.customer_id).where(~exists().where(Bill.code == s.bill_id)))
    inserted = _count(session, new)
    if not inserted:
        return 0
    touched = _touched_customers(session, new)
    lock_customers(session, touched)
    n = new.c
    written = insert(Bill).from_select(
        ["code", "customer_id", "period", "kwh", "amount_fen", "issued_on", "due_on", "created_at"],
        select(n.code, n.customer_id, n.period, n.kwh, n.amount_fen, n.issued_on, n.due_on,
               literal(stamp, Bill.created_at.type)))
    entry = [literal(EntryKind.bill.value), literal(stamp, LedgerEntry.posted_at.type)]
    if _returns_into_select(session):
        # One statement: the bills' ledger entries come from the rows the INSERT returns.
        rows = written.returning(Bill.id, Bill.customer_id, Bill.amount_fen, Bill.issued_on).cte("written_bills")
        ledger.post_select(session, select(rows.c.customer_id, entry[0], rows.c.amount_fen, rows.c.issued_on,
                                           entry[1], rows.c.id), BILL_ENTRY)
    else:
        session.execute(written)
        ledger.post_select(session, select(Bill.customer_id, entry[0], Bill.amount_fen, Bill.issued_on, entry[1],
                                           Bill.id).join(new, n.code == Bill.code), BILL_ENTRY)
    reallocate(session, touched)
    return inserted


BILL_ENTRY = ["customer_id", "kind", "amount_fen", "effective_on", "posted_at", "bill_id"]
PAYMENT_ENTRY = ["customer_id", "kind", "amount_fen", "effective_on", "posted_at", "payment_id"]


def _returns_into_select(session: Session) -> bool:
    """PostgreSQL takes an INSERT … RETURNING as a WITH query feeding another INSERT; SQLite does not."""
    return session.get_bind().dialect.name == "postgresql"


def payment_code(frame: pd.DataFrame) -> pd.Series:
    """A stable payment_id for rows that have none: the same channel reference always gives the same id."""
    key = frame["channel"] + "\x1f" + frame["channel_account"] + "\x1f" + frame["channel_ref"]
    return "P-" + key.map(lambda k: hashlib.sha256(k.encode()).hexdigest()[:30])


def load_payments(session: Session, frame: pd.DataFrame, source: str = "payments",
                  state: PaymentState = PaymentState.settled) -> int:
    """Store new payments with their ledger entries and allocate them, oldest bill first."""
    bulk.sort_memory(session)
    given = frame["payment_id"]
    missing = given.isna()
    ids = given.copy()
    if missing.any():
        ids[missing] = payment_code(frame.loc[missing])
    frame = frame.assign(given_id=given, payment_id=ids)
    local_day = frame["paid_at"].dt.tz_convert(business_tz()).dt.tz_localize(None).dt.normalize()
    staged = bulk.stage(session, "stage_payments", frame.assign(paid_on=local_day), {
        "line": bulk.ID, "payment_id": bulk.TEXT, "given_id": bulk.TEXT, "customer_id": bulk.TEXT, "channel": bulk.TEXT,
        "channel_account": bulk.TEXT, "channel_ref": bulk.TEXT, "amount_fen": bulk.FEN,
        "paid_at": bulk.INSTANT, "paid_on": bulk.DATE_T,
    })
    s = staged.c
    errors = _unknown_customers(session, staged)
    stored_customer = select(Customer.code).where(Customer.id == Payment.customer_id).scalar_subquery()
    on_key = and_(Payment.channel == s.channel, Payment.channel_account == s.channel_account,
                  Payment.channel_ref == s.channel_ref)
    errors += _conflicts(session, staged, Payment, on_key, [
        ("customer_id", stored_customer, s.customer_id), ("amount", Payment.amount_fen, s.amount_fen),
        ("paid_at", Payment.paid_at, s.paid_at), ("payment_id", Payment.code, func.coalesce(s.given_id, Payment.code)),
    ], "channel_ref", s.channel_ref)
    # A payment_id already used for another channel reference.
    taken = session.execute(
        select(s.line, s.payment_id).join(Payment, Payment.code == s.payment_id).where(not_(on_key))
    ).all()
    errors += [(line, "payment_id", f"{code} is already used by another payment") for line, code in taken]
    _raise(source, errors)

    stamp = now()
    new = bulk.fill(session, "new_payments", {
        "code": bulk.TEXT, "customer_id": bulk.ID, "channel": bulk.TEXT, "channel_account": bulk.TEXT,
        "channel_ref": bulk.TEXT, "amount_fen": bulk.FEN, "paid_at": bulk.INSTANT, "paid_on": bulk.DATE_T,
    }, select(s.payment_id, Customer.id, s.channel, s.channel_account, s.channel_ref, s.amount_fen, s.paid_at,
              s.paid_on).join(Customer, Customer.code == s.customer_id).where(~exists().where(on_key)))
    inserted = _count(session, new)
    if not inserted:
        return 0
    touched = _touched_customers(session, new)
    lock_customers(session, touched)
    n = new.c
    written = insert(Payment).from_select(
        ["code", "customer_id", "channel", "channel_account", "channel_ref", "amount_fen", "paid_at", "state",
         "created_at"],
        select(n.code, n.customer_id, n.channel, n.channel_account, n.channel_ref, n.amount_fen, n.paid_at,
               literal(state.value), literal(stamp, Payment.created_at.type)))
    entry = [literal(EntryKind.payment.value), literal(stamp, LedgerEntry.posted_at.type)]
    if _returns_into_select(session):
        # One statement: the payments' ledger entries come from the rows the INSERT returns.
        rows = written.returning(Payment.id, Payment.code, Payment.customer_id, Payment.amount_fen).cte("written")
        ledger.post_select(session, select(rows.c.customer_id, entry[0], -rows.c.amount_fen, n.paid_on, entry[1],
                                           rows.c.id).join(new, n.code == rows.c.code), PAYMENT_ENTRY)
    else:
        session.execute(written)
        ledger.post_select(session, select(Payment.customer_id, entry[0], -Payment.amount_fen, n.paid_on, entry[1],
                                           Payment.id).join(new, n.code == Payment.code), PAYMENT_ENTRY)
    reallocate(session, touched)
    return inserted


def load_events(session: Session, frame: pd.DataFrame, source: str = "events") -> int:
    """Store new events; one of a kind per customer per day."""
    bulk.sort_memory(session)
    staged = bulk.stage(session, "stage_events", frame, {
        "line": bulk.ID, "customer_id": bulk.TEXT, "kind": bulk.TEXT, "occurred_on": bulk.DATE_T,
        "amount_fen": bulk.FEN,
    })
    s = staged.c
    errors = _unknown_customers(session, staged)
    same_key = and_(Event.customer_id == Customer.id, Event.kind == s.kind, Event.occurred_on == s.occurred_on)
    differs = _first_difference([("amount", Event.amount_fen, s.amount_fen)])
    rows = session.execute(
        select(s.line, s.customer_id, s.kind, s.occurred_on, differs)
        .join(Customer, Customer.code == s.customer_id).join(Event, same_key).where(differs.is_not(None))
    ).all()
    errors += [(line, "occurred_on", f"{code} {kind} on {day} already imported with different {col}")
               for line, code, kind, day, col in rows]
    _raise(source, errors)

    new = ~exists().where(same_key)
    inserted = _count(session, staged.join(Customer, Customer.code == s.customer_id), new)
    session.execute(insert(Event).from_select(
        ["customer_id", "kind", "occurred_on", "amount_fen", "created_at"],
        select(Customer.id, s.kind, s.occurred_on, s.amount_fen, literal(now(), Event.created_at.type))
        .join(Customer, Customer.code == s.customer_id).where(new),
    ))
    return inserted


PARSERS = {"customers": parse_customers, "bills": parse_bills, "payments": parse_payments, "events": parse_events,
           "area-readings": area_readings.parse}
LOADERS = {"customers": load_customers, "bills": load_bills, "payments": load_payments, "events": load_events,
           "area-readings": area_readings.load}


def import_file(session: Session, kind: str, path: Path) -> ImportResult:
    """Check and load one contract file; raises ImportRejected (nothing stored) on any bad row."""
    source = str(path)
    frame = PARSERS[kind](Path(path), source)
    updated = 0
    if kind == "customers":
        inserted, updated = load_customers_counted(session, frame, source)
    else:
        inserted = LOADERS[kind](session, frame, source)
    if kind == "payments" and inserted:
        issue_missing_receipts(session)  # imported kiosk and counter payments get receipt numbers too
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    audit.record(session, f"import.{kind}", "file", Path(path).name, sha256=digest, rows=len(frame),
                 inserted=inserted, **({"updated": updated} if updated else {}))
    return ImportResult(kind=kind, rows=len(frame), inserted=inserted, updated=updated)

