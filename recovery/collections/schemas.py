"""Request and response shapes of the collections API: visits, promises, pay plans, the dunning state,
exemptions, holds and disconnection orders. Amounts are yuan strings."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from recovery.bounds import BoundedDate, BoundedDateTime, BoundedInteger
from recovery.collections.models import ContactKind, ExemptionKind
from recovery.collections.visits import OUTCOMES
from recovery.customers.schemas import YUAN, Yuan


class _In(Schema):
    class Meta:
        unknown = EXCLUDE


class VisitIn(_In):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in ContactKind]),
                         metadata={"description": "visit (on site) | call"})
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    note = fields.String(validate=validate.Length(max=2000))
    next_step = fields.String(validate=validate.Length(max=200))
    next_on = BoundedDate(metadata={"description": "When the next step is due"})
    at = BoundedDateTime(metadata={"description": "When it took place; default now"})


class VisitOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    officer = fields.String()
    at = BoundedDateTime(attribute="visited_at")
    outcome = fields.String()
    note = fields.String(allow_none=True)
    next_step = fields.String(allow_none=True)
    next_on = BoundedDate(allow_none=True)


class PromiseIn(_In):
    amount = fields.String(required=True, validate=YUAN)
    promised_on = BoundedDate(required=True, metadata={"description": "Pay by this business day"})
    visit_id = BoundedInteger(minimum=1, metadata={"description": "The visit or call the promise was made on"})


class PromiseOut(Schema):
    id = fields.Integer()
    amount = Yuan(attribute="amount_fen")
    promised_on = BoundedDate()
    made_on = BoundedDate()
    recorded_by = fields.String()
    visit_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"description": "open | kept | broken | cancelled"})
    checked_on = BoundedDate(allow_none=True)


class InstallmentIn(_In):
    due_on = BoundedDate(required=True)
    amount = fields.String(required=True, validate=YUAN)


class PayPlanIn(_In):
    total = fields.String(validate=YUAN, metadata={"description": "Checked against the installments' sum"})
    installments = fields.List(fields.Nested(InstallmentIn), required=True, validate=validate.Length(min=1, max=36))
    note = fields.String(validate=validate.Length(max=2000))


class InstallmentOut(Schema):
    seq = fields.Integer()
    due_on = BoundedDate()
    amount = Yuan(attribute="amount_fen")


class PayPlanOut(Schema):
    id = fields.Integer(attribute="plan.id")
    total = Yuan(attribute="plan.total_fen")
    created_on = BoundedDate(attribute="plan.created_on")
    created_by = fields.String(attribute="plan.created_by")
    status = fields.String(attribute="plan.status", metadata={"description": "active | completed | broken | "
                                                                              "cancelled"})
    closed_on = BoundedDate(attribute="plan.closed_on", allow_none=True)
    note = fields.String(attribute="plan.note", allow_none=True)
    paid = Yuan(attribute="paid_fen", metadata={"description": "Paid since the plan was made"})
    installments = fields.List(fields.Nested(InstallmentOut))


class CancelReasonIn(_In):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class ExemptionIn(_In):
    kind = fields.String(load_default=ExemptionKind.critical_load.value,
                         validate=validate.OneOf([k.value for k in ExemptionKind]))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    valid_from = BoundedDate(metadata={"description": "Default today"})
    valid_until = BoundedDate(metadata={"description": "Last day in force; default until revoked"})


class ExemptionOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    reason = fields.String()
    valid_from = BoundedDate()
    valid_until = BoundedDate(allow_none=True)
    set_by = fields.String()
    revoked_on = BoundedDate(allow_none=True)


class HoldIn(_In):
    bill_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class HoldOut(Schema):
    id = fields.Integer()
    bill_id = fields.String(attribute="bill_code")
    reason = fields.String()
    placed_on = BoundedDate()
    placed_by = fields.String()
    released_on = BoundedDate(allow_none=True)


class OrderOut(Schema):
    id = fields.Integer()
    customer_id = fields.String(attribute="customer_code")
    reason = fields.String()
    source = fields.String(metadata={"description": "collections | prepaid"})
    ordered_on = BoundedDate()
    status = fields.String(metadata={"description": "open | executed | cancelled"})
    closed_on = BoundedDate(allow_none=True)
    approval_request_id = fields.Integer(allow_none=True, metadata={
        "description": "the request to carry the order out, while it waits for a supervisor"})
    requested_by = fields.String(allow_none=True)


class ExecuteIn(_In):
    note = fields.String(load_default=None, validate=validate.Length(max=500),
                         metadata={"description": "why the order should be carried out, for the approver"})


class ExecuteOut(Schema):
    order = fields.Nested(OrderOut)
    outcome = fields.String(metadata={"description": "awaiting_approval (a supervisor other than the requester "
                                                     "decides it) | cancelled (the customer has paid, or is exempt)"})
    reason = fields.String()
    request_id = fields.Integer(allow_none=True, metadata={"description": "the approval request filed"})


class OrderArgs(_In):
    status = fields.String(load_default="open", validate=validate.OneOf(["open", "executed", "cancelled"]))


class NoticeOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    channel = fields.String(allow_none=True)
    body = fields.String()
    created_at = BoundedDateTime()
    sent_at = BoundedDateTime(allow_none=True)
    attempts = fields.Integer()


class DunningOut(Schema):
    customer_id = fields.String()
    step = fields.String(allow_none=True, metadata={"description": "The ladder step reached; null: none"})
    since = BoundedDate(allow_none=True)
    due_on = BoundedDate(allow_none=True, metadata={"description": "The oldest open bill's due date"})
    overdue = Yuan(attribute="overdue_fen", allow_none=True)
    exemption = fields.String(allow_none=True, metadata={"description": "critical_load | good_credit"})
    notices = fields.List(fields.Nested(NoticeOut))
    orders = fields.List(fields.Nested(OrderOut))
    exemptions = fields.List(fields.Nested(ExemptionOut))
    holds = fields.List(fields.Nested(HoldOut))
