"""Big customers: found every night in one pass, contacted within a deadline, called by their manager before
the due date, and known by their named contacts.

`refresh(session, day)` (job customers.big) finds every customer whose monthly bill (the average of the bills
issued in the 365 days up to the day) is over [big_customers] monthly_bill, or who is flagged strategic. A
customer who becomes one (again) is stamped `since_at` (now) and `contact_by` (now + contact_hours), and gets
a call on the worklist (reason `big_customer_new`, assigned to its account manager) that the day's list puts
first. The first call or visit logged from `since_at` on is the first contact; a supervisor sees the ones past
their deadline. A customer no longer big is ended (kept, with the day), and its open first-contact call
dismissed.

The dunning ladder of a big customer starts earlier than everyone's: the account manager's call
[big_customers] manager_call_days before the due date (`recovery.collections.policy.big_customer_steps`; the
dunning adds it for the customers this finds and files the call with the manager).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from sqlalchemy import and_, case, exists, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from recovery import bulk, csvfile
from recovery.audit import service as audit
from recovery.auth.models import User
from recovery.auth.service import visible_customers
from recovery.bigcustomers.models import BigCustomer, BigReason, ContactRole, EnterpriseContact, StrategicCustomer
from recovery.bigcustomers.policy import big_policy
from recovery.billing.models import Bill
from recovery.collections.models import Visit, WorkItem, WorkStatus
from recovery.columns import Checker
from recovery.customers.models import Customer, Grid
from recovery.errors import Conflict, ImportRejected, Invalid, NotFound
from recovery.ledger.positions import positions
from recovery.timeutil import now
from recovery.worklist import coverage

ACTOR = "job:customers.big"
NEW = "big_customer_new"  # the first-contact call's reason on the worklist (recovery.worklist.day puts it first)
WINDOW_DAYS = 365


def _visible(user: User | None):
    """The user's customers (a select of ids); None (the command line) sees every customer."""
    return select(Customer.id) if user is None else visible_customers(user)


