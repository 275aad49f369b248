"""The `area-readings` import: the energy each transformer area's meter measured going into the area in a month.

CSV `area`, `period` (YYYY-MM), `kwh_delivered` (>= 0). The natural key is (area, period). Like every import it is
atomic and idempotent: the same reading again changes nothing. A reading already stored for an area and month with
another figure is refused (`…already imported with kwh_delivered 1200`), not overwritten: an area meter's month is
read once, and a correction that silently replaced it would move a loss rate (and the suspect list built on it)
with nothing to show why. An area no customer was assigned to is refused too: a typo in an area code would
otherwise become an area whose every kWh counts as loss.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import and_, exists, func, insert, literal, select
from sqlalchemy.orm import Session

from recovery import bulk, csvfile
from recovery.columns import Checker
from recovery.errors import ImportRejected
from recovery.loss.models import Area, AreaReading
from recovery.timeutil import now

KEY = ["area", "period"]


def parse(path: Path, source: str | None = None) -> pd.DataFrame:
    """Read and check an area-readings file."""
    source = source or str(path)
    raw = csvfile.read(path, required=("area", "period", "kwh_delivered"))
    ck = Checker(raw)
    frame = pd.DataFrame({
        "area": ck.code("area"),
        "period": ck.period("period"),
        "kwh_delivered": ck.number("kwh_delivered"),
        "line": raw["line"],
    })
    frame = ck.duplicates(frame, KEY, ["kwh_delivered"], "period")
    if ck.errors:
        raise ImportRejected(ck.messages(source))
    return frame


def load(session: Session, frame: pd.DataFrame, source: str = "area-readings") -> int:
    """Store new readings; returns how many. Unknown areas and changed readings are refused, nothing stored."""
    staged = bulk.stage(session, "stage_area_readings", frame, {
        "line": bulk.ID, "area": bulk.TEXT, "period": bulk.TEXT, "kwh_delivered": AreaReading.kwh_delivered.type,
    })
    s = staged.c
    errors = [(line, "area", f"unknown area {code} (import the customers assigned to it first)")
              for line, code in session.execute(select(s.line, s.area).where(~exists().where(Area.code == s.area)))]
    same_key = and_(AreaReading.area_id == Area.id, AreaReading.period == s.period)
    rows = session.execute(
        select(s.line, s.area, s.period, AreaReading.kwh_delivered).join(Area, Area.code == s.area)
        .join(AreaReading, same_key).where(AreaReading.kwh_delivered != s.kwh_delivered)).all()
    errors += [(line, "kwh_delivered", f"{area} {period} already imported with kwh_delivered {_kwh(stored)}")
               for line, area, period, stored in rows]
    if errors:
        raise ImportRejected([f"{source}:{line}: {column}: {reason}" for line, column, reason in sorted(errors)])
    new = ~exists().where(same_key)
    inserted = session.scalar(select(func.count()).select_from(staged.join(Area, Area.code == s.area)).where(new))
    session.execute(insert(AreaReading).from_select(
        ["area_id", "period", "kwh_delivered", "created_at"],
        select(Area.id, s.period, s.kwh_delivered, literal(now(), AreaReading.created_at.type))
        .join(Area, Area.code == s.area).where(new)))
    return int(inserted or 0)


def _kwh(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")
