"""Statement formats, each parsed into one statement-line shape.

    statements = parse("day.sta", "mt940")      # or bytes; fmt: csv, mt940, camt053, camt054, pain002
    to_json(statements)                         # the contract's "Parsed statement JSON"
    to_frame(statements)                        # one row per line, for the matcher
    statements, frame = parse_frame(data, fmt)  # both at once; a channel CSV is read column-wise


A file that cannot be parsed completely raises StatementError; there is never a partial result.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from reconciliation.formats.camt import parse_camt053, parse_camt054
from reconciliation.formats.channel_csv import CURRENCY, parse_channel_csv, read_channel_csv
from reconciliation.formats.errors import StatementError
from reconciliation.formats.model import Statement, StatementLine, to_frame, to_json
from reconciliation.formats.mt940 import parse_mt940
from reconciliation.formats.pain002 import parse_pain002

__all__ = ["FORMATS", "Statement", "StatementError", "StatementLine", "parse", "parse_frame", "to_frame", "to_json"]

PARSERS: dict[str, Callable[..., list[Statement]]] = {
    "csv": parse_channel_csv,
    "mt940": parse_mt940,  # MT942 interim reports too
    "camt053": parse_camt053,
    "camt054": parse_camt054,
    "pain002": parse_pain002,
}
FORMATS = tuple(PARSERS)


def parse(source: str | os.PathLike[str] | bytes, fmt: str, *, name: str | None = None,
          **options: Any) -> list[Statement]:
    """Parse a statement file (a path, or its bytes) in format `fmt` into Statements.

    `name` is how messages refer to the file (default: the path, or "<statement>" for bytes);
    `options` go to the format's parser (mt940: `dialect`, `encoding`).
    """
    parser = PARSERS.get(fmt)
    if parser is None:
        raise StatementError(f"unknown statement format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
        name = name or "<statement>"
    else:
        name = name or os.fspath(source)
        try:
            data = Path(source).read_bytes()
        except OSError as e:
            raise StatementError(f"{name}: cannot read: {e.strerror or e}") from None
    if not data.strip():
        raise StatementError(f"{name}: the file is empty")
    return parser(data, name, **options)


def parse_frame(data: bytes, fmt: str, *, name: str = "<statement>") -> tuple[list[Statement], pd.DataFrame]:
    """The file's statements (for their identifiers and balances) and all their lines as `to_frame`'s frame.

    A channel CSV, which may hold a million lines, is read column by column into the frame without an
    object per line: its one statement comes back with no lines, the frame holds them.
    """
    if fmt != "csv":
        statements = parse(data, fmt, name=name)
        return statements, to_frame(statements)
    if not data.strip():
        raise StatementError(f"{name}: the file is empty")
    frame = read_channel_csv(data, name)
    return [Statement(account=None, currency=CURRENCY, opening_balance=None, closing_balance=None, statement_id=None,
                      lines=(), message_type="channel-csv")], frame.drop(columns="paid_text")
