"""CSV downloads for people who open them in a spreadsheet: formulas neutralised, UTF-8 with a BOM, streamed."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from urllib.parse import quote

from flask import Response, stream_with_context

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection, OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel reads a CSV as the local code page unless it starts with a byte-order mark; Chinese names need UTF-8.
BOM = "\ufeff"
# Rows written per chunk sent: large enough to keep the overhead down, small enough to start at once.
CHUNK_ROWS = 500


def safe_cell(value: object) -> str:
    """A value as CSV cell text; text a spreadsheet would run as a formula gets a leading apostrophe.

    Numbers (int, Decimal, float) are written as they are: a negative amount is not a formula, and an
    apostrophe would turn it into text. Pass amounts as Decimal (e.g. Decimal(format_yuan(fen))).
    """
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_rows(rows: Iterable[Sequence[object]], header: Sequence[str]) -> Iterator[str]:
    """The CSV text of a header and rows, in chunks, starting with the byte-order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([safe_cell(h) for h in header])
    pending = 1
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        pending += 1
        if pending >= CHUNK_ROWS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


def csv_response(rows: Iterable[Sequence[object]], header: Sequence[str], filename: str) -> Response:
    """A streamed CSV download; `rows` may be a lazy query result, read while the answer is sent."""
    # stream_with_context keeps the request (and its database session) alive while the rows are read.
    disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
    return Response(stream_with_context(csv_rows(rows, header)), mimetype="text/csv",
                    headers={"Content-Disposition": disposition}, content_type="text/csv; charset=utf-8")
