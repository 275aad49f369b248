"""Policy section [dunning]: the ladder of collection steps, the exemptions, and the pay-plan grace.

    [[dunning.steps]]                     # the default ladder, in order of `days`:
    name = "reminder_sms"                 #   reminder_sms        -3  sms
    days = -3                             #   overdue_notice      +1  sms
    channel = "sms"                       #   final_notice       +15  letter
    min_amount = "0.01"                   #   disconnection_order +30  disconnection_order
    text = "…"                            # the notice's text ({due_on} is the bill's due date)

A step is reached when the oldest unpaid bill (bills on hold left out) fell due `days` days ago or
more (negative: falls due within that many days) and the customer owes at least `min_amount` yuan:
the overdue part for steps after the due date, everything billed and unpaid for steps on or before
it. Channels: sms and letter write a notice, officer a work item, disconnection_order a
disconnection order (and a letter). Customers whose credit grade is in `good_credit_grades`
(欠费不停机) or who hold a critical-load exemption get the notices but never a disconnection order.

    good_credit_grades = ["AAA", "AA", "A"]
    reconnection_text = "…"               # the notice when a disconnected customer has cleared the arrears
    plan_grace_days = 5                   # a plan is broken when payments fall short of the installments
                                          # due more than this many days ago
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from recovery import policy
from recovery.errors import Invalid
from recovery.money import parse_yuan

CHANNELS = ("sms", "letter", "officer", "disconnection_order")

DEFAULT_STEPS = [
    {"name": "reminder_sms", "days": -3, "channel": "sms",
     "text": "Reminder: your electricity bill falls due on {due_on}. Please pay on time."},
    {"name": "overdue_notice", "days": 1, "channel": "sms",
     "text": "Your electricity bill due on {due_on} is overdue. Please pay now to avoid late-payment penalties."},
    {"name": "final_notice", "days": 15, "channel": "letter",
     "text": "Final notice: your electricity bill due on {due_on} is still unpaid. Unless it is paid, supply may "
             "be disconnected according to the supply rules."},
    {"name": "disconnection_order", "days": 30, "channel": "disconnection_order",
     "text": "Notice of disconnection: your electricity bill due on {due_on} remains unpaid and supply will be "
             "disconnected. Pay now to keep your supply."},
]
RECONNECTION_TEXT = "Thank you for your payment: your arrears are cleared and supply is being reconnected."


@dataclass(frozen=True)
class Step:
    name: str
    days: int
    channel: str
    min_fen: int
    text: str

    @property
    def disconnects(self) -> bool:
        return self.channel == "disconnection_order"


def _yuan(value: str) -> None:
    try:
        parse_yuan(value)
    except Invalid as e:
        raise ValidationError(e.message) from e


class StepSchema(Schema):
    name = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,39}$"))
    days = fields.Integer(required=True, validate=validate.Range(min=-60, max=3650))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    min_amount = fields.String(load_default="0.01", validate=_yuan)
    text = fields.String(load_default="", validate=validate.Length(max=500))


class DunningPolicySchema(Schema):
    """[dunning]: the ladder's steps, the grades exempt from disconnection, the pay-plan grace days."""

    steps = fields.List(fields.Nested(StepSchema), load_default=lambda: [dict(s) for s in DEFAULT_STEPS])
    good_credit_grades = fields.List(fields.String(), load_default=lambda: ["AAA", "AA", "A"])
    reconnection_text = fields.String(load_default=RECONNECTION_TEXT, validate=validate.Length(min=1, max=500))
    plan_grace_days = fields.Integer(load_default=5, validate=validate.Range(min=0, max=90))

    @validates_schema
    def _check(self, data, **_kw):
        names = [s["name"] for s in data.get("steps", [])]
        if len(set(names)) != len(names):
            raise ValidationError("step names must be distinct", "steps")
        days = [s["days"] for s in data.get("steps", [])]
        if len(set(days)) != len(days):
            raise ValidationError("two steps on the same day: give each step its own `days`", "steps")
        if any(s["channel"] == "disconnection_order" and s["days"] < 1 for s in data.get("steps", [])):
            raise ValidationError("a disconnection order comes after the due date (days >= 1)", "steps")

    @post_load
    def _defaults(self, data, **_kw):
        data["steps"] = [{"min_amount": "0.01", "text": "", **s} for s in data["steps"]]
        return data


def ladder(rules: dict) -> tuple[Step, ...]:
    """The section's steps as Step, in order of days."""
    return tuple(
        Step(s["name"], s["days"], s["channel"], max(parse_yuan(s["min_amount"]), 1),
             s["text"] or f"Electricity bill due on {{due_on}}: {s['name'].replace('_', ' ')}.")
        for s in sorted(rules["steps"], key=lambda s: s["days"]))


def dunning_policy() -> dict:
    """The [dunning] section in force."""
    return policy.section("dunning")
