"""The JSON fields every domain's schemas share: amounts as yuan strings, instants with their offset."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from recovery.errors import Invalid
from recovery.money import YUAN_PATTERN, format_yuan, parse_yuan
from recovery.timeutil import business_tz

# A request's yuan amount, checked as text before it is parsed to fen.
YUAN = validate.Regexp(YUAN_PATTERN, error="a yuan amount with at most two decimals, e.g. \"120.50\"")


class In(Schema):
    """A request body: unknown fields are left out, not refused."""

    class Meta:
        unknown = EXCLUDE


class Yuan(fields.Field):
    """Integer fen inside, a decimal yuan string outside."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else format_yuan(int(value))

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_yuan(value)
        except Invalid as e:
            raise ValidationError(e.message) from e


class Instant(fields.AwareDateTime):
    """An instant shown in the business time zone, with its offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else super()._serialize(value.astimezone(business_tz()), attr, obj, **kwargs)
