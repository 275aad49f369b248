"""The JSON fields every domain's schemas share: amounts as yuan strings, instants with their offset."""

from __future__ import annotations

from marshmallow import ValidationError, fields

from recovery.errors import Invalid
from recovery.money import format_yuan, parse_yuan
from recovery.timeutil import business_tz


class Yuan(fields.Field):
    """Integer fen inside, a decimal yuan string outside."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else format_yuan(value)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_yuan(value)
        except Invalid as e:
            raise ValidationError(e.message) from e


class Instant(fields.AwareDateTime):
    """An instant shown in the business time zone, with its offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else super()._serialize(value.astimezone(business_tz()), attr, obj, **kwargs)
