"""Request and response shapes of the disputes API. Amounts are yuan strings, instants carry their offset."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate, validates_schema
from marshmallow import ValidationError as SchemaError

from recovery.bounds import BoundedDateTime
from recovery.customers.schemas import YUAN, Instant, Yuan
from recovery.disputes.models import DisputeChannel, DisputeKind, DisputeStatus, Remedy
from recovery.disputes.service import DESCRIPTION_LENGTH, LISTS

CODE = validate.Length(min=1, max=64)


class _In(Schema):
    class Meta:
        unknown = EXCLUDE


class DisputeIn(_In):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in DisputeKind]),
                         metadata={"description": "outage | meter_reading | wrong_amount | service"})
    channel = fields.String(required=True, validate=validate.OneOf([c.value for c in DisputeChannel]),
                            metadata={"description": "counter | phone (95598) | online | letter | visit"})
    description = fields.String(required=True, validate=validate.Length(min=1, max=DESCRIPTION_LENGTH))
    bills = fields.List(fields.String(validate=CODE), load_default=list, validate=validate.Length(max=24),
                        metadata={"description": "Codes of the disputed bills: each is held from dunning while the "
                                                 "dispute is open"})
    owner = fields.String(validate=CODE, metadata={"description": "Who must answer it; default: the customer's "
                                                                  "account manager"})
    against = fields.String(validate=CODE, metadata={"description": "The officer a service complaint is about"})
    against_agent = fields.String(validate=CODE, metadata={"description": "The partner agent the complaint is about "
                                                                          "(counted in its assessment)"})
    against_distributor = fields.String(validate=CODE, metadata={"description": "The card distributor the complaint "
                                                                                "is about"})
    raised_at = BoundedDateTime(metadata={"description": "When the customer raised it (a letter received earlier); "
                                                         "default now. The deadline runs from it."})


class ResolveIn(_In):
    outcome = fields.String(required=True, validate=validate.OneOf([DisputeStatus.upheld, DisputeStatus.rejected]))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=DESCRIPTION_LENGTH),
                           metadata={"description": "What the customer is told"})
    remedy = fields.String(validate=validate.OneOf([r.value for r in Remedy]),
                           metadata={"description": "upheld: corrected_bill | credit | none (default)"})
    bill_id = fields.String(validate=CODE, metadata={"description": "The disputed bill the remedy applies to "
                                                                    "(default: the only one)"})
    amount = fields.String(validate=YUAN, metadata={"description": "corrected_bill: the bill's right amount; "
                                                                   "credit: the yuan credited off the bill"})
    kwh = fields.Float(validate=validate.Range(min=0, max=1e12),
                       metadata={"description": "corrected_bill: the bill's right consumption (optional)"})
    against = fields.String(validate=CODE, metadata={"description": "upheld: the officer at fault (counted in the "
                                                                    "assessment)"})

    @validates_schema
    def _money(self, data, **_kw):
        if data.get("remedy") in (Remedy.corrected_bill, Remedy.credit) and not data.get("amount"):
            raise SchemaError("give the amount for this remedy", "amount")


class ReassignIn(_In):
    owner = fields.String(required=True, validate=CODE)


class DisputeArgs(Schema):
    status = fields.String(load_default="open", validate=validate.OneOf(LISTS),
                           metadata={"description": "open (default) | overdue | resolved | all"})
    owner = fields.String(validate=CODE, metadata={"description": "username; `me` for the signed-in user"})
    grid = fields.String(validate=CODE)


class CorrectionOut(Schema):
    bill_id = fields.String()
    kind = fields.String(metadata={"description": "corrected_bill | credit"})
    before = Yuan(attribute="before_fen")
    after = Yuan(attribute="after_fen")
    entry_id = fields.Integer(metadata={"description": "The adjustment ledger entry"})


class DisputeOut(Schema):
    id = fields.Integer()
    customer_id = fields.String()
    customer_name = fields.String()
    grid = fields.String()
    kind = fields.String()
    channel = fields.String()
    description = fields.String()
    owner = fields.String()
    against_officer = fields.String(allow_none=True)
    against_channel = fields.String(allow_none=True, metadata={"description": "agent | card: a partner it is about"})
    against_account = fields.String(allow_none=True, metadata={"description": "That partner's code"})
    registered_at = Instant()
    registered_by = fields.String()
    due_at = Instant(metadata={"description": "The deadline for the answer"})
    status = fields.String(metadata={"description": "open | upheld | rejected"})
    overdue = fields.Boolean(metadata={"description": "Open past its deadline"})
    late = fields.Boolean(metadata={"description": "Answered (or still open) after its deadline"})
    hours_left = fields.Float(allow_none=True, metadata={"description": "Open: hours to the deadline (negative: "
                                                                        "overdue)"})
    resolved_at = Instant(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolution = fields.String(allow_none=True)
    remedy = fields.String(allow_none=True)
    bills = fields.List(fields.String())
    correction = fields.Nested(CorrectionOut, allow_none=True)
