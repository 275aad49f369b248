"""The portfolio's JSON shapes: the risk list's arguments, customers with their position, bills, payments and
ledger entries."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from recovery.bounds import INT64_MAX, BoundedDate, BoundedInteger
from recovery.customers.models import CustomerClass
from recovery.customers.schemas import Instant, Yuan
from recovery.portfolio.service import AGE_BUCKETS

PAGE_SIZE_MAX = 500


class PageArgs(Schema):
    # The highest page whose offset ((page - 1) x the largest page size) a 64-bit integer still holds.
    page = BoundedInteger(load_default=1, minimum=1, maximum=INT64_MAX // PAGE_SIZE_MAX)
    page_size = BoundedInteger(load_default=50, minimum=1, maximum=PAGE_SIZE_MAX)
    sort = fields.String(load_default="overdue",
                         validate=validate.OneOf(["customer_id", "name", "grid", "balance", "overdue", "days_overdue",
                                                  "pd", "expected_loss"]))
    order = fields.String(load_default="desc", validate=validate.OneOf(["asc", "desc"]))
    grid = fields.String()
    q = fields.String(validate=validate.Length(max=100))
    min_pd = fields.Float(validate=validate.Range(min=0, max=1),
                          metadata={"description": "only customers whose probability of default is at least this"})
    min_expected_loss_fen = Yuan(data_key="min_expected_loss",
                                 metadata={"description": "only expected losses of at least this many yuan"})
    min_overdue_fen = Yuan(data_key="min_overdue", metadata={"description": "only overdue amounts of at least this"})
    age = fields.String(validate=validate.OneOf(list(AGE_BUCKETS)),
                        metadata={"description": "days overdue: 0-30, 31-90, 91-180 or 180+"})
    customer_class = fields.String(validate=validate.OneOf([c.value for c in CustomerClass]))
    grade = fields.String(validate=validate.Length(max=8), metadata={"description": "credit grade in force"})


class CustomerSchema(Schema):
    customer_id = fields.String(attribute="code")
    name = fields.String()
    customer_class = fields.String()
    grid = fields.String()
    id_number = fields.String(allow_none=True)
    registered_capital = Yuan(attribute="registered_capital_fen", allow_none=True)
    opened_on = BoundedDate()
    phone = fields.String(allow_none=True)


class PositionSchema(CustomerSchema):
    pd = fields.Float(allow_none=True, metadata={"description": "probability of default, latest scoring run"})
    expected_loss = Yuan(attribute="expected_loss_fen", allow_none=True)
    rating = fields.String(allow_none=True)
    grade = fields.String(allow_none=True, metadata={"description": "credit grade in force"})
    balance = Yuan(attribute="balance_fen")
    overdue = Yuan(attribute="overdue_fen")
    days_overdue = fields.Integer(allow_none=True)
    oldest_due_on = BoundedDate(allow_none=True)


class CustomerPageSchema(Schema):
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()
    items = fields.List(fields.Nested(PositionSchema))


class BillSchema(Schema):
    bill_id = fields.String(attribute="code")
    period = fields.String()
    kwh = fields.Float()
    amount = Yuan(attribute="amount_fen")
    paid = Yuan(attribute="paid_fen")
    issued_on = BoundedDate()
    due_on = BoundedDate()
    settled_at = Instant(allow_none=True)


class AllocationSchema(Schema):
    bill_id = fields.String()
    amount = Yuan(attribute="amount_fen")


class PaymentSchema(Schema):
    payment_id = fields.String(attribute="code")
    channel = fields.String()
    channel_account = fields.String()
    channel_ref = fields.String()
    amount = Yuan(attribute="amount_fen")
    paid_at = Instant()
    status = fields.String(attribute="state")
    allocations = fields.List(fields.Nested(AllocationSchema))


class LedgerEntrySchema(Schema):
    entry_id = fields.Integer(attribute="id")
    kind = fields.String()
    amount = Yuan(attribute="amount_fen")
    effective_on = BoundedDate()
    posted_at = Instant()
    bill_id = fields.String(allow_none=True)
    payment_id = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    balance = Yuan(attribute="running_fen")
