"""Policy section [dunning]: the ladder of collection steps, the exemptions, and the pay-plan grace.

    [[dunning.steps]]                     # the default ladder, in order of `days`:
    name = "reminder_sms"                 #   reminder_sms        -3  sms
    days = -3                             #   overdue_notice      +1  sms
    channel = "sms"                       #   final_notice       +15  letter
    min_amount = "0.01"                   #   disconnection_order +30  disconnection_order
    text = "…"                            # the notice's text ({due_on} is the bill's due date); left out:
                                          # the catalogue's, in the [notifications] language

A step is reached when the oldest unpaid bill (bills on hold left out) fell due `days` days ago or
more (negative: falls due within that many days) and the customer owes at least `min_amount` yuan:
the overdue part for steps after the due date, everything billed and unpaid for steps on or before
it. Channels: sms and letter write a notice, officer a work item, disconnection_order a
disconnection order (and a letter). Customers whose credit grade is in `good_credit_grades`
(欠费不停机) or who hold a critical-load exemption get the notices but never a disconnection order.

    good_credit_grades = ["AAA", "AA", "A"]
    reconnection_text = "…"               # the notice when a disconnected customer has cleared the arrears
                                          # (left out: the catalogue's)
    plan_grace_days = 5                   # a plan is broken when payments fall short of the installments
                                          # due more than this many days ago

The default texts live in recovery/notifications/texts.py, in Chinese and English; `dunning_policy()`
fills in the catalogue's text wherever the section gives none (a step the catalogue does not know
gets its generic unpaid-bill text).
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from recovery import policy
from recovery.errors import Invalid
from recovery.money import parse_yuan
from recovery.notifications import texts

CHANNELS = ("sms", "letter", "officer", "disconnection_order")

# The default ladder; its texts come from the notice catalogue (dunning.<name>) in the configured language.
DEFAULT_STEPS = [
    {"name": "reminder_sms", "days": -3, "channel": "sms"},
    {"name": "overdue_notice", "days": 1, "channel": "sms"},
    {"name": "final_notice", "days": 15, "channel": "letter"},
    {"name": "disconnection_order", "days": 30, "channel": "disconnection_order"},
]


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


# The step a big customer's ladder has before everyone's (recovery.bigcustomers finds who is one): the account
# manager's call, [big_customers] manager_call_days before the due date. Its name is the work items' reason.
MANAGER_CALL = "manager_call"


def big_customer_steps() -> tuple[Step, ...]:
    """The steps a big customer's dunning ladder has before everyone's: the account manager's call."""
    rules = policy.section("big_customers")
    return (Step(MANAGER_CALL, -rules["manager_call_days"], "manager_call", rules["manager_call_min_fen"], ""),)


class StepSchema(Schema):
    name = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,39}\Z"))
    days = fields.Integer(required=True, validate=validate.Range(min=-60, max=3650))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    min_amount = fields.String(load_default="0.01", validate=_yuan)
    text = fields.String(load_default="", validate=validate.Length(max=500))


class DunningPolicySchema(Schema):
    """[dunning]: the ladder's steps, the grades exempt from disconnection, the pay-plan grace days."""

    steps = fields.List(fields.Nested(StepSchema), load_default=lambda: [dict(s) for s in DEFAULT_STEPS])
    good_credit_grades = fields.List(fields.String(), load_default=lambda: ["AAA", "AA", "A"])
    # Empty: the catalogue's text in the [notifications] language (filled in by dunning_policy()).
    reconnection_text = fields.String(load_default="", validate=validate.Length(max=500))
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
    """The steps of `rules` (as dunning_policy() gives them, texts filled in) as Step, in order of days."""
    return tuple(Step(s["name"], s["days"], s["channel"], max(parse_yuan(s["min_amount"]), 1), s["text"])
                 for s in sorted(rules["steps"], key=lambda s: s["days"]))


def step_text(name: str, lang: str) -> str:
    """The catalogue's text for step `name` ({due_on} left in): a default step's own, else the generic one."""
    default = any(s["name"] == name for s in DEFAULT_STEPS)
    return texts.template(f"dunning.{name}" if default else "dunning.step", lang)


def dunning_policy() -> dict:
    """The [dunning] section in force, every notice text the section leaves empty taken from the catalogue
    in the [notifications] language."""
    rules = policy.section("dunning")
    lang = texts.language()
    return {**rules,
            "steps": [{**s, "text": s["text"] or step_text(s["name"], lang)} for s in rules["steps"]],
            "reconnection_text": rules["reconnection_text"] or texts.template("dunning.reconnection", lang)}
