"""Registering, answering and listing complaints and bill disputes.

A complaint is registered with its kind, the channel it came through, an owner (the officer who must
answer it: by default the customer's account manager) and a deadline ([disputes] deadline_hours after it
was raised, 48 by default). Each bill it disputes is put on hold (collections.models.BillHold, naming the
complaint): the dunning ladder, the worklist's calls for arrears and its first-late warnings leave a held
bill out until the complaint is resolved.

It is resolved by its owner or a supervisor:
- upheld, with a remedy: the disputed bill corrected (re-stated at the right amount), or a credit of part
  of it, both through the ledger (recovery.ledger.corrections: an adjustment entry that names the bill's
  entry), or no money (a service complaint answered with an apology); an upheld complaint against an
  officer costs that officer assessment points;
- rejected, with the reason: the bill stands.
Either way the holds are released that day and the bills count on the ladder again. Everything is audited.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Select, and_, func, or_, select, true
from sqlalchemy.orm import Session

from recovery import policy
from recovery.audit import service as audit
from recovery.auth.models import Role, User, officer_grids
from recovery.auth.permissions import Action, allowed, may
from recovery.auth.service import visible_customers
from recovery.billing.models import Bill
from recovery.collections import dunning
from recovery.collections.models import BillHold
from recovery.customers.models import Customer, Grid
from recovery.disputes.models import Dispute, DisputeChannel, DisputeKind, DisputeStatus, Remedy
from recovery.disputes.policy import deadline_hours
from recovery.errors import Conflict, Forbidden, Invalid, NotFound
from recovery.ledger.correction_models import BillCorrection, CorrectionKind
from recovery.ledger.corrections import correct_bill
from recovery.money import format_yuan
from recovery.timeutil import business_date, now
from recovery.worklist import coverage

DESCRIPTION_LENGTH = 4000
LISTS = ("open", "overdue", "resolved", "all")


# ---------------------------------------------------------------------------------------------- registering


def _active_user(session: Session, username: str, what: str, action: Action | None = None) -> User:
    """The active user named `username` who may take `action` (an officer, when no action is named)."""
    user = session.scalar(select(User).where(User.username == username))
    fits = user is not None and (may(user, action) if action else user.role == Role.officer)
    if not fits or not user.active:
        roles = allowed(action) if action else Role.officer.value
        raise Invalid(f"{what} {username!r} is not an active {roles}", code="bad_user")
    return user


def _sees(session: Session, user: User, customer: Customer) -> bool:
    ids = visible_customers(user).subquery()
    (column,) = ids.c
    return session.scalar(select(column).where(column == customer.id).limit(1)) is not None


def _default_owner(session: Session, customer: Customer, registered_by: str) -> str | None:
    """The customer's account manager (the deputy when the manager no longer covers them), else the
    registering officer, else the first officer of the customer's grid."""
    manager = coverage.manager_of(session, customer)
    if manager and manager["assignee"]:
        return manager["assignee"]
    me = session.scalar(select(User).where(User.username == registered_by))
    if me is not None and me.role == Role.officer and me.active and _sees(session, me, customer):
        return me.username
    return session.scalar(select(User.username).join(officer_grids, officer_grids.c.user_id == User.id)
                          .where(officer_grids.c.grid_id == customer.grid_id, User.role == Role.officer,
                                 User.active.is_(True)).order_by(User.username).limit(1))


def _partner(session: Session, agent: str | None, distributor: str | None) -> tuple[str | None, str | None]:
    """(channel, code) of the partner a complaint is about, checked to exist; (None, None) for none."""
    from recovery.payments.models import Agent, Distributor

    agent, distributor = (agent or "").strip() or None, (distributor or "").strip() or None
    if agent and distributor:
        raise Invalid("a complaint is about one partner: an agent or a distributor", code="bad_partner")
    for code, model, channel in ((agent, Agent, "agent"), (distributor, Distributor, "card")):
        if code:
            if session.scalar(select(model.id).where(model.code == code)) is None:
                raise Invalid(f"no {'agent' if channel == 'agent' else 'distributor'} {code}", code="bad_partner")
            return channel, code
    return None, None


