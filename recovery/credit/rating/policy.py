"""The rating and settlement policy: scale, demerits, lifetimes, bands and hard rules as configuration.

Policy sections `[rating]` and `[settlement]`. Every field has a documented default; an empty file is
the published three-grade practice (A >= 90, B 70-89, C < 70, new customers start at B, theft forces
C and blocks upgrades for two years, arrears in three months of the current year block upgrades).
A utility that wants letter grades writes `preset = "letters"` (AAA >= 97, AA >= 93, A >= 90,
B >= 70, C) or its own `[[rating.bands]]`. Example:

    [rating]
    preset = "letters"
    new_customer_start = 75
    [rating.demerits.theft]
    points = 40
    lifetime_months = 36
    [[rating.rules]]            # replaces the default list of hard rules
    event = "violation"
    within_months = 12
    cap = "B"
"""

from __future__ import annotations

import dataclasses

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from recovery.errors import Invalid
from recovery.money import parse_yuan

# What can cost points. late_payment is banded by days late; the rest are a fixed demerit each.
DEMERIT_KINDS = ("late_payment", "missed_bill", "returned_payment", "broken_pay_plan", "violation", "theft",
                 "disconnection")

PRESETS: dict[str, tuple[tuple[str, int], ...]] = {
    "three": (("A", 90), ("B", 70), ("C", 0)),
    "letters": (("AAA", 97), ("AA", 93), ("A", 90), ("B", 70), ("C", 0)),
}

DEFAULT_DEMERITS = {
    "missed_bill": (10, 12),
    "returned_payment": (8, 12),
    "broken_pay_plan": (10, 12),
    "violation": (10, 24),
    "theft": (30, 24),
    "disconnection": (5, 12),
}


class _BandSchema(Schema):
    grade = fields.String(required=True, validate=validate.Length(1, 8))
    min = fields.Integer(required=True)


class _LateBandSchema(Schema):
    min_days = fields.Integer(required=True, validate=validate.Range(min=1))
    points = fields.Integer(required=True, validate=validate.Range(min=0))


class _DemeritSchema(Schema):
    points = fields.Integer(required=True, validate=validate.Range(min=0))
    lifetime_months = fields.Integer(required=True, validate=validate.Range(min=1, max=120))


class _RuleSchema(Schema):
    event = fields.String(required=True, validate=validate.OneOf(DEMERIT_KINDS))
    within_months = fields.Integer(required=True, validate=validate.Range(min=1, max=120))
    cap = fields.String(load_default=None, allow_none=True)
    block_upgrade = fields.Boolean(load_default=False)


_DEFAULT_LATE = [{"min_days": 1, "points": 2}, {"min_days": 11, "points": 3}, {"min_days": 21, "points": 5}]
_DEFAULT_RULES = [{"event": "theft", "within_months": 24, "cap": "C", "block_upgrade": True}]


