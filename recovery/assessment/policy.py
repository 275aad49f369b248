"""Policy section [assessment] (考核): the measures, their weights, floors and targets, the yearly blend and
the pay-factor scheme.

Each measure scores `weight x clamp((value - floor) / (target - floor), 0, 1)` points: nothing at the
floor or worse, full points at the target or better (a target below its floor means lower is better).
The weights of officers' (and grids') measures add up to 100.

Partner agents and card distributors are assessed in two parts, volume and service quality, whose shares
add up to 100 (`parts`, default 60 and 40): each measure belongs to a part (`part`), and within a part the
measures' weights are relative (a part earns its share when every measure in it reaches its target).

    [assessment]
    monthly_weight = "0.7"      # yearly = 0.7 x mean of the monthly scores + 0.3 x mean of the quarterly ones
    quarterly_weight = "0.3"
    remit_days = 1              # an agent remits a day's takings within this many days
    grid_targets = {G1 = "97"}  # recovery-rate target (percent) per grid; others take measures.recovery.target
    officers.recovery = {weight = 50, floor = "90", target = "98"}       # percent collected of what fell due
    officers.old_receivables = {weight = 20, floor = "20", target = "0"}  # percent of the month's billing
    officers.promises = {weight = 15, floor = "50", target = "90"}       # percent of promises kept
    officers.visits = {weight = 15, floor = "30", target = "80"}         # percent of customers in arrears visited
    parts = {volume = 60, service = 40}
    agents.volume = {weight = 100, floor = "0", target = "100", part = "volume"}  # payments posted per month
    agents.timeliness = {weight = 40, floor = "80", target = "100", part = "service"}  # percent remitted on time
    agents.breaks = {weight = 20, floor = "2", target = "0", part = "service"}         # breaks per 100 payments
    agents.completeness = {weight = 20, floor = "95", target = "100", part = "service"}  # confirmed by statement
    agents.complaints = {weight = 20, floor = "2", target = "0", part = "service"}     # complaints per 100 payments
    distributors.volume = {weight = 100, floor = "0", target = "50", part = "volume"}   # cards bought per month
    distributors.timeliness = {weight = 50, floor = "80", target = "100", part = "service"}  # paid on time
    distributors.breaks = {weight = 25, floor = "3", target = "0", part = "service"}    # breaks per month
    distributors.complaints = {weight = 25, floor = "2", target = "0", part = "service"}  # per 100 cards bought
    pay = {full_at = "100", proportional_from = "85", below = "0.4"}

Pay factor of a score s (points out of 100, i.e. percent of target): 1 at `full_at` or more, s / 100 from
`proportional_from` up to `full_at`, `below` under `proportional_from`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

OFFICER_MEASURES = {
    "recovery": {"weight": 50, "floor": "90", "target": "98"},
    "old_receivables": {"weight": 20, "floor": "20", "target": "0"},
    "promises": {"weight": 15, "floor": "50", "target": "90"},
    "visits": {"weight": 15, "floor": "30", "target": "80"},
}
AGENT_MEASURES = {
    "volume": {"weight": 100, "floor": "0", "target": "100", "part": "volume"},
    "timeliness": {"weight": 40, "floor": "80", "target": "100", "part": "service"},
    "breaks": {"weight": 20, "floor": "2", "target": "0", "part": "service"},
    "completeness": {"weight": 20, "floor": "95", "target": "100", "part": "service"},
    "complaints": {"weight": 20, "floor": "2", "target": "0", "part": "service"},
}
DISTRIBUTOR_MEASURES = {
    "volume": {"weight": 100, "floor": "0", "target": "50", "part": "volume"},
    "timeliness": {"weight": 50, "floor": "80", "target": "100", "part": "service"},
    "breaks": {"weight": 25, "floor": "3", "target": "0", "part": "service"},
    "complaints": {"weight": 25, "floor": "2", "target": "0", "part": "service"},
}
PARTS = {"volume": 60, "service": 40}


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise ValidationError(f"not a decimal: {text!r}") from None
    if not value.is_finite():
        raise ValidationError(f"not a finite decimal: {text!r}")
    return value


class MeasureSchema(Schema):
    weight = fields.Integer(required=True, validate=validate.Range(min=0, max=100))
    floor = fields.String(required=True)
    target = fields.String(required=True)
    # Agents' and distributors' measures: the part of the score they belong to (default: the measure's own).
    part = fields.String(validate=validate.OneOf(list(PARTS)))

    @post_load
    def _resolve(self, data, **_kw):
        data["floor"], data["target"] = _decimal(data["floor"]), _decimal(data["target"])
        if data["floor"] == data["target"]:
            raise ValidationError("a measure's floor and target must differ")
        return data


class PaySchema(Schema):
    full_at = fields.String(load_default="100")
    proportional_from = fields.String(load_default="85")
    below = fields.String(load_default="0.4")

    @post_load
    def _resolve(self, data, **_kw):
        data = {k: _decimal(v) for k, v in data.items()}
        if not data["proportional_from"] <= data["full_at"]:
            raise ValidationError("pay.proportional_from must not exceed pay.full_at")
        return data


def _measures(defaults: dict):
    return fields.Dict(keys=fields.String(validate=validate.OneOf(list(defaults))),
                       values=fields.Nested(MeasureSchema), load_default=dict)


class AssessmentPolicySchema(Schema):
    """[assessment]: measures with weights, floors and targets; the yearly blend; the pay-factor scheme."""

    monthly_weight = fields.String(load_default="0.7")
    quarterly_weight = fields.String(load_default="0.3")
    remit_days = fields.Integer(load_default=1, validate=validate.Range(min=0, max=31))
    # The day of the month on which the month before is closed (its figures kept for pay).
    close_day = fields.Integer(load_default=5, validate=validate.Range(min=1, max=28))
    grid_targets = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    officers = _measures(OFFICER_MEASURES)
    agents = _measures(AGENT_MEASURES)
    distributors = _measures(DISTRIBUTOR_MEASURES)
    parts = fields.Dict(keys=fields.String(validate=validate.OneOf(list(PARTS))),
                        values=fields.Integer(validate=validate.Range(min=0, max=100)), load_default=dict)
    pay = fields.Nested(PaySchema, load_default=dict)

    @post_load
    def _resolve(self, data, **_kw):
        # A measure given in the file replaces that measure's default; the others keep theirs.
        loaded = {name: MeasureSchema().load(m) for name, m in OFFICER_MEASURES.items()}
        data["officers"] = loaded | data["officers"]
        for kind, defaults in (("agents", AGENT_MEASURES), ("distributors", DISTRIBUTOR_MEASURES)):
            loaded = {name: MeasureSchema().load(m) for name, m in defaults.items()}
            given = {name: {"part": defaults[name]["part"], **m} for name, m in data[kind].items()}
            data[kind] = loaded | given
            for part in PARTS:
                if sum(m["weight"] for m in data[kind].values() if m["part"] == part) <= 0:
                    raise ValidationError(f"the {kind}' {part} part has no measure with a weight")
        data["parts"] = PARTS | data["parts"]
        if sum(data["parts"].values()) != 100:
            raise ValidationError(f"the parts' shares add up to {sum(data['parts'].values())}, not 100")
        if isinstance(data["pay"], dict) and not data["pay"]:
            data["pay"] = PaySchema().load({})
        data["monthly_weight"] = _decimal(data["monthly_weight"])
        data["quarterly_weight"] = _decimal(data["quarterly_weight"])
        data["grid_targets"] = {g: _decimal(t) for g, t in data["grid_targets"].items()}
        for kind in ("officers",):
            total = sum(m["weight"] for m in data[kind].values())
            if total != 100:
                raise ValidationError(f"the weights of the {kind}' measures add up to {total}, not 100")
        if data["monthly_weight"] + data["quarterly_weight"] != 1:
            raise ValidationError("monthly_weight and quarterly_weight add up to 1")
        return data

    @validates_schema
    def _check(self, data, **_kw):
        for key in ("monthly_weight", "quarterly_weight"):
            if key in data:
                value = _decimal(data[key])
                if not 0 <= value <= 1:
                    raise ValidationError(f"{key} lies between 0 and 1")
