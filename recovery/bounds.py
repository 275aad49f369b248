"""The ranges a number or a date taken from outside must lie in, enforced once at the input boundary.

A date is any day from 1900-01-01 through 2199-12-31: wide enough for every real bill, payment or
promise (no policy lives here; policies narrow it further in the services), and narrow enough that
the service can compute with it: a year-1 date turned into UTC, or moved back a month, overflows
Python's calendar and would end in a 500 in a page, a report or a nightly job.

An integer is one a signed 64-bit column can hold (ids, pages, counts), narrowed by the field's own
sense (a page is at least 1), written in ASCII digits only: `int()` takes "１２" and "1_000", and a
page number of 9223372036854775807 would reach the database as an offset that no column can hold.

Two forms, one rule: marshmallow fields for the schemas (`BoundedDate`, `BoundedDateTime`,
`BoundedInteger`) and `date_arg` / `int_arg` for query strings and forms. Out of range or malformed
answers 400 (pages and query strings) or 422 (API schemas), naming the field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields
from werkzeug.exceptions import BadRequest

DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2199, 12, 31)
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# ASCII digits only, and no more of them than a 64-bit integer has (int() of 4,301 digits raises).
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
# The years in range, as the OpenAPI document shows them (JSON Schema has no minimum for a date).
YEARS_PATTERN = r"^(19[0-9]{2}|2[01][0-9]{2})-"


class FieldRefused(BadRequest):
    """A query-string or form field out of range or malformed: 400, with the field named in the message."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def date_problem(day: dt.date) -> str | None:
    """Why `day` is out of range, or None when it is in range."""
    if DATE_MIN <= day <= DATE_MAX:
        return None
    return f"a date from {DATE_MIN.isoformat()} through {DATE_MAX.isoformat()}"


def integer_problem(value: int, minimum: int = INT64_MIN, maximum: int = INT64_MAX) -> str | None:
    """Why `value` is out of the range [minimum, maximum] (itself within 64 bits), or None."""
    low, high = max(minimum, INT64_MIN), min(maximum, INT64_MAX)
    return None if low <= value <= high else f"a whole number from {low} through {high}"


def parse_date(text: str) -> dt.date:
    """An ISO date (YYYY-MM-DD, ASCII digits) within range; ValueError saying what is expected otherwise."""
    if not isinstance(text, str) or not _DATE.match(text):
        raise ValueError("a date written YYYY-MM-DD")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError("a date written YYYY-MM-DD that exists in the calendar") from None
    if problem := date_problem(day):
        raise ValueError(problem)
    return day


def parse_integer(text: Any, minimum: int = INT64_MIN, maximum: int = INT64_MAX) -> int:
    """A whole number in ASCII digits within [minimum, maximum]; ValueError saying what is expected otherwise."""
    if isinstance(text, bool) or not isinstance(text, int | str):
        raise ValueError("a whole number")
    if isinstance(text, str):
        if not _INTEGER.match(text.strip()):
            raise ValueError("a whole number in the digits 0-9")
        text = int(text.strip())
    if problem := integer_problem(text, minimum, maximum):
        raise ValueError(problem)
    return text


def date_arg(source: Mapping[str, str], name: str, default: dt.date | None = None) -> dt.date | None:
    """The date in a query string's or form's field `name` (empty or absent: `default`); FieldRefused (400)
    when it is malformed or out of range."""
    raw = source.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse_date(raw)
    except ValueError as e:
        raise FieldRefused(name, f"expected {e}") from None


def int_arg(source: Mapping[str, str], name: str, default: int | None = None, *, minimum: int = INT64_MIN,
            maximum: int = INT64_MAX) -> int | None:
    """The whole number in a query string's or form's field `name` (empty or absent: `default`);
    FieldRefused (400) when it is malformed or outside [minimum, maximum]."""
    raw = source.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse_integer(raw, minimum, maximum)
    except ValueError as e:
        raise FieldRefused(name, f"expected {e}") from None


def ecma_pattern(_converter: Any, _field: fields.Field, ret: dict, **_kwargs: Any) -> dict:
    """apispec attribute function: the OpenAPI document's patterns are ECMA-262, where "$" ends the input as
    Python's "\\Z" does (and "\\Z" means a letter Z), so a pattern anchored with "\\Z" is published with "$"."""
    pattern = ret.get("pattern")
    if isinstance(pattern, str) and pattern.endswith("\\Z"):
        return {"pattern": pattern[:-2] + "$"}
    return {}


class BoundedDate(fields.Date):
    """A marshmallow date within the computable range."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.metadata = {"pattern": YEARS_PATTERN, **self.metadata}

    def _deserialize(self, value, attr, data, **kwargs) -> dt.date:
        day = super()._deserialize(value, attr, data, **kwargs)
        if problem := date_problem(day):
            raise ValidationError(f"expected {problem}")
        return day


class BoundedDateTime(fields.AwareDateTime):
    """A marshmallow instant with its offset, whose date lies within the computable range (so that moving it
    to UTC or to the business time zone cannot overflow)."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.metadata = {"pattern": YEARS_PATTERN, **self.metadata}

    def _deserialize(self, value, attr, data, **kwargs) -> dt.datetime:
        instant = super()._deserialize(value, attr, data, **kwargs)
        if problem := date_problem(instant.date()):
            raise ValidationError(f"expected an instant on {problem}")
        return instant


class BoundedInteger(fields.Integer):
    """A marshmallow whole number within 64 bits and [minimum, maximum], in ASCII digits when sent as text."""

    def __init__(self, *, minimum: int = INT64_MIN, maximum: int = INT64_MAX, **kwargs: Any):
        super().__init__(strict=False, **kwargs)
        self.minimum, self.maximum = max(minimum, INT64_MIN), min(maximum, INT64_MAX)
        # The OpenAPI document shows the range (apispec reads these from a Range validator's attributes).
        self.metadata = {"minimum": self.minimum, "maximum": self.maximum, **self.metadata}

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
            value = int(value)
        try:
            return parse_integer(value, self.minimum, self.maximum)
        except ValueError as e:
            raise ValidationError(f"expected {e}") from None
