"""Request and response shapes of the kiosk API and the staff card and counter API."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from recovery.bounds import BoundedDate
from recovery.payments.schemas import YUAN_PATTERN, AgentPaymentIn, AgentPaymentOut

TENDER = validate.OneOf(["cash", "card"], error="tender must be cash or card")
YUAN = validate.Regexp(YUAN_PATTERN, error="must be a yuan string with at most two decimals, e.g. \"120.50\"")


class KioskPaymentIn(AgentPaymentIn):
    tender = fields.String(required=True, validate=TENDER)


class KioskPaymentOut(AgentPaymentOut):
    kiosk_id = fields.String()
    receipt_no = fields.String()
    tender = fields.String()


class RedeemIn(Schema):
    class Meta:
        unknown = EXCLUDE

    serial = fields.String(required=True, validate=validate.Length(min=1, max=40))
    pin = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{16}\Z", error="a PIN is 16 digits"))
    customer_id = fields.String(required=True, validate=validate.Length(min=1, max=32))


class RedeemOut(AgentPaymentOut):
    serial = fields.String()
    batch = fields.String()
    receipt_no = fields.String()
    face_value = fields.String()


class DrawerOpenIn(Schema):
    opening_float = fields.String(required=True, validate=YUAN)


class DrawerCloseIn(Schema):
    counted = fields.String(required=True, validate=YUAN)


class DrawerOut(Schema):
    cashier = fields.String()
    business_day = BoundedDate()
    status = fields.String()
    opening_float = fields.String()
    counted = fields.String(allow_none=True)
    opened_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    payments = fields.Integer()


class CounterPaymentIn(Schema):
    class Meta:
        unknown = EXCLUDE

    customer_id = fields.String(required=True, validate=validate.Length(min=1, max=32))
    amount = fields.String(required=True, validate=YUAN)
    tender = fields.String(required=True, validate=TENDER)
    channel_ref = fields.String(validate=validate.Regexp(
        r"^[A-Za-z0-9_.:/-]{1,64}\Z", error="channel_ref must be 1-64 letters, digits or _ . : / -"))


class CounterPaymentOut(AgentPaymentOut):
    cashier = fields.String()
    receipt_no = fields.String()
    tender = fields.String()
