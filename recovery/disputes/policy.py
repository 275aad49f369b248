"""Policy section [disputes]: the deadline for answering a complaint and what complaints cost an officer in
the assessment (考核).

    [disputes]
    deadline_hours = 48                        # a complaint is answered within this many hours of being raised
    deadline_hours_by_kind = {outage = 24}     # per kind (outage, meter_reading, wrong_amount, service)
    upheld_against_points = 5                  # points off the officer's monthly score per complaint upheld
                                               # against them (resolved in the month)
    late_points = 2                            # points off the owner's score per complaint answered after its
                                               # deadline (the deadline falling in the month; still open counts)
    max_points = 20                            # the most a month's complaints take off one officer's score

The deduction comes off the 100-point score the measures earn (never below 0), before the pay factor.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from recovery.disputes.models import DisputeKind

HOURS = validate.Range(min=1, max=24 * 90)
POINTS = validate.Range(min=0, max=100)


class DisputesPolicySchema(Schema):
    """[disputes]: answer deadlines and the assessment's deductions for complaints."""

    deadline_hours = fields.Integer(load_default=48, validate=HOURS)
    deadline_hours_by_kind = fields.Dict(keys=fields.String(validate=validate.OneOf([k.value for k in DisputeKind])),
                                         values=fields.Integer(validate=HOURS), load_default=dict)
    upheld_against_points = fields.Integer(load_default=5, validate=POINTS)
    late_points = fields.Integer(load_default=2, validate=POINTS)
    max_points = fields.Integer(load_default=20, validate=POINTS)


def deadline_hours(rules: dict, kind: str) -> int:
    """Hours allowed to answer a complaint of `kind`."""
    return int(rules["deadline_hours_by_kind"].get(kind, rules["deadline_hours"]))
