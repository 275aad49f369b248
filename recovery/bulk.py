"""Set-based loading: frames into (temporary) tables with COPY on PostgreSQL, executemany on SQLite.

Everything runs on the caller's session connection, inside the caller's transaction.
"""

from __future__ import annotations

import io
import itertools

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Column, Date, Float, Integer, MetaData, Table, Text, text
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from recovery.types import UTCDateTime

# SQLAlchemy's own SQLite storage formats, so that rows loaded here read back like ORM-written ones.
BATCH = 100_000


def temp_table(session: Session, name: str, columns: dict[str, TypeEngine]) -> Table:
    """Create (or recreate) a session-local temporary table."""
    conn = session.connection()
    conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    table = Table(name, MetaData(), *(Column(c, t) for c, t in columns.items()), prefixes=["TEMPORARY"])
    table.create(conn)
    return table


def _instants(s: pd.Series, dialect: str) -> np.ndarray:
    """UTC instants as 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's SQLite format; '+00' added for PostgreSQL).

    numpy renders ISO strings in C; pandas' strftime is a hundred times slower on large imports.
    """
    values = s.dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
    text = np.datetime_as_string(values, unit="us").astype("S26")
    text.view(np.uint8).reshape(-1, 26)[:, 10] = ord(" ")
    text = text.astype("U26")
    return np.char.add(text, "+00") if dialect == "postgresql" else text


def _as_text(frame: pd.DataFrame, types: dict[str, TypeEngine], dialect: str) -> pd.DataFrame:
    """Render each column in the form the database reads back natively (nulls stay null)."""
    out = {}
    for c, t in types.items():
        s = frame[c]
        if isinstance(t, UTCDateTime):
            out[c] = pd.Series(_instants(s, dialect), index=s.index, dtype=object)
        elif isinstance(t, Date):
            if pd.api.types.is_datetime64_any_dtype(s):
                days = s.to_numpy(dtype="datetime64[D]")
                s_text = pd.Series(np.datetime_as_string(days, unit="D"), index=s.index, dtype=object)
            else:
                s_text = s.astype(object)
            out[c] = s_text
        elif isinstance(t, (BigInteger, Integer)):
            out[c] = s.astype("Int64").astype(object)
        elif isinstance(t, Float):
            out[c] = s.astype("float64").astype(object)
        else:
            out[c] = s.astype(object)
        out[c] = out[c].where(s.notna(), None)
    return pd.DataFrame(out)


def insert_frame(session: Session, table: Table, frame: pd.DataFrame) -> int:
    """Insert every row of `frame` (columns named after the table's) into `table`; returns the count."""
    if frame.empty:
        return 0
    cols = [c for c in table.columns.keys() if c in frame.columns]  # noqa: SIM118  (keys are names)
    types = {c: table.columns[c].type for c in cols}
    conn = session.connection()
    dialect = conn.dialect.name
    rendered = _as_text(frame[cols], types, dialect)
    raw = conn.connection.driver_connection
    if dialect == "postgresql":
        buf = io.StringIO()
        # CSV with an explicit NULL marker: an empty string and a null stay different.
        rendered.to_csv(buf, index=False, header=False, na_rep="\\N")
        buf.seek(0)
        names = ", ".join(f'"{c}"' for c in cols)
        with raw.cursor() as cur, cur.copy(
            f"COPY {table.name} ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
        ) as copy:
            while chunk := buf.read(1 << 20):
                copy.write(chunk)
    else:
        sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        rows = rendered.itertuples(index=False, name=None)
        cur = raw.cursor()
        while batch := list(itertools.islice(rows, BATCH)):
            cur.executemany(sql, batch)
        cur.close()
    return len(frame)


def stage(session: Session, name: str, frame: pd.DataFrame, columns: dict[str, TypeEngine]) -> Table:
    """A temporary table holding `frame`, typed as `columns`."""
    table = temp_table(session, name, columns)
    insert_frame(session, table, frame)
    return table


def read_frame(session: Session, statement, columns: list[str] | None = None) -> pd.DataFrame:
    """Run a select (as Core, without ORM row handling) and return its rows as a frame."""
    result = session.connection().execute(statement)
    return pd.DataFrame(result.all(), columns=columns or list(result.keys()))


TEXT, FEN, DATE_T, INSTANT, ID = Text(), BigInteger(), Date(), UTCDateTime(), BigInteger()
