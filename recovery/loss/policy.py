"""Policy section [loss]: when an area or a line is flagged, how the suspect list weighs its evidence, and what
a confirmed theft and a confirmed tip-off cost.

    threshold = "0.10"          # an area whose month's loss rate is above this is flagged (above_threshold)
    history_points = "0.05"     # ... or above the median of its own previous months by more than this (above_history)
    history_months = 12         # how many previous months that median looks back over
    history_min_months = 3      # fewer months with a rate than this: no history to judge against
    line_threshold = "0.08"     # lines (the sum of their areas): the same two tests, with this threshold

    recent_months = 3           # the suspect list compares the customer's last months with the same months a year
                                # before (else with the 6 months before, scaled by their peers' season)
    drop_from = "0.20"          # a drop counts from this share ...
    drop_full = "0.50"          # ... and counts fully from this one (in between, in proportion)
    min_base_kwh = "20"         # kWh a month: below this there is too little consumption to judge a drop
    min_peers = 5               # peers: the area's customers of the same class, else the grid's, else the class's
    season_min_correlation = "0.2"  # off_season: the last 12 months correlate less than this with the peers' ...
    season_min_variation = "0.10"   # ... when the peers' months vary by at least this (coefficient of variation)
    rise_points = "0.03"        # loss_rise_at_drop: the area's loss rate rose by this much over the same months
    past_months = 36            # past_theft and past_violation look back this far
    points = {drop_vs_history = 30, drop_vs_peers = 15, zero_while_active = 25, off_season = 10,
              high_loss_area = 25, loss_rise_at_drop = 20, past_theft = 25, past_violation = 10}

    penalty_multiple = "3"      # the theft penalty (违约使用电费): this many times the back-billed amount
    backbill_due_days = 15      # back-billing and penalty bills fall due this many days after they are approved
    inspection_days = 10        # an inspection task is due this many days after it is assigned
    tip_reward = "500.00"       # yuan paid to a tipster whose tip an inspection confirms
    screen_day = 10             # job loss.screening screens the month before from this day of a month on
                                # (its bills and the area meters' readings are in by then), once
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from recovery import policy
from recovery.errors import Invalid
from recovery.money import parse_yuan

REASONS = ("drop_vs_history", "drop_vs_peers", "zero_while_active", "off_season", "high_loss_area",
           "loss_rise_at_drop", "past_theft", "past_violation")
DEFAULT_POINTS = {"drop_vs_history": 30, "drop_vs_peers": 15, "zero_while_active": 25, "off_season": 10,
                  "high_loss_area": 25, "loss_rise_at_drop": 20, "past_theft": 25, "past_violation": 10}


def _decimal(low: str, high: str):
    def check(text: str) -> None:
        try:
            value = Decimal(str(text))
        except InvalidOperation as e:
            raise ValidationError(f"not a decimal number: {text!r}") from e
        if not value.is_finite() or not Decimal(low) <= value <= Decimal(high):
            raise ValidationError(f"must lie between {low} and {high}")
    return check


def _yuan(text: str) -> None:
    try:
        parse_yuan(text)
    except Invalid as e:
        raise ValidationError(e.message) from e


class LossPolicySchema(Schema):
    """[loss]: loss-rate flags, the suspect list's evidence and weights, theft charges, inspection and tip-offs."""

    threshold = fields.String(load_default="0.10", validate=_decimal("0", "1"))
    history_points = fields.String(load_default="0.05", validate=_decimal("0", "1"))
    history_months = fields.Integer(load_default=12, validate=validate.Range(min=1, max=60))
    history_min_months = fields.Integer(load_default=3, validate=validate.Range(min=1, max=60))
    line_threshold = fields.String(load_default="0.08", validate=_decimal("0", "1"))
    recent_months = fields.Integer(load_default=3, validate=validate.Range(min=1, max=6))
    drop_from = fields.String(load_default="0.20", validate=_decimal("0", "1"))
    drop_full = fields.String(load_default="0.50", validate=_decimal("0", "1"))
    min_base_kwh = fields.String(load_default="20", validate=_decimal("0", "1000000"))
    min_peers = fields.Integer(load_default=5, validate=validate.Range(min=2, max=1000))
    season_min_correlation = fields.String(load_default="0.2", validate=_decimal("-1", "1"))
    season_min_variation = fields.String(load_default="0.10", validate=_decimal("0", "10"))
    rise_points = fields.String(load_default="0.03", validate=_decimal("0", "1"))
    past_months = fields.Integer(load_default=36, validate=validate.Range(min=1, max=240))
    points = fields.Dict(keys=fields.String(validate=validate.OneOf(REASONS)),
                         values=fields.Integer(validate=validate.Range(min=0, max=1000)),
                         load_default=lambda: dict(DEFAULT_POINTS))
    penalty_multiple = fields.String(load_default="3", validate=_decimal("0", "10"))
    backbill_due_days = fields.Integer(load_default=15, validate=validate.Range(min=0, max=365))
    inspection_days = fields.Integer(load_default=10, validate=validate.Range(min=1, max=365))
    tip_reward = fields.String(load_default="500.00", validate=_yuan)
    screen_day = fields.Integer(load_default=10, validate=validate.Range(min=1, max=28))

    @validates_schema
    def _check(self, data, **_kw):
        if Decimal(data.get("drop_full", "0.50")) <= Decimal(data.get("drop_from", "0.20")):
            raise ValidationError("drop_full must be above drop_from", "drop_full")

    @post_load
    def _fill(self, data, **_kw):
        data["points"] = {**DEFAULT_POINTS, **data["points"]}  # a reason left out keeps its default weight
        return data


@dataclass(frozen=True)
class LossPolicy:
    threshold: Decimal
    history_points: Decimal
    history_months: int
    history_min_months: int
    line_threshold: Decimal
    recent_months: int
    drop_from: float
    drop_full: float
    min_base_kwh: float
    min_peers: int
    season_min_correlation: float
    season_min_variation: float
    rise_points: float
    past_months: int
    points: dict[str, int]
    penalty_multiple: Decimal
    backbill_due_days: int
    inspection_days: int
    tip_reward_fen: int
    screen_day: int = 10


def from_section(raw: dict) -> LossPolicy:
    """The section as loaded (strings) to typed values: exact decimals where they decide a flag or money, floats
    where they only weigh evidence."""
    return LossPolicy(
        threshold=Decimal(raw["threshold"]), history_points=Decimal(raw["history_points"]),
        history_months=raw["history_months"], history_min_months=raw["history_min_months"],
        line_threshold=Decimal(raw["line_threshold"]), recent_months=raw["recent_months"],
        drop_from=float(raw["drop_from"]), drop_full=float(raw["drop_full"]),
        min_base_kwh=float(raw["min_base_kwh"]), min_peers=raw["min_peers"],
        season_min_correlation=float(raw["season_min_correlation"]),
        season_min_variation=float(raw["season_min_variation"]), rise_points=float(raw["rise_points"]),
        past_months=raw["past_months"], points=dict(raw["points"]),
        penalty_multiple=Decimal(raw["penalty_multiple"]), backbill_due_days=raw["backbill_due_days"],
        inspection_days=raw["inspection_days"], tip_reward_fen=parse_yuan(raw["tip_reward"]),
        screen_day=raw["screen_day"])


def loss_policy() -> LossPolicy:
    """The [loss] section in force."""
    return from_section(policy.section("loss"))
