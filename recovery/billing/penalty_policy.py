"""Policy sections [penalty] (late-payment penalty rates) and [allocation] (what a payment settles first).

[penalty] — defaults are the national supply rules (供电营业规则, art. 98):
    rates.residential = {current_year = "0.001", earlier_years = "0.001"}   # 0.1 % per day
    rates.<any other class> = {current_year = "0.002", earlier_years = "0.003"}
    minimum = "1.00"       # yuan: a bill's penalty total above 0 but under this is charged as this
    grace_days = 0         # accrual starts on due_on + grace_days + 1
    year_of = "period"     # which year a bill's arrears belong to: its billing "period" or its "due_on"
Rates are exact decimals per day (at most 6 decimals; held as integer parts per million). A class
given in the file replaces that class's default; classes not given keep theirs.

[allocation]
    order = "bills_first" | "penalties_first" | "oldest_first"     (default "bills_first")
bills_first: payments settle every bill (oldest first) before any penalty, so a partial payment
clears the energy debt that disconnection decisions read. The supply rules do not fix an order;
the Civil Code's art. 561 default (costs, then interest, then principal) points to penalties_first,
which the policy offers, as it does oldest_first (each bill's penalty, then the bill, oldest first).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from recovery.billing.penalty_rules import PPM
from recovery.customers.models import CustomerClass
from recovery.errors import Invalid
from recovery.money import parse_yuan

DEFAULT_RATES = {
    c.value: ({"current_year": "0.001", "earlier_years": "0.001"} if c == CustomerClass.residential
              else {"current_year": "0.002", "earlier_years": "0.003"})
    for c in CustomerClass
}

ORDERS = ("bills_first", "penalties_first", "oldest_first")


def rate_ppm(text: str) -> int:
    """'0.002' -> 2000 parts per million; refuses anything that is not an exact decimal in [0, 1)."""
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise ValidationError(f"not a decimal rate: {text!r}") from None
    ppm = value * PPM
    if not value.is_finite() or ppm != ppm.to_integral_value() or not (0 <= value < 1):
        raise ValidationError(f"a daily rate is a decimal in [0, 1) with at most 6 decimals: {text!r}")
    return int(ppm)


class ClassRatesSchema(Schema):
    current_year = fields.String(required=True)
    earlier_years = fields.String(required=True)


class PenaltyPolicySchema(Schema):
    """[penalty]: daily rates per customer class, the minimum total, grace days, which year arrears belong to."""

    rates = fields.Dict(keys=fields.String(validate=validate.OneOf([c.value for c in CustomerClass])),
                        values=fields.Nested(ClassRatesSchema), load_default=dict)
    minimum = fields.String(load_default="1.00")
    grace_days = fields.Integer(load_default=0, validate=validate.Range(min=0, max=365))
    year_of = fields.String(load_default="period", validate=validate.OneOf(["period", "due_on"]))

    @validates_schema
    def _check(self, data, **_kw):
        for cls, rates in data.get("rates", {}).items():
            for key in ("current_year", "earlier_years"):
                try:
                    rate_ppm(rates[key])
                except ValidationError as e:
                    raise ValidationError(f"rates.{cls}.{key}: {e.messages[0]}") from None
        try:
            parse_yuan(data.get("minimum", "1.00"))
        except Invalid as e:
            raise ValidationError(f"minimum: {e.message}") from None

    @post_load
    def _resolve(self, data, **_kw):
        merged = DEFAULT_RATES | data["rates"]
        return {
            "rates": merged,
            "minimum": data["minimum"],
            # Derived, for the arithmetic: integer parts per million (current year, earlier years), fen.
            "rates_ppm": {cls: (rate_ppm(r["current_year"]), rate_ppm(r["earlier_years"]))
                          for cls, r in merged.items()},
            "minimum_fen": parse_yuan(data["minimum"]),
            "grace_days": data["grace_days"],
            "year_of": data["year_of"],
        }


class AllocationPolicySchema(Schema):
    """[allocation]: the order in which a payment settles bills and penalties."""

    order = fields.String(load_default="bills_first", validate=validate.OneOf(ORDERS))
