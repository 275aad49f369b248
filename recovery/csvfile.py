"""Reading an import CSV into a frame of text columns, each row knowing its line in the file."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from recovery.errors import ImportRejected

# Far above any real import; a guard against a stray binary file or a runaway field.
MAX_FIELD = 10_000
TEXT = "string[pyarrow]"


def read(path: Path, *, required: tuple[str, ...], optional: tuple[str, ...] = (),
         renamed: dict[str, str] | None = None) -> pd.DataFrame:
    """Read a contract CSV: UTF-8 with or without BOM, header row, columns in any order, extra ignored.

    Returns the known columns as stripped strings (absent optional columns as empty strings) plus
    `line`, the physical line each record starts on. `renamed` gives a file column another name in the frame
    (the customers file's `line`, a feeder, is not the record's line number). Structural problems raise
    ImportRejected.
    """
    renamed = renamed or {}
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise ImportRejected([f"{name}:0: file: cannot read: {e.strerror}"]) from e
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ImportRejected([f"{name}:{line}: file: not UTF-8 text (byte {e.start})"]) from e
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ImportRejected([f"{name}:{line}: file: contains a NUL byte; not a CSV file"])

    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as e:
        raise ImportRejected([f"{name}:1: header: {e}"]) from e
    if not header:
        raise ImportRejected([f"{name}:1: header: the file is empty; expected a header row"])
    header = [h.strip() for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        raise ImportRejected([f"{name}:1: {c}: missing column" for c in missing])
    dupes = sorted({h for h in header if header.count(h) > 1 and h in required + optional})
    if dupes:
        raise ImportRejected([f"{name}:1: {c}: column appears more than once" for c in dupes])

    found = [c for c in required + optional if c in header]
    index = [header.index(c) for c in found]
    wanted = [renamed.get(c, c) for c in found]
    frame = _read_plain(raw, text, len(header), dict(zip(wanted, index, strict=True)))
    if frame is None:
        frame = _read_records(name, reader, len(header), wanted, index)
    for c in wanted:
        frame[c] = frame[c].astype(TEXT).str.strip()
    for c in (renamed.get(c, c) for c in optional):
        if c not in frame:
            frame[c] = pd.Series("", index=frame.index, dtype=TEXT)
    frame["line"] = frame.pop("line")
    return frame


def _read_plain(raw: bytes, text: str, width: int, columns: dict[str, int]) -> pd.DataFrame | None:
    """The fast path for the common file: no quotes and no carriage returns, so that every record is one
    physical line. Arrow's C reader splits it; None sends anything else (or any row of the wrong width,
    an over-long field) to the csv module, which words every error."""
    if '"' in text or "\r" in text:
        return None
    lines = text.split("\n")[1:]
    if max(map(len, lines), default=0) > MAX_FIELD:
        return None
    numbers = [n for n, line in enumerate(lines, start=2) if line]
    if not numbers:
        return None
    body = raw[3:] if raw.startswith(codecs.BOM_UTF8) else raw
    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            # Naming every column fixes the width: a row with more or fewer fields is an error.
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=[f"f{i}" for i in range(width)],
                                           block_size=1 << 24),
            parse_options=pacsv.ParseOptions(quote_char=False, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                include_columns=[f"f{i}" for i in columns.values()],
                column_types={f"f{i}": pa.string() for i in columns.values()},
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowException:
        return None
    if table.num_rows != len(numbers) or table.num_columns != len(columns):
        return None
    frame = pd.DataFrame({c: pd.arrays.ArrowStringArray(table.column(f"f{i}").combine_chunks())
                          for c, i in columns.items()})
    frame["line"] = numbers
    return frame


def _read_records(name: str, reader, width: int, wanted: list[str], index: list[int]) -> pd.DataFrame:
    """Every record through the csv module, each row knowing the line it starts on."""
    rows: list[list[str]] = []
    lines: list[int] = []
    errors: list[str] = []
    start = reader.line_num + 1
    try:
        for record in reader:
            if record:  # a blank line is no record
                if len(record) != width:
                    errors.append(f"{name}:{start}: row: expected {width} fields, found {len(record)}")
                else:
                    rows.append([record[i] for i in index])
                    lines.append(start)
            start = reader.line_num + 1
    except csv.Error as e:
        errors.append(f"{name}:{start}: row: {e}")
    if errors:
        raise ImportRejected(errors)

    frame = pd.DataFrame(rows, columns=wanted, dtype="object")
    frame["line"] = lines
    return frame