def register(session: Session, customer: Customer, *, kind: str, channel: str, description: str,
             registered_by: str, bill_codes: list[str] | tuple[str, ...] = (), owner: str | None = None,
             against: str | None = None, at: dt.datetime | None = None, against_agent: str | None = None,
             against_distributor: str | None = None) -> Dispute:
    """Register a complaint raised at `at` (default now; a letter may have come in earlier), put its
    bills on hold, set its deadline. Audited. `against_agent` or `against_distributor` (a code) names the
    partner the complaint is about: it counts in their assessment unless it is rejected."""
    if kind not in DisputeKind.__members__:
        raise Invalid(f"kind is one of {', '.join(DisputeKind)}", code="bad_kind")
    if channel not in DisputeChannel.__members__:
        raise Invalid(f"channel is one of {', '.join(DisputeChannel)}", code="bad_channel")
    description = (description or "").strip()
    if not description:
        raise Invalid("describe the complaint", code="description_required")
    moment = now()
    at = at or moment
    if at.tzinfo is None:
        raise Invalid("the time the complaint was raised carries its time zone", code="bad_time")
    if at > moment + dt.timedelta(minutes=5):
        raise Invalid("a complaint cannot be raised in the future", code="bad_time")
    codes = list(dict.fromkeys(c.strip() for c in bill_codes if c and c.strip()))
    owner = (owner or "").strip() or _default_owner(session, customer, registered_by)
    if not owner:
        raise Invalid(f"no officer works grid of customer {customer.code}: name the owner", code="owner_required")
    owner_user = _active_user(session, owner, "owner", Action.answer_disputes)
    if owner_user.role == Role.officer and not _sees(session, owner_user, customer):
        raise Invalid(f"officer {owner} does not work the grid of customer {customer.code}", code="bad_user")
    against = (against or "").strip() or None
    if against:
        _active_user(session, against, "the officer complained about")
    against_channel, against_account = _partner(session, against_agent, against_distributor)
    hours = deadline_hours(policy.section("disputes"), kind)
    dispute = Dispute(customer_id=customer.id, kind=kind, channel=channel, description=description[:DESCRIPTION_LENGTH],
                      owner=owner, against_officer=against, against_channel=against_channel,
                      against_account=against_account, registered_at=at, registered_by=registered_by,
                      due_at=at + dt.timedelta(hours=hours), status=DisputeStatus.open)
    session.add(dispute)
    session.flush()  # the holds and the audit entry name the new id
    on = business_date(at)
    for code in codes:
        hold = dunning.place_hold(session, customer, code, reason=f"dispute #{dispute.id} ({kind})",
                                  by=registered_by, on=on)
        hold.dispute_id = dispute.id
    audit.record(session, "dispute.register", "dispute", str(dispute.id), actor=registered_by, customer=customer.code,
                 kind=kind, channel=channel, owner=owner, against=against, bills=codes,
                 registered_at=at.isoformat(), due_at=dispute.due_at.isoformat())
    return dispute


# ---------------------------------------------------------------------------------------------- resolving


def get(session: Session, dispute_id: int, user: User | None = None) -> Dispute:
    """The dispute (among those `user` may see), else NotFound."""
    query = select(Dispute).where(Dispute.id == dispute_id)
    if user is not None:
        query = query.where(visible(user))
    dispute = session.scalar(query)
    if dispute is None:
        raise NotFound(f"no dispute #{dispute_id}", code="dispute_not_found")
    return dispute


def _holds(session: Session, dispute: Dispute) -> list[tuple[BillHold, Bill]]:
    return list(session.execute(select(BillHold, Bill).join(Bill, Bill.id == BillHold.bill_id)
                                .where(BillHold.dispute_id == dispute.id).order_by(BillHold.id)).tuples())


