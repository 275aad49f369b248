"""Collection work: disconnection orders (停电通知单), visits and calls, promises to pay, pay plans and the
officers' work items."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from recovery.extensions import db
from recovery.timeutil import now
from recovery.types import BigId, UTCDateTime


class OrderStatus(StrEnum):
    open = "open"
    cancelled = "cancelled"  # the customer paid (or the order was withdrawn) before it was carried out
    executed = "executed"


class DisconnectionOrder(db.Model):
    __tablename__ = "disconnection_orders"
    __table_args__ = (
        # Never two open orders for one customer, whatever files them and however often.
        Index("uq_disconnection_orders_open_customer", "customer_id", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    reason: Mapped[str] = mapped_column(String(60))
    ordered_on: Mapped[dt.date]
    status: Mapped[str] = mapped_column(String(12), default=OrderStatus.open)
    source: Mapped[str] = mapped_column(String(20))  # prepaid | collections | …
    closed_on: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class ContactKind(StrEnum):
    visit = "visit"  # on site (上门)
    call = "call"  # telephone


class Visit(db.Model):
    """One contact with a customer by an officer (visit or call): who, when, outcome, next step."""

    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_customer_at", "customer_id", "visited_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(10))  # ContactKind
    officer: Mapped[str] = mapped_column(String(100))  # username
    visited_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(30))  # contacted | promised | paid | not_home | refused | …
    note: Mapped[str | None] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(String(200))
    next_on: Mapped[dt.date | None]
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class PromiseStatus(StrEnum):
    open = "open"
    kept = "kept"
    broken = "broken"
    cancelled = "cancelled"


class Promise(db.Model):
    """A promise to pay an amount by a date; the nightly check marks it kept or broken."""

    __tablename__ = "promises"
    __table_args__ = (Index("ix_promises_status_due", "status", "promised_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    promised_on: Mapped[dt.date]  # pay by this business day
    made_on: Mapped[dt.date]
    recorded_by: Mapped[str] = mapped_column(String(100))
    visit_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("visits.id"))
    status: Mapped[str] = mapped_column(String(10), default=PromiseStatus.open)
    checked_on: Mapped[dt.date | None]  # when it was found kept or broken
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class PlanStatus(StrEnum):
    active = "active"
    completed = "completed"
    broken = "broken"
    cancelled = "cancelled"


class PayPlan(db.Model):
    """An agreed schedule of installments for a customer's arrears (分期还款)."""

    __tablename__ = "pay_plans"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    created_on: Mapped[dt.date]
    created_by: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default=PlanStatus.active)
    closed_on: Mapped[dt.date | None]  # completed, broken or cancelled on
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class PayPlanInstallment(db.Model):
    __tablename__ = "pay_plan_installments"
    __table_args__ = (UniqueConstraint("plan_id", "seq"), Index("ix_installments_due", "due_on"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("pay_plans.id"))
    seq: Mapped[int]
    due_on: Mapped[dt.date]
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class WorkStatus(StrEnum):
    open = "open"
    done = "done"
    dismissed = "dismissed"  # superseded (the customer paid, the plan ended) before anyone acted


class WorkItem(db.Model):
    """One action due for a customer on a day: call, visit, notice, follow-up on a promise or plan, early
    warning. Built nightly (idempotent on its natural key) and done by an officer with an outcome."""

    __tablename__ = "work_items"
    __table_args__ = (
        UniqueConstraint("customer_id", "kind", "reason", "due_on"),
        Index("ix_work_items_status_due", "status", "due_on"),
        Index("ix_work_items_assigned_to", "assigned_to"),  # the items assigned to someone (worklist visibility)
        Index("ix_work_items_done_at", "done_at"),  # what was done today
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    due_on: Mapped[dt.date]
    kind: Mapped[str] = mapped_column(String(20))  # call | visit | notice | promise_followup | plan_followup
    reason: Mapped[str] = mapped_column(String(40))  # why: segment_frequency | promise_due | early_warning_… | …
    priority_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # expected recoverable amount
    assigned_to: Mapped[str | None] = mapped_column(String(100))  # username; None: whoever works the grid
    status: Mapped[str] = mapped_column(String(10), default=WorkStatus.open)
    outcome: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)
    # An early warning called back: what caused it (worklist.day.CAUSES), the telecom practice of 100% callback.
    cause: Mapped[str | None] = mapped_column(String(30))
    done_by: Mapped[str | None] = mapped_column(String(100))
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    source_type: Mapped[str | None] = mapped_column(String(20))  # promise | pay_plan | dunning | …
    source_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


# ---------------------------------------------------------------- the dunning ladder (催费流程)


class DunningState(db.Model):
    """Where a customer stands on the dunning ladder, recomputed every night from the open items.

    No row: no step reached (nothing owed, or paid since). `due_on` is the oldest unpaid (not held)
    bill's due date the step counts from; `exemption` says why a disconnection step was withheld."""

    __tablename__ = "dunning_states"
    __table_args__ = (Index("ix_dunning_states_step", "step"),)

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True, autoincrement=False)
    step: Mapped[str] = mapped_column(String(40))
    since: Mapped[dt.date]  # the night the customer reached this step (for this due date)
    due_on: Mapped[dt.date]
    overdue_fen: Mapped[int] = mapped_column(BigInteger)
    exemption: Mapped[str | None] = mapped_column(String(20))  # critical_load | good_credit
    updated_on: Mapped[dt.date]


class DunningChange(db.Model):
    """One change of a customer's ladder step (the audit trail of the nightly recomputation)."""

    __tablename__ = "dunning_changes"
    __table_args__ = (Index("ix_dunning_changes_customer_on", "customer_id", "changed_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    changed_on: Mapped[dt.date]
    from_step: Mapped[str | None] = mapped_column(String(40))
    to_step: Mapped[str | None] = mapped_column(String(40))  # None: dropped off the ladder (paid)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)


class ExemptionKind(StrEnum):
    critical_load = "critical_load"  # hospitals, water works …: never disconnected for arrears


class CollectionExemption(db.Model):
    """A supervisor's exemption of a customer from disconnection, with a reason and validity dates."""

    __tablename__ = "collection_exemptions"
    __table_args__ = (Index("ix_collection_exemptions_customer", "customer_id", "valid_from"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(20))  # ExemptionKind
    reason: Mapped[str] = mapped_column(String(500))
    valid_from: Mapped[dt.date]
    valid_until: Mapped[dt.date | None]  # the last day in force; None: until revoked
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    revoked_on: Mapped[dt.date | None]


class BillHold(db.Model):
    """A disputed bill on hold: the ladder ignores it from `placed_on` until the day before `released_on`.
    A complaint registered against the bill places its hold and releases it when it is resolved."""

    __tablename__ = "bill_holds"
    __table_args__ = (Index("ix_bill_holds_bill", "bill_id", "placed_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    bill_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("bills.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    placed_on: Mapped[dt.date]
    placed_by: Mapped[str] = mapped_column(String(100))
    released_on: Mapped[dt.date | None]
    released_by: Mapped[str | None] = mapped_column(String(100))
    # The complaint that holds the bill (recovery.disputes); None: a hold placed by hand.
    dispute_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("disputes.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
