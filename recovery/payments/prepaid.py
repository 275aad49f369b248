"""Prepayment (预购电): prepaid customers hold a balance; a low balance is warned of, a negative one
stops supply, and a stop that lasts past the grace period becomes a disconnection order.

The balance is the customer's credit on the ledger (payments less bills: the billing system sends a
prepaid customer's consumption as bills), never a stored number. `monitor` is the nightly job
`payments.prepaid_monitor`: set-based over every prepaid account, idempotent for a day. Decisions
read the latest ledger (provisional payments included), so a customer who has topped up since the
day in question, or whose bank's data arrived late, is neither stopped nor ordered disconnected.
"""

from __future__ import annotations

import datetime as dt

from marshmallow import Schema, ValidationError, fields, post_load, validate
from sqlalchemy import and_, case, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session

from recovery import bulk, policy
from recovery.audit import service as audit
from recovery.collections.models import DisconnectionOrder, OrderStatus
from recovery.customers.models import Customer
from recovery.errors import Conflict, DomainError, NotFound
from recovery.ledger.models import LedgerEntry
from recovery.money import format_yuan, parse_yuan
from recovery.notifications import service as notices
from recovery.notifications.models import Notification
from recovery.payments.models import PrepaidAccount, PrepaidStatus
from recovery.timeutil import now, today

ORDER_REASON = "prepaid_negative_balance"


def _yuan(value: str) -> None:
    try:
        parse_yuan(value, allow_negative=True)
    except DomainError as e:
        raise ValidationError(e.message) from e


class PrepaymentPolicySchema(Schema):
    """[prepayment] in the policy: warn below `warn_below` yuan, stop below `stop_below`, and order
    disconnection when stopped for `order_after_days` days (defaults: 50.00, 0.00, 7)."""

    warn_below = fields.String(load_default="50.00", validate=_yuan)
    stop_below = fields.String(load_default="0.00", validate=_yuan)
    order_after_days = fields.Integer(load_default=7, validate=validate.Range(min=0))

    @post_load
    def _fen(self, data, **_kw):
        data["warn_below_fen"] = parse_yuan(data["warn_below"], allow_negative=True)
        data["stop_below_fen"] = parse_yuan(data["stop_below"], allow_negative=True)
        if data["stop_below_fen"] > data["warn_below_fen"]:
            raise ValidationError("stop_below must not be above warn_below")
        return data


def enrol(session: Session, customer_code: str, *, opened_on: dt.date | None = None) -> PrepaidAccount:
    """Put a customer on prepayment (e.g. after a qualification review); audited."""
    customer = session.scalar(select(Customer).where(Customer.code == customer_code))
    if customer is None:
        raise NotFound(f"no customer {customer_code}", code="customer_not_found")
    if session.scalar(select(PrepaidAccount.id).where(PrepaidAccount.customer_id == customer.id)):
        raise Conflict(f"customer {customer_code} is already on prepayment")
    account = PrepaidAccount(customer_id=customer.id, opened_on=opened_on or today(), status=PrepaidStatus.active)
    session.add(account)
    audit.record(session, "prepaid.enrol", "customer", customer_code, opened_on=account.opened_on.isoformat())
    return account


def balances(day: dt.date):
    """One row per prepaid account opened by `day`: customer_id, credit_fen (the balance at the end of
    `day`) and latest_fen (the balance on the latest data, entries dated after `day` included)."""
    credit = -func.coalesce(func.sum(case((LedgerEntry.effective_on <= day, LedgerEntry.amount_fen), else_=0)), 0)
    latest = -func.coalesce(func.sum(LedgerEntry.amount_fen), 0)
    return (
        select(PrepaidAccount.customer_id, credit.label("credit_fen"), latest.label("latest_fen"))
        .join(LedgerEntry, LedgerEntry.customer_id == PrepaidAccount.customer_id, isouter=True)
        .where(PrepaidAccount.opened_on <= day)
        .group_by(PrepaidAccount.customer_id)
    )


