"""Hostile input refused at the door, before any view sees it: text carrying NUL bytes or control
characters, and numeric ids in URLs beyond what a database id can be.

PostgreSQL cannot store a NUL in a text column (the driver raises, a request would end in a 500) and
SQLite would store it silently; other control characters (terminal escapes, form feeds) have no place in
an identifier, a name or a note. One check at the door, for JSON bodies (every string, keys included, at
any depth), form fields and query parameters; tabs and line breaks stay allowed. Uploaded files are
checked by their own importers.

JSON nesting: no request of this service nests deeper than a few levels, and Python's JSON parser (and any
walk over what it returns) recurses once per level, so a body of ten thousand "[" would exhaust the stack
(RecursionError, a 500) on any path. Bodies nested deeper than MAX_JSON_DEPTH are refused with 400.

Ids: `<int:…>` in a route takes any run of digits, and 9223372036854775808 would reach the database
(PostgreSQL: "bigint out of range", SQLite: an overflow), a 500 either way; past 2^63 - 1 no row can
exist, so such a URL matches no route: 404.
"""

from __future__ import annotations

import re

from flask import Flask, request
from werkzeug.routing import IntegerConverter

from recovery.errors import DomainError, Invalid

BIGINT_MAX = 2**63 - 1
# Deeper than any request this service takes (a pay plan's installments: three levels).
MAX_JSON_DEPTH = 32
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _where(value: object, path: str) -> str | None:
    """The path of the first string in `value` that holds a control character, if any."""
    if isinstance(value, str):
        return path if CONTROL.search(value) else None
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and CONTROL.search(k):
                return f"{path}.<key>" if path else "<key>"
            found = _where(v, f"{path}.{k}" if path else str(k))
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _where(v, f"{path}[{i}]")
            if found:
                return found
    return None


def json_depth(value: object, limit: int = MAX_JSON_DEPTH) -> int:
    """How deeply `value` nests lists and objects (a scalar: 0), walked without recursion; the count stops
    just past `limit`."""
    deepest, pending = 0, [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if depth > limit:
                return deepest
            pending.extend((child, depth) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _json_body() -> object:
    """The request's JSON body (None when it is not JSON); refused with 400 when it nests too deeply."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        body = None
        depth = MAX_JSON_DEPTH + 1
    else:
        depth = json_depth(body)
    if depth > MAX_JSON_DEPTH:
        raise DomainError(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels", code="json_too_deep")
    return body


class BoundedInt(IntegerConverter):
    """`<int:…>` limited to ids a 64-bit column can hold."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", BIGINT_MAX)
        super().__init__(url_map, *args, **kwargs)


def _signed(app: Flask) -> bool:
    """A signed API's request: its body is parsed (and checked) only once its signature holds."""
    view = app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "signed_request", False))


def register(app: Flask) -> None:
    """Bound the `int` converter (before any route is added) and check every request's text."""
    app.url_map.converters["int"] = BoundedInt

    @app.before_request
    def refuse_control_characters():
        found = next((f"{source} field {key!r}"
                      for source, values in (("query", request.args), ("form", request.form))
                      for key in values
                      if CONTROL.search(key) or any(CONTROL.search(v) for v in values.getlist(key))), None)
        if not found and request.is_json and not _signed(app):
            body = _json_body()
            where = _where(body, "")
            found = f"field {where!r}" if where else None
        if found:
            raise Invalid(f"{found} contains a NUL byte or control characters; send plain text",
                          code="control_characters")
