"""Policy section [big_customers]: who is a big customer, how soon a new one is contacted, and the account
manager's call that starts their dunning ladder.

    [big_customers]
    monthly_bill = "3000.00"     # yuan: a monthly bill over this makes a big customer (strategic ones always are)
    contact_hours = 24           # a new big customer is contacted within this many hours
    manager_call_days = 5        # the account manager calls this many days before the due date
    manager_call_min = "0.01"    # yuan owed for the call to be made

The monthly bill is the average of the bills issued in the 365 days up to the day (integer fen, rounded
down; the customer segments' figure), so one seasonal peak does not make a big customer.
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, validate

from recovery import policy
from recovery.errors import Invalid
from recovery.money import parse_yuan


def _yuan(value: str) -> None:
    try:
        parse_yuan(value)
    except Invalid as e:
        raise ValidationError(e.message) from e


class BigCustomersPolicySchema(Schema):
    """[big_customers]: the monthly bill that makes a big customer, the first-contact deadline, the manager's call."""

    monthly_bill = fields.String(load_default="3000.00", validate=_yuan)
    contact_hours = fields.Integer(load_default=24, validate=validate.Range(min=1, max=24 * 30))
    manager_call_days = fields.Integer(load_default=5, validate=validate.Range(min=1, max=60))
    manager_call_min = fields.String(load_default="0.01", validate=_yuan)

    @post_load
    def _resolve(self, data, **_kw):
        return {**data, "monthly_bill_fen": parse_yuan(data["monthly_bill"]),
                "manager_call_min_fen": max(parse_yuan(data["manager_call_min"]), 1)}


def big_policy() -> dict:
    """The [big_customers] section in force."""
    return policy.section("big_customers")
