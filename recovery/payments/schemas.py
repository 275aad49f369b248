"""The partner-agent API's request and response shapes (contracts.md)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from recovery.bounds import BoundedDateTime
from recovery.money import YUAN_PATTERN


class AgentPaymentIn(Schema):
    class Meta:
        unknown = EXCLUDE  # the contract may grow optional fields; older servers ignore them

    customer_id = fields.String(required=True, validate=validate.Length(min=1, max=32))
    amount = fields.String(required=True, validate=validate.Regexp(
        YUAN_PATTERN, error="amount must be a yuan string with at most two decimals, e.g. \"120.50\""))
    channel_ref = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9_.:/-]{1,64}\Z", error="channel_ref must be 1-64 letters, digits or _ . : / -"))
    paid_at = BoundedDateTime(required=True, format="iso", error_messages={
        "invalid": "paid_at must be an ISO 8601 timestamp", "invalid_awareness": "paid_at must carry its offset"})


class AllocationOut(Schema):
    bill_id = fields.String()
    amount = fields.String()


class AgentPaymentOut(Schema):
    payment_id = fields.String()
    customer_id = fields.String()
    amount = fields.String()
    channel_ref = fields.String()
    paid_at = fields.String()
    status = fields.String()
    allocations = fields.List(fields.Nested(AllocationOut))
    balance = fields.String()