def resolve(session: Session, dispute: Dispute, *, outcome: str, reason: str, by: str, any_owner: bool = False,
            remedy: str | None = None, bill_code: str | None = None, amount_fen: int | None = None,
            kwh: float | None = None, against: str | None = None) -> Dispute:
    """Answer an open dispute (its owner, or anyone when `any_owner`: a supervisor).

    upheld: remedy corrected_bill (`amount_fen` is the bill's right amount, `kwh` optionally its right
    consumption), credit (`amount_fen` is credited off the bill) or none; `bill_code` names the disputed
    bill (default: the only one). rejected: no remedy. The holds are released; audited."""
    if not any_owner and dispute.owner != by:
        raise Forbidden(f"dispute #{dispute.id} belongs to {dispute.owner}; a supervisor may answer it too",
                        code="not_owner")
    # One answer per dispute, even when two people send theirs at once.
    session.execute(select(Customer.id).where(Customer.id == dispute.customer_id).with_for_update())
    session.refresh(dispute)
    if dispute.status != DisputeStatus.open:
        raise Conflict(f"dispute #{dispute.id} is already {dispute.status}", code="dispute_closed")
    if outcome not in (DisputeStatus.upheld, DisputeStatus.rejected):
        raise Invalid("the outcome is upheld or rejected", code="bad_outcome")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("give the reason for the outcome", code="reason_required")
    remedy = remedy or (Remedy.none.value if outcome == DisputeStatus.upheld else None)
    if outcome == DisputeStatus.rejected and remedy is not None:
        raise Invalid("a rejected dispute has no remedy", code="bad_remedy")
    if remedy is not None and remedy not in Remedy.__members__:
        raise Invalid(f"the remedy is one of {', '.join(Remedy)}", code="bad_remedy")
    against = (against or "").strip() or None
    if against:
        if outcome != DisputeStatus.upheld:
            raise Invalid("only an upheld complaint is counted against an officer", code="bad_against")
        _active_user(session, against, "the officer complained about")
        dispute.against_officer = against
    holds = _holds(session, dispute)
    moment = now()
    day = business_date(moment)
    correction = None
    if remedy in (Remedy.corrected_bill, Remedy.credit):
        correction = _remedy(session, dispute, holds, remedy=remedy, bill_code=bill_code, amount_fen=amount_fen,
                             kwh=kwh, reason=reason, by=by, day=day)
    elif bill_code or amount_fen is not None or kwh is not None:
        raise Invalid("a bill and an amount go with the remedies corrected_bill and credit", code="bad_remedy")
    for hold, _bill in holds:
        if hold.released_on is None:
            hold.released_on, hold.released_by = max(day, hold.placed_on), by
    dispute.status, dispute.resolved_at, dispute.resolved_by = outcome, moment, by
    dispute.resolution, dispute.remedy = reason[:DESCRIPTION_LENGTH], remedy
    dispute.correction_id = correction.id if correction else None
    code = session.scalar(select(Customer.code).where(Customer.id == dispute.customer_id))
    audit.record(session, "dispute.resolve", "dispute", str(dispute.id), actor=by, customer=code, outcome=outcome,
                 remedy=remedy, reason=reason, against=dispute.against_officer,
                 late=moment > dispute.due_at, released=[b.code for _h, b in holds],
                 correction_id=correction.id if correction else None)
    return dispute


def _remedy(session: Session, dispute: Dispute, holds: list[tuple[BillHold, Bill]], *, remedy: str,
            bill_code: str | None, amount_fen: int | None, kwh: float | None, reason: str, by: str,
            day: dt.date) -> BillCorrection:
    """The corrected bill or the credit, through the ledger."""
    bills = {b.code: b for _h, b in holds}
    if not bills:
        raise Invalid(f"dispute #{dispute.id} names no bill to correct or credit", code="no_bill")
    if bill_code is None:
        if len(bills) > 1:
            raise Invalid(f"name the bill: one of {', '.join(bills)}", code="bill_required")
        bill_code = next(iter(bills))
    bill = bills.get(bill_code)
    if bill is None:
        raise Invalid(f"bill {bill_code} is not disputed here (disputed: {', '.join(bills)})", code="bill_not_disputed")
    if amount_fen is None:
        raise Invalid("give the amount: the bill's right amount, or the credit", code="amount_required")
    if remedy == Remedy.credit:
        if kwh is not None:
            raise Invalid("a credit leaves the kWh as billed; correct the bill to change them", code="bad_remedy")
        if not 0 < amount_fen <= bill.amount_fen:
            raise Invalid(f"a credit lies above 0.00 and at most the bill's {format_yuan(bill.amount_fen)} yuan",
                          code="bad_amount")
        after = bill.amount_fen - amount_fen
    else:
        after = amount_fen
    note = f"dispute #{dispute.id}: {reason}"
    return correct_bill(session, bill, after_fen=after, kind=CorrectionKind(remedy).value, reason=note, by=by, on=day,
                        after_kwh=kwh)


def reassign(session: Session, dispute: Dispute, *, owner: str, by: str) -> Dispute:
    """Give an open dispute to another owner (a supervisor's decision); audited."""
    if dispute.status != DisputeStatus.open:
        raise Conflict(f"dispute #{dispute.id} is already {dispute.status}", code="dispute_closed")
    user = _active_user(session, owner, "owner", Action.answer_disputes)
    customer = session.get(Customer, dispute.customer_id)
    if user.role == Role.officer and not _sees(session, user, customer):
        raise Invalid(f"officer {owner} does not work the grid of customer {customer.code}", code="bad_user")
    before, dispute.owner = dispute.owner, owner
    audit.record(session, "dispute.reassign", "dispute", str(dispute.id), actor=by, before=before, owner=owner)
    return dispute


# ---------------------------------------------------------------------------------------------- reading


def visible(user: User | None):
    """The disputes `user` may see: an officer those of their grids' customers and those they own; None (the
    command line) every one."""
    if user is None or user.sees_all_grids:
        return true()
    return or_(Dispute.customer_id.in_(visible_customers(user)), Dispute.owner == user.username)


def overdue(at: dt.datetime):
    """Open disputes past their deadline at `at`."""
    return and_(Dispute.status == DisputeStatus.open, Dispute.due_at < at)


