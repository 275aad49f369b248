"""Set-based loading: frames into (temporary) tables with COPY on PostgreSQL, executemany on SQLite.

Everything runs on the caller's session connection, inside the caller's transaction.
"""

from __future__ import annotations

import io
import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import BigInteger, Column, Date, Float, Integer, MetaData, Table, Text, text
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from recovery.types import UTCDateTime

# SQLAlchemy's own SQLite storage formats, so that rows loaded here read back like ORM-written ones.
BATCH = 100_000


def temp_table(session: Session, name: str, columns: dict[str, TypeEngine], *, key: str | None = None) -> Table:
    """Create (or recreate) a session-local temporary table; `key`: a column other tables join it by, indexed
    (without an index SQLite scans the whole table for each row of the other side of the join)."""
    conn = session.connection()
    conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    table = Table(name, MetaData(), *(Column(c, t, index=c == key) for c, t in columns.items()),
                  prefixes=["TEMPORARY"])
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


def _arrow_table(frame: pd.DataFrame, types: dict[str, TypeEngine]) -> pa.Table:
    """The frame as Arrow columns that PostgreSQL reads back natively: instants as UTC text with '+00',
    dates as dates, integers as (nullable) integers, text as text."""
    arrays = {}
    for c, t in types.items():
        s = frame[c]
        missing = s.isna().to_numpy()
        if isinstance(t, UTCDateTime):
            arrays[c] = pa.array(_instants(s, "postgresql"), pa.string(), mask=missing)
        elif isinstance(t, Date):
            if pd.api.types.is_datetime64_any_dtype(s):
                arrays[c] = pa.array(s.to_numpy(dtype="datetime64[D]"), pa.date32(), mask=missing)
            else:
                arrays[c] = pa.array(s.astype(object).where(~missing, None).map(str, na_action="ignore"), pa.string())
        elif isinstance(t, (BigInteger, Integer)):
            arrays[c] = pa.array(s.astype("Int64"), pa.int64())
        elif isinstance(t, Float):
            arrays[c] = pa.array(s.astype("float64"), pa.float64(), mask=missing)
        else:
            values = s.astype(object).where(~missing, None)
            try:
                arrays[c] = pa.array(values, pa.string())
            except (pa.ArrowTypeError, pa.ArrowInvalid):  # numbers or other objects in a text column
                arrays[c] = pa.array(values.map(str, na_action="ignore"), pa.string())
    return pa.table(arrays)


def insert_frame(session: Session, table: Table, frame: pd.DataFrame) -> int:
    """Insert every row of `frame` (columns named after the table's) into `table`; returns the count."""
    if frame.empty:
        return 0
    cols = [c for c in table.columns.keys() if c in frame.columns]  # noqa: SIM118  (keys are names)
    types = {c: table.columns[c].type for c in cols}
    conn = session.connection()
    dialect = conn.dialect.name
    raw = conn.connection.driver_connection
    if dialect == "postgresql":
        buf = io.BytesIO()
        # Arrow's CSV writer renders in C; it quotes every string and leaves nulls bare, which is how
        # PostgreSQL's CSV COPY tells an empty string ("") from a null ().
        pacsv.write_csv(_arrow_table(frame[cols], types), buf,
                        pacsv.WriteOptions(include_header=False, quoting_style="needed"))
        buf.seek(0)
        names = ", ".join(f'"{c}"' for c in cols)
        with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({names}) FROM STDIN WITH (FORMAT csv)") as copy:
            while chunk := buf.read(1 << 20):
                copy.write(chunk)
    else:
        rendered = _as_text(frame[cols], types, dialect)
        sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        rows = rendered.itertuples(index=False, name=None)
        cur = raw.cursor()
        while batch := list(itertools.islice(rows, BATCH)):
            cur.executemany(sql, batch)
        cur.close()
    return len(frame)


def analyze(session: Session, table: Table) -> None:
    """Give PostgreSQL's planner the size and spread of a table just filled (autovacuum never analyses
    temporary tables, and a plan guessed for a few hundred rows is wrong for a million)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ANALYZE {table.name}"))


def sort_memory(session: Session, megabytes: int = 256) -> None:
    """Let this transaction's set-based checks sort and hash in memory rather than spill to disk
    (PostgreSQL's default of 4 MB spills at a few tens of thousands of rows). Ends with the transaction."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SET LOCAL work_mem = '{int(megabytes)}MB'"))


def stage(session: Session, name: str, frame: pd.DataFrame, columns: dict[str, TypeEngine]) -> Table:
    """A temporary table holding `frame`, typed as `columns`."""
    table = temp_table(session, name, columns)
    insert_frame(session, table, frame)
    analyze(session, table)
    return table


def fill(session: Session, name: str, columns: dict[str, TypeEngine], statement) -> Table:
    """A temporary table holding the rows of `statement` (its columns in the order of `columns`)."""
    table = temp_table(session, name, columns)
    session.execute(table.insert().from_select(list(columns), statement))
    analyze(session, table)
    return table


def read_frame(session: Session, statement, columns: list[str] | None = None) -> pd.DataFrame:
    """Run a select (as Core, without ORM row handling) and return its rows as a frame."""
    result = session.connection().execute(statement)
    return pd.DataFrame(result.all(), columns=columns or list(result.keys()))


def read_text_frame(session: Session, statement, dtypes: dict[str, str],
                    nullable: tuple[str, ...] = ()) -> pd.DataFrame:
    """The rows of a select whose columns are integers and text (dates and instants as text), typed as
    `dtypes` — for reads of a million rows. PostgreSQL streams them with COPY … TO STDOUT into pandas'
    C CSV reader instead of building a Python object per value; SQLite reads in process as read_frame.
    Text columns named in `nullable` come back None where they are NULL or empty (the two are one to
    their readers). The statement's parameters must be plain values (they are rendered into the COPY)."""
    conn = session.connection()
    names = list(dtypes)
    if conn.dialect.name != "postgresql":
        frame = read_frame(session, statement, names)
        for c in nullable:
            frame[c] = frame[c].where(frame[c].notna() & (frame[c] != ""), None)
        return frame.astype({c: t for c, t in dtypes.items() if t != "str"})
    sql = str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    buf = io.BytesIO()
    with conn.connection.driver_connection.cursor() as cur, cur.copy(
            f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
        for chunk in copy:
            buf.write(chunk)
    if not buf.tell():
        return pd.DataFrame({c: pd.Series(dtype=object if t == "str" else t) for c, t in dtypes.items()})
    buf.seek(0)
    frame = pd.read_csv(buf, header=None, names=names, dtype={c: (object if t == "str" else t)
                                                              for c, t in dtypes.items()}, keep_default_na=False)
    for c in nullable:
        frame[c] = frame[c].where(frame[c] != "", None)
    return frame


TEXT, FEN, DATE_T, INSTANT, ID = Text(), BigInteger(), Date(), UTCDateTime(), BigInteger()