class RatingPolicySchema(Schema):
    """[rating]: the points model."""

    scale_min = fields.Integer(load_default=0)
    scale_max = fields.Integer(load_default=100)
    # Established customers start at `start`; customers younger than new_customer_months start lower.
    start = fields.Integer(load_default=100)
    new_customer_start = fields.Integer(load_default=80)
    new_customer_months = fields.Integer(load_default=12, validate=validate.Range(min=0))
    preset = fields.String(load_default="three", validate=validate.OneOf(sorted(PRESETS)))
    bands = fields.List(fields.Nested(_BandSchema), load_default=None)
    # A bill fully paid after its due date: points by days late (the highest band reached).
    late_payment = fields.List(fields.Nested(_LateBandSchema), load_default=lambda: list(_DEFAULT_LATE))
    late_payment_lifetime_months = fields.Integer(load_default=12, validate=validate.Range(min=1, max=120))
    # A bill still not fully paid this many days after its due date is a missed bill (instead of late).
    missed_bill_after_days = fields.Integer(load_default=30, validate=validate.Range(min=1))
    demerits = fields.Dict(keys=fields.String(validate=validate.OneOf(DEMERIT_KINDS[1:])),
                           values=fields.Nested(_DemeritSchema), load_default=dict)
    rules = fields.List(fields.Nested(_RuleSchema), load_default=lambda: [dict(r) for r in _DEFAULT_RULES])
    # Months of the current calendar year ending in arrears that block upgrades (0: no such rule).
    arrears_block_months = fields.Integer(load_default=3, validate=validate.Range(min=0, max=12))
    cash_only_returns = fields.Integer(load_default=2, validate=validate.Range(min=1))
    cash_only_window_months = fields.Integer(load_default=12, validate=validate.Range(min=1, max=120))
    override_max_days = fields.Integer(load_default=365, validate=validate.Range(min=1))

    @validates_schema
    def _check(self, data, **_kw):
        if data["scale_min"] >= data["scale_max"]:
            raise ValidationError("scale_min must be below scale_max")
        for name in ("start", "new_customer_start"):
            if not data["scale_min"] <= data[name] <= data["scale_max"]:
                raise ValidationError(f"{name} must lie within the scale", name)
        if data["bands"] is not None:
            grades = [b["grade"] for b in data["bands"]]
            if len(set(grades)) != len(grades) or not grades:
                raise ValidationError("bands need distinct grades", "bands")
        grades = [b["grade"] for b in data["bands"]] if data["bands"] else [g for g, _ in PRESETS[data["preset"]]]
        for rule in data["rules"]:
            if rule["cap"] is not None and rule["cap"] not in grades:
                raise ValidationError(f"rule cap {rule['cap']!r} is not a grade ({', '.join(grades)})", "rules")
        days = [b["min_days"] for b in data["late_payment"]]
        if days != sorted(set(days)):
            raise ValidationError("late_payment bands must have ascending, distinct min_days", "late_payment")

    @post_load
    def _normalise(self, data, **_kw) -> dict:
        # Plain data with every default filled in (what `recovery policy show` prints); the engine reads
        # it through RatingPolicy.of().
        raw = data["bands"] or [{"grade": g, "min": m} for g, m in PRESETS[data["preset"]]]
        demerits = {k: {"points": p, "lifetime_months": life} for k, (p, life) in DEFAULT_DEMERITS.items()}
        demerits.update(data["demerits"])
        return {**data, "bands": sorted(raw, key=lambda b: -b["min"]), "demerits": demerits}


@dataclasses.dataclass(frozen=True)
class SettlementPolicy:
    prepayment_grades: tuple[str, ...]
    prepayment_when_cash_only: bool
    split_min_monthly_fen: int
    split_months: int
    interim_days: tuple[int, ...]
    interim_due_days: int
    estimate_months: int
    reproposal_days: int

    @classmethod
    def of(cls, data: dict) -> SettlementPolicy:
        """The policy from a loaded [settlement] section."""
        return cls(
            prepayment_grades=tuple(data["prepayment_grades"]),
            prepayment_when_cash_only=data["prepayment_when_cash_only"],
            split_min_monthly_fen=parse_yuan(data["split_min_monthly"]), split_months=data["split_months"],
            interim_days=tuple(data["interim_days"]), interim_due_days=data["interim_due_days"],
            estimate_months=data["estimate_months"], reproposal_days=data["reproposal_days"],
        )


class SettlementPolicySchema(Schema):
    """[settlement]: which terms the rating calls for, and how split settlement bills."""

    # Customers rated one of these grades are proposed prepayment (预购电).
    prepayment_grades = fields.List(fields.String(), load_default=lambda: ["C"])
    prepayment_when_cash_only = fields.Boolean(load_default=False)
    # Large customers (average bill of the last split_months bills at least this, yuan) settle in parts.
    split_min_monthly = fields.String(load_default="100000.00")
    split_months = fields.Integer(load_default=3, validate=validate.Range(min=1, max=24))
    # Interim settlement days of the month; with the month-end reading that makes len + 1 settlements.
    interim_days = fields.List(fields.Integer(validate=validate.Range(min=1, max=28)),
                               load_default=lambda: [10, 20])
    interim_due_days = fields.Integer(load_default=5, validate=validate.Range(min=0, max=30))
    # Interim bills without a reading are estimated from the average daily amount of this many bills.
    estimate_months = fields.Integer(load_default=3, validate=validate.Range(min=1, max=24))
    # A rejected proposal is not filed again for this many days.
    reproposal_days = fields.Integer(load_default=30, validate=validate.Range(min=0))

    @validates_schema
    def _check(self, data, **_kw):
        days = data["interim_days"]
        if len(days) < 2 or days != sorted(set(days)):
            raise ValidationError("split settlement needs at least two distinct interim days in ascending order "
                                  "(with the month-end reading: at least three settlements a month)", "interim_days")
        try:
            positive = parse_yuan(data["split_min_monthly"]) > 0
        except Invalid as e:
            raise ValidationError(e.message, "split_min_monthly") from e
        if not positive:
            raise ValidationError("must be positive", "split_min_monthly")