def monthly_bills(day: dt.date):
    """customer_id, monthly_fen: the average bill issued in the 365 days up to `day` (a subquery)."""
    return (select(Bill.customer_id, (func.sum(Bill.amount_fen) // func.count()).label("monthly_fen"))
            .where(Bill.issued_on > day - dt.timedelta(days=WINDOW_DAYS), Bill.issued_on <= day)
            .group_by(Bill.customer_id).subquery("monthly_bills"))


def _found(session: Session, day: dt.date, customer_ids: list[int] | None):
    """A temporary table of who is a big customer on `day`: customer_id, monthly_fen, reason."""
    rules = big_policy()
    billed = monthly_bills(day)
    monthly = func.coalesce(billed.c.monthly_fen, 0)
    strategic = Customer.id.in_(select(StrategicCustomer.customer_id))
    over = monthly > rules["monthly_bill_fen"]
    reason = case((and_(over, strategic), literal(BigReason.both.value)),
                  (strategic, literal(BigReason.strategic.value)), else_=literal(BigReason.bill.value))
    query = (select(Customer.id, monthly, reason).join(billed, billed.c.customer_id == Customer.id, isouter=True)
             .where(or_(over, strategic)))
    if customer_ids is not None:
        query = query.where(Customer.id.in_(customer_ids))
    return bulk.fill(session, "big_found", {"customer_id": bulk.ID, "monthly_fen": bulk.FEN, "reason": bulk.TEXT},
                     query)


def refresh(session: Session, day: dt.date, *, customer_ids: list[int] | None = None) -> dict:
    """Bring big_customers up to `day` (every customer, or only `customer_ids`): set-based and rerunnable; a
    rerun changes nothing but the monthly bills. Returns the counts."""
    rules = big_policy()
    found = _found(session, day, customer_ids)
    f, b = found.c, BigCustomer
    stamp = now()
    deadline = stamp + dt.timedelta(hours=rules["contact_hours"])
    scope = [] if customer_ids is None else [b.customer_id.in_(customer_ids)]
    again = session.execute(update(b).where(b.ended_on.is_not(None), b.customer_id.in_(select(f.customer_id)), *scope)
                            .values(since_at=stamp, contact_by=deadline, contacted_at=None, ended_on=None)
                            .execution_options(synchronize_session=False)).rowcount
    mine = select(f.reason).where(f.customer_id == b.customer_id).scalar_subquery()
    mine_fen = select(f.monthly_fen).where(f.customer_id == b.customer_id).scalar_subquery()
    session.execute(update(b).where(b.ended_on.is_(None), b.customer_id.in_(select(f.customer_id)), *scope)
                    .values(reason=mine, monthly_bill_fen=mine_fen, updated_on=day)
                    .execution_options(synchronize_session=False))
    new = session.execute(insert(b).from_select(
        ["customer_id", "reason", "monthly_bill_fen", "since_at", "contact_by", "updated_on"],
        select(f.customer_id, f.reason, f.monthly_fen, literal(stamp, b.since_at.type),
               literal(deadline, b.contact_by.type), literal(day, b.updated_on.type))
        .where(~exists().where(b.customer_id == f.customer_id))).returning(b.customer_id)).all()
    ended = session.execute(update(b).where(b.ended_on.is_(None), b.customer_id.not_in(select(f.customer_id)), *scope)
                            .values(ended_on=day).execution_options(synchronize_session=False)).rowcount
    first_visit = (select(func.min(Visit.visited_at)).where(Visit.customer_id == b.customer_id,
                                                           Visit.visited_at >= b.since_at).scalar_subquery())
    contacted = session.execute(update(b).where(b.ended_on.is_(None), b.contacted_at.is_(None), *scope,
                                                exists().where(Visit.customer_id == b.customer_id,
                                                               Visit.visited_at >= b.since_at))
                                .values(contacted_at=first_visit).execution_options(synchronize_session=False)).rowcount
    calls = _first_contact_calls(session, day, scope)
    dismissed = _dismiss_needless(session, scope)
    summary = {"day": day.isoformat(), "big": session.scalar(select(func.count()).select_from(b)
                                                              .where(b.ended_on.is_(None))) or 0,
               "new": len(new) + again, "ended": ended, "contacted": contacted, "calls": calls,
               "dismissed": dismissed}
    if len(new) + again or ended:
        audit.record(session, "big_customers.refresh", "day", day.isoformat(), actor=ACTOR,
                     **{k: v for k, v in summary.items() if k != "day"})
    return summary


def _first_contact_calls(session: Session, day: dt.date, scope: list) -> int:
    """A call on the worklist for each big customer not contacted yet and without one since it became big."""
    b, w = BigCustomer, WorkItem
    a = coverage.assignees()
    result = session.execute(insert(w.__table__).from_select(
        ["customer_id", "due_on", "kind", "reason", "priority_fen", "assigned_to", "status", "source_type",
         "created_at"],
        select(b.customer_id, literal(day, w.due_on.type), literal("call"), literal(NEW), b.monthly_bill_fen,
               a.c.assignee, literal(WorkStatus.open.value), literal("big_customer"), literal(now(), w.created_at.type))
        .join(a, a.c.customer_id == b.customer_id, isouter=True)
        .where(b.ended_on.is_(None), b.contacted_at.is_(None), *scope,
               ~exists().where(w.customer_id == b.customer_id, w.reason == NEW,
                               or_(w.created_at >= b.since_at, w.due_on == day))))
        .returning(w.__table__.c.id))
    return len(result.all())


def _dismiss_needless(session: Session, scope: list) -> int:
    """Open first-contact calls of customers contacted since, or no longer big."""
    b, w = BigCustomer, WorkItem
    settled = select(b.customer_id).where(or_(b.ended_on.is_not(None), b.contacted_at.is_not(None)), *scope)
    return session.execute(update(w).where(w.status == WorkStatus.open, w.reason == NEW, w.customer_id.in_(settled))
                           .values(status=WorkStatus.dismissed, outcome="superseded", done_by=ACTOR, done_at=now())
                           .execution_options(synchronize_session=False)).rowcount or 0


def nightly(session: Session, day: dt.date) -> dict:
    """Job customers.big: who is a big customer today, first contacts due and made."""
    return refresh(session, day)


# ---------------------------------------------------------------------------------------------- strategic flag


def set_strategic(session: Session, customer: Customer, *, reason: str, by: str, day: dt.date) -> BigCustomer:
    """Flag a customer as strategic (a supervisor's decision): a big customer from now, whatever its bill,
    with its first contact due within the deadline. Audited."""
    if not (reason or "").strip():
        raise Invalid("a reason is required", code="reason_required")
    if session.get(StrategicCustomer, customer.id) is not None:
        raise Conflict(f"customer {customer.code} is already flagged strategic", code="already_strategic")
    session.add(StrategicCustomer(customer_id=customer.id, reason=reason.strip()[:500], flagged_by=by))
    session.flush()  # the refresh below reads the flag through Core
    refresh(session, day, customer_ids=[customer.id])
    audit.record(session, "big_customer.strategic", "customer", customer.code, actor=by, reason=reason.strip())
    row = session.get(BigCustomer, customer.id)
    session.refresh(row)
    return row


def clear_strategic(session: Session, customer: Customer, *, by: str, day: dt.date) -> None:
    """Take the strategic flag off; the customer stays a big customer only if its bill says so. Audited."""
    row = session.get(StrategicCustomer, customer.id)
    if row is None:
        raise NotFound(f"customer {customer.code} is not flagged strategic", code="not_strategic")
    session.delete(row)
    session.flush()  # the refresh below reads the flags through Core
    refresh(session, day, customer_ids=[customer.id])
    audit.record(session, "big_customer.strategic_cleared", "customer", customer.code, actor=by)


# ---------------------------------------------------------------------------------------------- contacts

ROLES = tuple(r.value for r in ContactRole)


def contacts_of(session: Session, customer: Customer) -> dict[str, EnterpriseContact]:
    """The customer's named contacts by role."""
    rows = session.scalars(select(EnterpriseContact).where(EnterpriseContact.customer_id == customer.id))
    return {c.role: c for c in rows}


def set_contact(session: Session, customer: Customer, role: str, *, name: str, phone: str,
                by: str) -> EnterpriseContact:
    """Name the customer's contact for a role (finance, electrician, manager), replacing the one before. Audited."""
    if role not in ROLES:
        raise Invalid(f"role is one of {', '.join(ROLES)}", code="bad_role")
    name, phone = (name or "").strip(), (phone or "").strip()
    if not name or not phone:
        raise Invalid("a contact needs a name and a phone number", code="contact_incomplete")
    row = session.scalar(select(EnterpriseContact).where(EnterpriseContact.customer_id == customer.id,
                                                         EnterpriseContact.role == role))
    before = None if row is None else {"name": row.name, "phone": row.phone}
    if row is None:
        row = EnterpriseContact(customer_id=customer.id, role=role)
        session.add(row)
    row.name, row.phone, row.updated_by, row.updated_at = name, phone, by, now()
    session.flush()  # the page reads the contact back in this transaction
    audit.record(session, "contact.set", "customer", customer.code, actor=by, role=role, name=name, phone=phone,
                 before=before)
    return row


def remove_contact(session: Session, customer: Customer, role: str, *, by: str) -> None:
    """Remove the customer's contact for a role. Audited."""
    row = session.scalar(select(EnterpriseContact).where(EnterpriseContact.customer_id == customer.id,
                                                         EnterpriseContact.role == role))
    if row is None:
        raise NotFound(f"customer {customer.code} has no {role} contact", code="contact_not_found")
    audit.record(session, "contact.remove", "customer", customer.code, actor=by, role=role, name=row.name)
    session.delete(row)


def import_contacts(session: Session, path: Path, *, by: str) -> dict:
    """Import named contacts (customer_id, role, name, phone): atomic, line-precise errors; a contact already
    stored with the same name and phone changes nothing, with another is an error (change it on the page)."""
    source = str(path)
    raw = csvfile.read(path, required=("customer_id", "role", "name", "phone"))
    ck = Checker(raw)
    frame = pd.DataFrame({"customer_id": ck.code("customer_id"), "role": ck.choice("role", ROLES),
                          "name": ck.text("name", max_len=100), "phone": ck.code("phone", max_len=20),
                          "line": raw["line"]})
    frame = ck.duplicates(frame, ["customer_id", "role"], ["name", "phone"], "role")
    if ck.errors:
        raise ImportRejected(ck.messages(source))
    staged = bulk.stage(session, "contacts_in", frame, {"customer_id": bulk.TEXT, "role": bulk.TEXT,
                                                        "name": bulk.TEXT, "phone": bulk.TEXT, "line": bulk.ID})
    s, c = staged.c, EnterpriseContact
    errors = [(line, "customer_id", f"unknown customer {code}") for line, code in session.execute(
        select(s.line, s.customer_id).where(~exists().where(Customer.code == s.customer_id))).all()]
    errors += [(line, "role", f"{code} already has a {role} contact with other name or phone") for line, code, role in
               session.execute(select(s.line, s.customer_id, s.role).join(Customer, Customer.code == s.customer_id)
                               .join(c, and_(c.customer_id == Customer.id, c.role == s.role))
                               .where(or_(c.name != s.name, c.phone != s.phone))).all()]
    if errors:
        raise ImportRejected([f"{source}:{line}: {col}: {why}" for line, col, why in sorted(errors)])
    inserted = session.execute(insert(c.__table__).from_select(
        ["customer_id", "role", "name", "phone", "updated_by", "updated_at"],
        select(Customer.id, s.role, s.name, s.phone, literal(by), literal(now(), c.updated_at.type))
        .join(Customer, Customer.code == s.customer_id)
        .where(~exists().where(c.customer_id == Customer.id, c.role == s.role))).returning(c.__table__.c.id)).all()
    result = {"rows": len(frame), "inserted": len(inserted)}
    if inserted:
        audit.record(session, "contacts.import", "file", path.name, actor=by, **result)
    return result


# ---------------------------------------------------------------------------------------------- reading


def listing(session: Session, user: User | None, day: dt.date) -> list[dict]:
    """The big customers the user may see, largest monthly bill first: reason, bill, manager, the first
    contact (due by, made at, late), the roles without a named contact, and what is overdue today."""
    b = BigCustomer
    ids = select(b.customer_id).where(b.ended_on.is_(None), b.customer_id.in_(_visible(user)))
    pos = positions(day, ids, oldest=False).subquery("pos")
    a = coverage.assignees()
    named = (select(EnterpriseContact.customer_id, func.count().label("named"))
             .group_by(EnterpriseContact.customer_id).subquery("named"))
    rows = session.execute(
        select(Customer.code, Customer.name, Grid.code.label("grid"), b.reason, b.monthly_bill_fen, b.since_at,
               b.contact_by, b.contacted_at, a.c.manager, a.c.deputy, func.coalesce(named.c.named, 0).label("named"),
               (pos.c.balance_fen - pos.c.not_due_fen).label("overdue_fen"))
        .join(Customer, Customer.id == b.customer_id).join(Grid, Grid.id == Customer.grid_id)
        .join(a, a.c.customer_id == b.customer_id, isouter=True)
        .join(named, named.c.customer_id == b.customer_id, isouter=True)
        .join(pos, pos.c.customer_id == b.customer_id, isouter=True)
        .where(b.customer_id.in_(ids)).order_by(b.monthly_bill_fen.desc(), Customer.code)).mappings().all()
    at = now()
    return [{**r, "overdue_fen": max(int(r["overdue_fen"] or 0), 0), "missing_contacts": len(ROLES) - int(r["named"]),
             "contact_late": r["contacted_at"] is None and r["contact_by"] < at,
             "contact_late_done": r["contacted_at"] is not None and r["contacted_at"] > r["contact_by"]}
            for r in rows]


def status_of(session: Session, customer: Customer) -> dict:
    """What the customer page shows: whether it is a big customer (and since when, why), its first contact, its
    strategic flag and its named contacts."""
    row = session.get(BigCustomer, customer.id)
    strategic = session.get(StrategicCustomer, customer.id)
    return {"big": row if row is not None and row.ended_on is None else None, "strategic": strategic,
            "contacts": contacts_of(session, customer), "roles": ROLES,
            "threshold_fen": big_policy()["monthly_bill_fen"]}
