"""Money: integer fen inside, decimal yuan strings outside. No float ever holds an amount."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from reconciliation.formats.money import yuan_column
from recovery.errors import Invalid

# At most two decimals, no exponent, no thousands separators; 13 integer digits is far above any bill.
# ASCII digits only: Python's \d also takes full-width and other scripts' digits ("１２.００").
YUAN = re.compile(r"^(-?)(\d{1,13})(?:\.(\d{1,2}))?\Z", re.ASCII)
# A non-negative amount as an API schema takes it, anchored with \Z: "$" would let "1.00\n" through.
YUAN_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,2})?\Z"


def parse_yuan(text: str, *, allow_negative: bool = False) -> int:
    """'1234.5' -> 123450 fen; raises Invalid for anything that is not an exact yuan amount."""
    m = YUAN.match(text.strip()) if isinstance(text, str) else None
    if not m or (m.group(1) and not allow_negative):
        raise Invalid(f"not a yuan amount with at most two decimals: {text!r}")
    fen = int(m.group(2)) * 100 + int((m.group(3) or "0").ljust(2, "0"))
    return -fen if m.group(1) else fen


def format_yuan(fen: int, *, grouped: bool = False) -> str:
    """123450 -> '1234.50' ('1,234.50' grouped, for pages); negative amounts keep their sign."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{part:02d}" if grouped else f"{sign}{whole}.{part:02d}"


def parse_yuan_series(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised parse_yuan for imports: (fen as int64, mask of valid entries). Negative values are invalid."""
    return yuan_column(values.astype("string[pyarrow]").str.strip(), signed=False)


def format_yuan_array(fen: np.ndarray | pd.Series) -> pd.Series:
    """Vectorised format_yuan: integer fen to '1234.50' strings, by integer division."""
    arr = np.asarray(fen, dtype="int64")
    sign = np.where(arr < 0, "-", "")
    whole, part = np.divmod(np.abs(arr), 100)
    return pd.Series(sign).str.cat(pd.Series(whole.astype(str))).str.cat(
        pd.Series(part.astype(str)).str.zfill(2), sep="."
    )



def prorate_half_up(amount: np.ndarray | pd.Series | int, part: np.ndarray | pd.Series | int,
                    whole: np.ndarray | pd.Series | int) -> np.ndarray:
    """Element-wise amount × part / whole, rounded to a whole number with halves up (ROUND_HALF_UP), exactly.

    For non-negative amounts and parts and positive wholes. The arithmetic is on Python integers: the
    product never overflows int64, and no float lands a half on the wrong side.
    """
    a, p, w = (np.asarray(x, dtype="int64").astype(object) for x in (amount, part, whole))
    return np.asarray((2 * a * p + w) // (2 * w)).astype("int64")


def check_currency(found: set[str], expected: str, what: str, setting: str = "[reconcile.accounts]") -> None:
    """Refuse a file whose amounts are in another currency than its account's (they are not fen of yuan)."""
    other = sorted(c for c in found if c and c != expected)
    if other:
        raise Invalid(f"{what} is in {', '.join(other)}, but its account is kept in {expected} (set in {setting}); "
                      f"nothing was taken in", code="currency_mismatch")
