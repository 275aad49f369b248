"""Policy sections [segments], [coverage] and [worklist].

[segments] — value segments by the average bill of the last 12 months, largest first:
    high_value = "0.05"   # the top 5 % of customers
    potential = "0.15"    # the next 15 %
    medium = "0.30"       # the next 30 %; the rest are low
    risk_high_pd = "0.30" # latest score's probability of arrears at or above this: high risk
    risk_medium_pd = "0.10"
    frequency.<segment> = {visit_every_days = 30, call_every_days = 14}   # 0: never by frequency
Shares are exact decimals; each segment's count is rounded up (a base of 10 customers still has one
high-value customer). Defaults: high_value visit monthly, call every two weeks; potential visit
quarterly, call monthly; medium visit quarterly, call monthly; low call monthly, no routine visit.
Contacts by frequency are due only for customers in arrears, except high-value ones (always).

[coverage] — how many customers of a segment one account manager looks after:
    per_manager = {high_value = 1, potential = 2, medium = 50, low = 200}
A customer weighs 1/per_manager of a manager; assignment gives each customer to the least-loaded
officer of its grid, largest customers first, and a deputy among the grid's other officers.

[worklist] — early warnings and the expected recoverable amount:
    drop_share = "0.5"        # latest bill's kWh down more than this against the previous bills' average
    history_min = 3           # previous bills needed to judge a drop (at most history_max are averaged)
    history_max = 6
    warning_days = 3          # bills issued (or falling due) this many days back still raise a warning
    good_grades = ["AAA", "AA", "A"]
    unscored_pd = "0.10"      # the probability of arrears assumed for customers never scored
    plan_remind_days = 0      # an installment's follow-up is due this many days before it falls due
    capacity = {calls = 40, visits = 6, hours = "7"}   # one officer's day; any limit reached ends the list
    call_minutes = 8          # what a call takes, and a visit (travel included), against the hours
    visit_minutes = 45
    officers.<username> = {calls = 30, visits = 4, hours = "5"}   # an officer's own day (part time, new)
    carry_weight = "0.05"     # a customer carried over from earlier days ranks this share higher per day
The day's list holds one row per customer (every open reason on it, a visit suggested when any item asks
for one, else a call), ranked by expected recoverable amount x (1 + carry_weight x days waiting), filled
in that order while the officer's capacity lasts, less what the officer has done today; the rest is
carried to the next day and ages.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from recovery import policy
from recovery.worklist.models import ValueSegment

DEFAULT_FREQUENCY = {
    ValueSegment.high_value.value: {"visit_every_days": 30, "call_every_days": 14},
    ValueSegment.potential.value: {"visit_every_days": 90, "call_every_days": 30},
    ValueSegment.medium.value: {"visit_every_days": 90, "call_every_days": 30},
    ValueSegment.low.value: {"visit_every_days": 0, "call_every_days": 30},
}
DEFAULT_PER_MANAGER = {"high_value": 1, "potential": 2, "medium": 50, "low": 200}
SEGMENTS = [s.value for s in ValueSegment]


def _share(text: str) -> Decimal:
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise ValidationError(f"not a decimal share: {text!r}") from None
    if not value.is_finite() or not (0 <= value <= 1):
        raise ValidationError(f"a share is a decimal between 0 and 1: {text!r}")
    return value


class FrequencySchema(Schema):
    visit_every_days = fields.Integer(required=True, validate=validate.Range(min=0, max=3660))
    call_every_days = fields.Integer(required=True, validate=validate.Range(min=0, max=3660))


class SegmentsPolicySchema(Schema):
    """[segments]: value shares, risk thresholds on the probability of arrears, contact frequencies."""

    high_value = fields.String(load_default="0.05", validate=_share)
    potential = fields.String(load_default="0.15", validate=_share)
    medium = fields.String(load_default="0.30", validate=_share)
    risk_high_pd = fields.String(load_default="0.30", validate=_share)
    risk_medium_pd = fields.String(load_default="0.10", validate=_share)
    frequency = fields.Dict(keys=fields.String(validate=validate.OneOf(SEGMENTS)),
                            values=fields.Nested(FrequencySchema), load_default=dict)

    @validates_schema
    def _check(self, data, **_kw):
        shares = [_share(data.get(k, d)) for k, d in (("high_value", "0.05"), ("potential", "0.15"),
                                                      ("medium", "0.30"))]
        if sum(shares) > 1:
            raise ValidationError("high_value + potential + medium may not exceed 1")
        if _share(data.get("risk_medium_pd", "0.10")) > _share(data.get("risk_high_pd", "0.30")):
            raise ValidationError("risk_medium_pd may not exceed risk_high_pd")

    @post_load
    def _resolve(self, data, **_kw):
        frequency = DEFAULT_FREQUENCY | data["frequency"]
        return {**{k: _share(data[k]) for k in ("high_value", "potential", "medium")},
                "risk_high_pd": float(_share(data["risk_high_pd"])),
                "risk_medium_pd": float(_share(data["risk_medium_pd"])),
                "frequency": frequency}


class CoveragePolicySchema(Schema):
    """[coverage]: customers of each value segment one account manager looks after."""

    per_manager = fields.Dict(keys=fields.String(validate=validate.OneOf(SEGMENTS)),
                              values=fields.Integer(validate=validate.Range(min=1)), load_default=dict)

    @post_load
    def _resolve(self, data, **_kw):
        return {"per_manager": DEFAULT_PER_MANAGER | data["per_manager"]}


def _hours(text: str) -> Decimal:
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise ValidationError(f"not a decimal number of hours: {text!r}") from None
    if not value.is_finite() or not (0 <= value <= 24):
        raise ValidationError(f"hours are a decimal between 0 and 24: {text!r}")
    return value


class CapacitySchema(Schema):
    """One officer's day: calls, visits and working hours (any limit reached ends the day's list)."""

    calls = fields.Integer(load_default=40, validate=validate.Range(min=0, max=1000))
    visits = fields.Integer(load_default=6, validate=validate.Range(min=0, max=200))
    hours = fields.String(load_default="7", validate=_hours)

    @post_load
    def _minutes(self, data, **_kw):
        # Whole minutes: the day is filled in integers, like money.
        return {"calls": data["calls"], "visits": data["visits"], "minutes": int(_hours(data["hours"]) * 60)}


class WorklistPolicySchema(Schema):
    """[worklist]: early-warning thresholds, good grades, the probability assumed when unscored."""

    drop_share = fields.String(load_default="0.5", validate=_share)
    history_min = fields.Integer(load_default=3, validate=validate.Range(min=1, max=24))
    history_max = fields.Integer(load_default=6, validate=validate.Range(min=1, max=24))
    warning_days = fields.Integer(load_default=3, validate=validate.Range(min=1, max=31))
    good_grades = fields.List(fields.String(), load_default=lambda: ["AAA", "AA", "A"])
    unscored_pd = fields.String(load_default="0.10", validate=_share)
    plan_remind_days = fields.Integer(load_default=0, validate=validate.Range(min=0, max=31))
    capacity = fields.Nested(CapacitySchema, load_default=lambda: CapacitySchema().load({}))
    call_minutes = fields.Integer(load_default=8, validate=validate.Range(min=1, max=480))
    visit_minutes = fields.Integer(load_default=45, validate=validate.Range(min=1, max=480))
    officers = fields.Dict(keys=fields.String(), values=fields.Nested(CapacitySchema), load_default=dict)
    carry_weight = fields.String(load_default="0.05", validate=_share)

    @validates_schema
    def _check(self, data, **_kw):
        if data.get("history_min", 3) > data.get("history_max", 6):
            raise ValidationError("history_min may not exceed history_max")

    @post_load
    def _resolve(self, data, **_kw):
        return {**data, "drop_share": float(_share(data["drop_share"])),
                # Integer basis points: the recoverable amounts are computed in integer fen.
                "unscored_pd_bp": int(_share(data["unscored_pd"]) * 10_000),
                "carry_weight_bp": int(_share(data["carry_weight"]) * 10_000)}


def capacity_of(rules: dict, officer: str | None) -> dict:
    """An officer's day ({calls, visits, minutes}): their own line under [worklist] officers, else the default."""
    return rules["officers"].get(officer or "", rules["capacity"])


def segments_policy() -> dict:
    """The [segments] section in force."""
    return policy.section("segments")


def coverage_policy() -> dict:
    """The [coverage] section in force."""
    return policy.section("coverage")


def worklist_policy() -> dict:
    """The [worklist] section in force."""
    return policy.section("worklist")