def query(user: User | None, *, status: str = "open", owner: str | None = None, grid: str | None = None,
          customer: Customer | None = None, at: dt.datetime | None = None) -> Select:
    """Disputes with the customer's code, name and grid code; open ones by deadline, resolved ones latest first."""
    if status not in LISTS:
        raise Invalid(f"status is one of {', '.join(LISTS)}", code="bad_status")
    at = at or now()
    q = (select(Dispute, Customer.code, Customer.name, Grid.code)
         .join(Customer, Customer.id == Dispute.customer_id).join(Grid, Grid.id == Customer.grid_id)
         .where(visible(user)))
    if status == "open":
        q = q.where(Dispute.status == DisputeStatus.open)
    elif status == "overdue":
        q = q.where(overdue(at))
    elif status == "resolved":
        q = q.where(Dispute.status != DisputeStatus.open)
    if owner:
        q = q.where(Dispute.owner == owner)
    if grid:
        q = q.where(Grid.code == grid)
    if customer is not None:
        q = q.where(Dispute.customer_id == customer.id)
    if status in ("open", "overdue"):
        return q.order_by(Dispute.due_at, Dispute.id)
    return q.order_by(func.coalesce(Dispute.resolved_at, Dispute.registered_at).desc(), Dispute.id.desc())


def listing(session: Session, user: User | None, *, limit: int = 500, at: dt.datetime | None = None,
            **filters) -> list[dict]:
    """The disputes of `query` as documents (bills and corrections read in one query each)."""
    at = at or now()
    rows = session.execute(query(user, at=at, **filters).limit(limit)).all()
    return documents(session, rows, at)


def documents(session: Session, rows, at: dt.datetime) -> list[dict]:
    """(Dispute, customer code, name, grid) rows as the API's and the pages' documents."""
    ids = [d.id for d, *_ in rows]
    bills: dict[int, list[str]] = {}
    if ids:
        for dispute_id, code in session.execute(select(BillHold.dispute_id, Bill.code)
                                                .join(Bill, Bill.id == BillHold.bill_id)
                                                .where(BillHold.dispute_id.in_(ids)).order_by(BillHold.id)):
            bills.setdefault(dispute_id, []).append(code)
    fixes = [d.correction_id for d, *_ in rows if d.correction_id]
    corrections = {}
    if fixes:
        for c, code in session.execute(select(BillCorrection, Bill.code).join(Bill, Bill.id == BillCorrection.bill_id)
                                       .where(BillCorrection.id.in_(fixes))):
            corrections[c.id] = {"bill_id": code, "kind": c.kind, "before_fen": c.before_fen, "after_fen": c.after_fen,
                                 "entry_id": c.entry_id}
    out = []
    for d, code, name, grid in rows:
        answered = d.resolved_at or at
        out.append({
            "id": d.id, "customer_id": code, "customer_name": name, "grid": grid, "kind": d.kind,
            "channel": d.channel, "description": d.description, "owner": d.owner, "against_officer": d.against_officer,
            "against_channel": d.against_channel, "against_account": d.against_account,
            "registered_at": d.registered_at, "registered_by": d.registered_by, "due_at": d.due_at,
            "status": d.status, "overdue": d.status == DisputeStatus.open and d.due_at < at,
            "late": answered > d.due_at,
            "hours_left": round((d.due_at - at).total_seconds() / 3600, 1) if d.status == DisputeStatus.open else None,
            "resolved_at": d.resolved_at, "resolved_by": d.resolved_by, "resolution": d.resolution,
            "remedy": d.remedy, "bills": bills.get(d.id, []), "correction": corrections.get(d.correction_id),
        })
    return out


def document(session: Session, dispute: Dispute, at: dt.datetime | None = None) -> dict:
    """One dispute as a document."""
    row = session.execute(select(Dispute, Customer.code, Customer.name, Grid.code)
                          .join(Customer, Customer.id == Dispute.customer_id).join(Grid, Grid.id == Customer.grid_id)
                          .where(Dispute.id == dispute.id)).one()
    return documents(session, [row], at or now())[0]


def counts(session: Session, user: User, at: dt.datetime | None = None) -> dict:
    """Open and overdue disputes the user may see, and of those the user owns."""
    at = at or now()
    mine = Dispute.owner == user.username
    is_open = Dispute.status == DisputeStatus.open
    row = session.execute(select(func.count().filter(is_open), func.count().filter(overdue(at)),
                                 func.count().filter(and_(is_open, mine)), func.count().filter(and_(overdue(at), mine)))
                          .select_from(Dispute).where(visible(user), is_open)).one()
    return {"open": int(row[0]), "overdue": int(row[1]), "mine_open": int(row[2]), "mine_overdue": int(row[3])}
