"""JSON shapes of the credit API: ratings, their history and reasons, overrides, settlement terms."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from recovery.bounds import BoundedDate
from recovery.customers.schemas import Instant


class DemeritSchema(Schema):
    kind = fields.String(metadata={"description": "late_payment, missed_bill, returned_payment, broken_pay_plan, "
                                                  "violation, theft or disconnection"})
    on = fields.String(metadata={"description": "date, YYYY-MM-DD"})
    points = fields.Integer(metadata={"description": "negative: points taken off"})
    expires_on = fields.String(metadata={"description": "the first day it no longer counts, YYYY-MM-DD"})
    days_late = fields.Integer()
    bill = fields.Integer(metadata={"description": "internal bill id, for late payments and missed bills"})


class RuleHitSchema(Schema):
    rule = fields.String(metadata={"description": "e.g. theft_within_24m, arrears_months_this_year, cash_only"})
    cap = fields.String()
    blocks_upgrade = fields.Boolean()
    event_on = fields.String(metadata={"description": "date, YYYY-MM-DD"})
    until = fields.String(metadata={"description": "date, YYYY-MM-DD"})
    count = fields.Integer()


class ReasonsSchema(Schema):
    start = fields.Integer(metadata={"description": "the starting points before demerits"})
    demerits = fields.List(fields.Nested(DemeritSchema))
    rules = fields.List(fields.Nested(RuleHitSchema))


class RatingRowSchema(Schema):
    rated_on = BoundedDate()
    points = fields.Integer()
    points_grade = fields.String(metadata={"description": "the grade the points alone give"})
    grade = fields.String(metadata={"description": "the grade after the hard rules"})
    cash_only = fields.Boolean()
    upgrade_blocked = fields.Boolean()
    reasons = fields.Nested(ReasonsSchema)


class OverrideSchema(Schema):
    id = fields.Integer()
    grade = fields.String()
    reason = fields.String()
    starts_on = BoundedDate()
    expires_on = BoundedDate(metadata={"description": "the last day the override is in force"})
    set_by = fields.String()
    set_at = Instant()
    revoked_by = fields.String(allow_none=True)
    revoked_at = Instant(allow_none=True)
    revoke_reason = fields.String(allow_none=True)


class RatingSchema(Schema):
    customer_id = fields.String()
    grade = fields.String(metadata={"description": "the grade in force today (an unexpired override wins)"})
    points = fields.Integer()
    cash_only = fields.Boolean()
    overridden = fields.Boolean()
    override = fields.Nested(OverrideSchema, allow_none=True)
    computed = fields.Nested(RatingRowSchema, allow_none=True,
                             metadata={"description": "the latest computed rating; null when never rated"})
    terms = fields.String(metadata={"description": "postpaid, prepayment or split"})


class OverrideIn(Schema):
    grade = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    expires_on = BoundedDate(required=True, metadata={"description": "last day in force, YYYY-MM-DD"})


class TermsSchema(Schema):
    customer_id = fields.String()
    terms = fields.String()
    basis = fields.String(allow_none=True, metadata={"description": "rating, size, qualification or manual"})
    since = BoundedDate(allow_none=True)
    pending = fields.Dict(allow_none=True, metadata={"description": "a proposal waiting for a supervisor"})


class TermsIn(Schema):
    terms = fields.String(required=True, validate=validate.OneOf(["postpaid", "prepayment", "split"]))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
