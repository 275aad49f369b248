"""[payments]: how far back a channel may date a payment it posts."""

from __future__ import annotations

import datetime as dt

from marshmallow import Schema, fields, validate

from recovery import policy


class PaymentsPolicySchema(Schema):
    """[payments]: a payment posted through a signed channel (agents, kiosks) is what was just collected; one
    dated more than `signed_max_age_days` before now is refused (imports keep their own rule)."""

    signed_max_age_days = fields.Integer(load_default=35, validate=validate.Range(min=1, max=3660))


def signed_max_age() -> dt.timedelta:
    """How old a payment a signed channel posts may be."""
    return dt.timedelta(days=policy.section("payments")["signed_max_age_days"])
