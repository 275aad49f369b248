"""Request and response shapes of the security API: deposits, guarantees, required versus held security."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from recovery.bounds import BoundedDate, BoundedDateTime
from recovery.credit.security.models import GuaranteeKind
from recovery.customers.schemas import YUAN, In, Yuan


class DepositRequestIn(In):
    amount = fields.String(validate=YUAN, metadata={"description": "Yuan; default: the top-up to the recommended "
                                                                   "deposit"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class ReceiptIn(In):
    amount = fields.String(required=True, validate=YUAN)
    reference = fields.String(required=True, validate=validate.Length(min=1, max=64))
    received_on = BoundedDate(metadata={"description": "Business date; default today"})


class PayOutIn(In):
    amount = fields.String(validate=YUAN, metadata={"description": "Yuan; default: all that may be paid out"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class GuaranteeIn(In):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in GuaranteeKind]))
    guarantor = fields.String(required=True, validate=validate.Length(min=1, max=200))
    reference = fields.String(required=True, validate=validate.Length(min=1, max=64))
    amount = fields.String(required=True, validate=YUAN)
    valid_from = BoundedDate(required=True)
    valid_until = BoundedDate(required=True)
    note = fields.String(validate=validate.Length(max=500))


class ReasonIn(In):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class DepositEntryOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    amount = Yuan(attribute="amount_fen")
    effective_on = BoundedDate()
    reference = fields.String(allow_none=True)
    approval_id = fields.Integer(allow_none=True)
    created_by = fields.String()
    posted_at = BoundedDateTime()


class DepositOut(Schema):
    id = fields.Integer()
    status = fields.String()
    requested = Yuan(attribute="requested_fen")
    held = Yuan(attribute="held_fen")
    requested_on = BoundedDate()
    received_on = BoundedDate(allow_none=True)
    reason = fields.String(allow_none=True)
    entries = fields.List(fields.Nested(DepositEntryOut))


class GuaranteeOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    guarantor = fields.String()
    reference = fields.String()
    amount = Yuan(attribute="amount_fen")
    valid_from = BoundedDate()
    valid_until = BoundedDate()
    status = fields.String()
    called = Yuan(attribute="called_fen", allow_none=True)
    note = fields.String(allow_none=True)


class ApprovalOut(Schema):
    request_id = fields.Integer(attribute="id")
    kind = fields.String()
    subject_type = fields.String()
    subject_id = fields.String()
    status = fields.String()
    amount = Yuan(attribute="payload.amount_fen", allow_none=True)
    reason = fields.String()
    requested_by = fields.String()


class SecurityOut(Schema):
    customer_id = fields.String()
    grade = fields.String(allow_none=True)
    cash_only = fields.Boolean()
    qualification = fields.String(allow_none=True, metadata={"description": "Latest qualification outcome"})
    months_billed = fields.Integer()
    recommended = Yuan(attribute="recommended_fen")
    required = Yuan(attribute="required_fen")
    held_cash = Yuan(attribute="held_cash_fen")
    held_guarantees = Yuan(attribute="held_guarantees_fen")
    shortfall = Yuan(attribute="shortfall_fen")
    within_tolerance = fields.Boolean()


class QualificationOut(Schema):
    id = fields.Integer()
    reviewed_on = BoundedDate()
    outcome = fields.String(metadata={"description": "none | deposit | guarantee | prepayment"})
    findings = fields.List(fields.String())
    identity_valid = fields.Boolean()
    registered_capital = Yuan(attribute="registered_capital_fen", allow_none=True)
    threshold = Yuan(attribute="threshold_fen", allow_none=True)
    reviewed_by = fields.String()
