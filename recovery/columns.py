"""Vectorised checks of import columns. Each check records `(line, column, reason)` for bad rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from recovery import bounds
from recovery.money import parse_yuan_series


def valid_identity(number: str) -> bool:
    """An 18-character resident ID or unified social credit code with correct check characters."""
    if not number:
        return False
    return uscc.is_valid(number) or _valid_resident_id(number)


def _valid_resident_id(number: str) -> bool:
    try:
        ric.validate(number)
        return True
    except ValidationError:
        return False
    except LookupError:
        # python-stdnum's area table lacks the county part of some codes and raises instead of
        # answering; the check character and the birth date still decide.
        try:
            return ric.calc_check_digit(number[:-1]) == number[-1] and bool(ric.get_birth_date(number))
        except (ValidationError, ValueError):
            return False


def flag(values) -> np.ndarray:
    """A plain boolean array from a mask that may be nullable (missing counts as false)."""
    if isinstance(values, pd.Series) and values.dtype != bool:
        values = values.fillna(False)
    return np.asarray(values, dtype=bool)


def _shown(value: str) -> str:
    value = str(value)
    return repr(value if len(value) <= 40 else value[:40] + "…")


class Checker:
    """Collects row errors for one frame; every check returns the parsed column."""

    def __init__(self, frame: pd.DataFrame, names: dict[str, str] | None = None):
        self.frame = frame
        self.errors: list[tuple[int, str, str]] = []
        # A frame column's name in the file, where csvfile.read renamed it (errors name the file's column).
        self.names = names or {}

    def fail(self, mask: np.ndarray | pd.Series, column: str, reason: str | pd.Series) -> None:
        """Record `reason` (a text, or a per-row series of texts) for every row where mask is true."""
        mask = flag(mask)
        if not mask.any():
            return
        lines = self.frame["line"].to_numpy()[mask]
        reasons = reason[mask].tolist() if isinstance(reason, pd.Series) else [reason] * int(mask.sum())
        column = self.names.get(column, column)
        self.errors.extend(zip(lines.tolist(), [column] * len(reasons), reasons, strict=True))

    def _bad(self, mask: np.ndarray, column: str, what: str) -> None:
        mask = flag(mask)
        if mask.any():  # render the offending values only: imports are mostly clean
            shown = self.frame[column][mask].map(_shown)
            self.fail(mask, column, pd.Series(what + ": " + shown.to_numpy(), index=self.frame.index[mask])
                      .reindex(self.frame.index))

    def text(self, column: str, *, required: bool = True, max_len: int = 200) -> pd.Series:
        """A free-text column: required ones may not be empty; control characters are refused."""
        s = self.frame[column]
        empty = flag(s == "")
        if required:
            self.fail(empty, column, "required")
        self.fail(~empty & flag(s.str.len() > max_len), column, f"longer than {max_len} characters")
        self.fail(flag(s.str.contains(r"[\x00-\x1f\x7f]", regex=True)), column,
                  "contains control characters")
        return s.where(~empty, None)

    def code(self, column: str, *, required: bool = True, max_len: int = 32) -> pd.Series:
        """An identifier from the source system: printable, no spaces, kept verbatim."""
        s = self.frame[column]
        empty = flag(s == "")
        if required:
            self.fail(empty, column, "required")
        bad = ~empty & ~flag(s.str.fullmatch(rf"[A-Za-z0-9_.:/-]{{1,{max_len}}}"))
        self._bad(bad, column, f"not an identifier (letters, digits, _ . : / -, at most {max_len})")
        return s.where(~empty, None)

    def choice(self, column: str, allowed: Iterable[str]) -> pd.Series:
        allowed = list(allowed)
        s = self.frame[column]
        self._bad(~flag(s.isin(allowed)), column, "must be one of " + ", ".join(allowed))
        return s

    def yuan(self, column: str, *, required: bool = True, positive: bool = False) -> pd.Series:
        """A yuan amount with at most two decimals, as integer fen (nullable Int64 when optional)."""
        s = self.frame[column]
        empty = flag(s == "")
        fen, ok = parse_yuan_series(s)
        if required:
            self.fail(empty, column, "required")
        self._bad(~empty & ~ok, column, "not a non-negative yuan amount with at most two decimals")
        if positive:
            self.fail(~empty & ok & (fen <= 0), column, "must be greater than 0")
        out = pd.Series(fen, index=s.index, dtype="Int64")
        return out.mask(empty | ~ok)

    def date(self, column: str, *, required: bool = True) -> pd.Series:
        s = self.frame[column]
        empty = flag(s == "")
        parsed = pd.to_datetime(s.where(~empty, None), format="%Y-%m-%d", errors="coerce")
        if required:
            self.fail(empty, column, "required")
        self._bad(~empty & flag(parsed.isna()), column, "not a date (YYYY-MM-DD)")
        return self._in_calendar(parsed, column)

    def _in_calendar(self, parsed: pd.Series, column: str) -> pd.Series:
        """Dates the service computes with (recovery.bounds: 1900-01-01 to 2199-12-31); others are refused."""
        days = parsed.dt.tz_localize(None) if parsed.dt.tz is not None else parsed
        outside = flag(parsed.notna() & ((days < pd.Timestamp(bounds.DATE_MIN))
                                         | (days >= pd.Timestamp(bounds.DATE_MAX) + pd.Timedelta(days=1))))
        self._bad(outside, column, f"outside {bounds.DATE_MIN} to {bounds.DATE_MAX}")
        return parsed.where(~outside)

    def instant(self, column: str) -> pd.Series:
        """An ISO 8601 timestamp that carries its offset; returned in UTC."""
        s = self.frame[column]
        shaped = flag(s.str.fullmatch(
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})"
        ))
        parsed = pd.to_datetime(s.where(shaped, None), format="ISO8601", utc=True, errors="coerce")
        self._bad(flag(parsed.isna()), column, "not an ISO 8601 timestamp with an offset")
        return self._in_calendar(parsed, column)

    def number(self, column: str, *, minimum: float = 0.0) -> pd.Series:
        s = self.frame[column]
        shaped = flag(s.str.fullmatch(r"\d{1,12}(\.\d{1,6})?"))
        parsed = pd.to_numeric(s.where(shaped, None), errors="coerce")
        self._bad(~shaped | flag(parsed < minimum), column, f"not a number ≥ {minimum:g}")
        return parsed

    def period(self, column: str) -> pd.Series:
        s = self.frame[column]
        self._bad(~flag(s.str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])")), column, "not a period (YYYY-MM)")
        return s

    def identity(self, column: str) -> pd.Series:
        """An 18-character resident ID or unified social credit code, check digits verified."""
        s = self.frame[column].str.upper()
        empty = flag(s == "")
        valid = flag(s.map(valid_identity, na_action="ignore"))
        self._bad(~empty & ~valid, column, "not a valid resident ID or unified social credit code")
        return s.where(~empty, None)

    def not_after(self, earlier: pd.Series, later: pd.Series, column: str, reason: str) -> None:
        self.fail(flag(earlier > later), column, reason)

    def not_future(self, when: pd.Series, column: str, limit: dt.datetime | pd.Timestamp) -> None:
        self.fail(flag(when > limit), column, "lies in the future")

    def duplicates(self, frame: pd.DataFrame, key: list[str], content: list[str], column: str) -> pd.DataFrame:
        """Rows repeating a key earlier in the file: identical ones are dropped, others are errors."""
        dup = frame.duplicated(key, keep="first")
        if not dup.any():
            return frame
        first = frame.loc[~frame.duplicated(key, keep="first"), key + content + ["line"]]
        later = frame.loc[dup, key + content + ["line"]].merge(first, on=key, suffixes=("", "_first"))
        differs = np.zeros(len(later), dtype=bool)
        for c in content:
            a, b = later[c], later[c + "_first"]
            differs |= ~(flag(a == b) | flag(a.isna() & b.isna()))
        for line, first_line in later.loc[differs, ["line", "line_first"]].itertuples(index=False):
            self.errors.append((int(line), self.names.get(column, column),
                                f"same key as line {first_line} with different content"))
        return frame.loc[~dup]

    def messages(self, source: str) -> list[str]:
        return [f"{source}:{line}: {column}: {reason}" for line, column, reason in sorted(self.errors)]
