"""Reads for the collection pages and API: holds, notices, exemptions, open bills and disconnection orders."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from recovery.auth.models import User
from recovery.auth.service import visible_customers
from recovery.billing.models import Bill
from recovery.collections.models import BillHold, CollectionExemption, DisconnectionOrder
from recovery.customers.models import Customer
from recovery.notifications.models import Notification

NOTICES_SHOWN = 30
OPEN_BILLS_SHOWN = 24
ORDERS_LISTED = 1000


def just_customer(customer: Customer) -> Select:
    """The customer's id alone, as a select of visible customer ids."""
    return select(Customer.id).where(Customer.id == customer.id)


def customer_code(session: Session, customer_id: int) -> str | None:
    """The code of the customer with this id."""
    return session.scalar(select(Customer.code).where(Customer.id == customer_id))


def holds_with_bill_codes(session: Session, customer: Customer) -> Sequence[Row[tuple[BillHold, str]]]:
    """The customer's bill holds with each bill's code, newest first."""
    return session.execute(select(BillHold, Bill.code).join(Bill, Bill.id == BillHold.bill_id)
                           .where(BillHold.customer_id == customer.id)
                           .order_by(BillHold.placed_on.desc(), BillHold.id.desc())).all()


def latest_notices(session: Session, customer: Customer) -> list[Notification]:
    """The latest notices about the customer, newest first."""
    return list(session.scalars(
        select(Notification).where(Notification.subject_type == "customer", Notification.subject_id == customer.code)
        .order_by(Notification.id.desc()).limit(NOTICES_SHOWN)))


def exemptions_of(session: Session, customer: Customer) -> list[CollectionExemption]:
    """The customer's exemptions from disconnection, latest start first."""
    return list(session.scalars(select(CollectionExemption).where(CollectionExemption.customer_id == customer.id)
                                .order_by(CollectionExemption.valid_from.desc())))


def open_bill_codes(session: Session, customer: Customer) -> list[str]:
    """Codes of the customer's bills with an amount due, latest due date first."""
    return list(session.scalars(select(Bill.code).where(Bill.customer_id == customer.id, Bill.amount_fen > 0)
                                .order_by(Bill.due_on.desc()).limit(OPEN_BILLS_SHOWN)))


def orders_with_codes(session: Session, user: User, status: str) -> Sequence[Row[tuple[DisconnectionOrder, str]]]:
    """Disconnection orders in this status of the customers the user sees, with each customer's code, oldest
    first."""
    return session.execute(
        select(DisconnectionOrder, Customer.code).join(Customer, Customer.id == DisconnectionOrder.customer_id)
        .where(DisconnectionOrder.status == status, DisconnectionOrder.customer_id.in_(visible_customers(user)))
        .order_by(DisconnectionOrder.ordered_on, DisconnectionOrder.id).limit(ORDERS_LISTED)).all()


def disconnection_orders(session: Session, customer: Customer) -> list[DisconnectionOrder]:
    """The customer's disconnection orders, newest first."""
    return list(session.scalars(
        select(DisconnectionOrder).where(DisconnectionOrder.customer_id == customer.id)
        .order_by(DisconnectionOrder.ordered_on.desc(), DisconnectionOrder.id.desc())
    ))