def balance_of(session: Session, customer_code: str) -> dict:
    """A prepaid customer's account state and balance on the latest data."""
    row = session.execute(
        select(Customer.code, PrepaidAccount.status, PrepaidAccount.warned_on, PrepaidAccount.stopped_since,
               -func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
        .join(PrepaidAccount, PrepaidAccount.customer_id == Customer.id)
        .join(LedgerEntry, LedgerEntry.customer_id == Customer.id, isouter=True)
        .where(Customer.code == customer_code)
        .group_by(Customer.code, PrepaidAccount.status, PrepaidAccount.warned_on, PrepaidAccount.stopped_since)
    ).one_or_none()
    if row is None:
        raise NotFound(f"customer {customer_code} is not on prepayment")
    code, status, warned_on, stopped_since, balance = row
    return {"customer_id": code, "status": status, "balance": format_yuan(int(balance)),
            "warned_on": warned_on.isoformat() if warned_on else None,
            "stopped_since": stopped_since.isoformat() if stopped_since else None}


def monitor(session: Session, day: dt.date) -> dict:
    """The nightly prepaid run for `day`: recover, warn, stop, order disconnection. Does not commit."""
    rules = policy.section("prepayment")
    warn, stop, grace = rules["warn_below_fen"], rules["stop_below_fen"], rules["order_after_days"]
    tmp = bulk.temp_table(session, "prepaid_balances",
                          {"customer_id": bulk.ID, "credit_fen": bulk.FEN, "latest_fen": bulk.FEN})
    session.execute(insert(tmp).from_select(["customer_id", "credit_fen", "latest_fen"], balances(day)))
    b = tmp.c

    def where_balance(condition):
        return PrepaidAccount.customer_id.in_(select(b.customer_id).where(condition))

    # Paid back above the stop level (on the latest data): supply resumes and a pending order is withdrawn.
    session.execute(update(PrepaidAccount)
                    .where(PrepaidAccount.status == PrepaidStatus.stopped, where_balance(b.latest_fen >= stop))
                    .values(status=PrepaidStatus.active, stopped_since=None))
    session.execute(update(DisconnectionOrder)
                    .where(DisconnectionOrder.status == OrderStatus.open, DisconnectionOrder.source == "prepaid",
                           DisconnectionOrder.customer_id.in_(select(b.customer_id).where(b.latest_fen >= stop)))
                    .values(status=OrderStatus.cancelled, closed_on=day))
    # Back above the warning level: the next drop is warned of again.
    session.execute(update(PrepaidAccount)
                    .where(PrepaidAccount.warned_on.is_not(None), where_balance(b.latest_fen >= warn))
                    .values(warned_on=None))

    low = and_(PrepaidAccount.warned_on.is_(None), where_balance((b.credit_fen < warn) & (b.latest_fen < warn)))
    _notify(session, low, "prepaid.low_balance", notices.text("prepaid.low_balance", amount=format_yuan(warn)))
    session.execute(update(PrepaidAccount).where(low).values(warned_on=day))

    negative = and_(PrepaidAccount.status == PrepaidStatus.active,
                    where_balance((b.credit_fen < stop) & (b.latest_fen < stop)))
    _notify(session, negative, "prepaid.stopped",
            notices.text("prepaid.stopped", amount=format_yuan(stop), days=grace))
    session.execute(update(PrepaidAccount).where(negative).values(status=PrepaidStatus.stopped, stopped_since=day))

    # Stopped for the whole grace period and still below the stop level: one open order, never two.
    open_order = exists().where(DisconnectionOrder.customer_id == PrepaidAccount.customer_id,
                                DisconnectionOrder.status == OrderStatus.open)
    session.execute(insert(DisconnectionOrder).from_select(
        ["customer_id", "reason", "ordered_on", "status", "source", "created_at"],
        select(PrepaidAccount.customer_id, literal(ORDER_REASON), literal(day, DisconnectionOrder.ordered_on.type),
               literal(OrderStatus.open.value), literal("prepaid"), literal(now(), DisconnectionOrder.created_at.type))
        .where(PrepaidAccount.status == PrepaidStatus.stopped,
               PrepaidAccount.stopped_since <= day - dt.timedelta(days=grace),
               where_balance(b.latest_fen < stop), ~open_order)))

    def count(*where) -> int:
        return session.scalar(select(func.count()).select_from(PrepaidAccount).where(*where)) or 0

    return {
        "day": day.isoformat(),
        "accounts": session.scalar(select(func.count()).select_from(tmp)) or 0,
        "warned": count(PrepaidAccount.warned_on == day),
        "stopped": count(PrepaidAccount.stopped_since == day),
        "stopped_total": count(PrepaidAccount.status == PrepaidStatus.stopped),
        "disconnection_orders": session.scalar(select(func.count()).select_from(DisconnectionOrder).where(
            DisconnectionOrder.ordered_on == day, DisconnectionOrder.source == "prepaid")) or 0,
    }


def _notify(session: Session, accounts, kind: str, body: str) -> None:
    """One outbox message to each customer of the selected accounts (one INSERT ... SELECT)."""
    session.execute(insert(Notification).from_select(
        ["recipient", "kind", "subject_type", "subject_id", "body", "created_at"],
        select(literal("customer:") + Customer.code, literal(kind), literal("customer"), Customer.code,
               literal(body), literal(now(), Notification.created_at.type))
        .join(PrepaidAccount, PrepaidAccount.customer_id == Customer.id).where(accounts)))
