"""Amounts as integer minor units of their currency; exact, never float.

Minor units follow ISO 4217. Every currency not listed below has two decimals, which covers
CNY, EUR, USD, GBP, PLN, CHF, SEK, the pre-euro DEM and HUF: ISO 4217 gives the forint two
decimals and the MT940 files we read write them ("25170637,10"), so a HUF amount is held in
fillér even though the coin no longer exists.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV",
         "XAF", "XOF", "XPF"),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}

# A plain non-negative decimal as XML schema and bank files write it: no sign, no exponent.
_PLAIN = re.compile(r"\d{1,18}(?:\.\d{0,18})?")


def exponent(currency: str | None) -> int:
    """How many decimals the currency has (2 where ISO 4217 says nothing else)."""
    return EXPONENTS.get((currency or "").upper(), 2)


def to_minor(value: Decimal, currency: str | None) -> int:
    """Decimal amount -> integer minor units; ValueError when it is not a whole number of them.

    Trailing zeros are harmless ("8.850" EUR is 885 cents); a non-zero digit past the
    currency's decimals ("8.855" EUR) is an error, never rounded.
    """
    if not value.is_finite():
        raise ValueError(f"{value} is not an amount")
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more decimals than {currency or 'the currency'} allows "
                         f"({exponent(currency)})")
    return int(scaled)


def parse_plain(text: str | None, currency: str | None) -> int:
    """A non-negative decimal string ("8.85", "200000") -> minor units; ValueError otherwise."""
    t = (text or "").strip()
    if not _PLAIN.fullmatch(t):
        raise ValueError(f"{text!r} is not a plain decimal amount")
    try:
        return to_minor(Decimal(t), currency)
    except InvalidOperation as e:  # pragma: no cover - the pattern admits only valid decimals
        raise ValueError(f"{text!r} is not a decimal amount") from e


def format_minor(minor: int, currency: str | None) -> str:
    """Minor units -> decimal string with two decimals, or the currency's own if it has more.

    123450 CNY -> "1234.50"; 2700 JPY -> "2700.00"; 1234 KWD -> "1.234". Signs are kept.
    """
    exp = exponent(currency)
    decimals = max(2, exp)
    scaled = abs(int(minor)) * 10 ** (decimals - exp)
    whole, part = divmod(scaled, 10**decimals)
    sign = "-" if minor < 0 else ""
    return f"{sign}{whole}.{part:0{decimals}d}"


def yuan_column(values: pd.Series, *, signed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Column-wise: yuan text with at most 13 integer digits and two decimals (ASCII digits, a leading minus
    only when `signed`) -> (integer fen, mask of the values that are such amounts; their fen is 0).
    Computed in Arrow, without a Python object per value."""
    text = pa.array(values.astype(object).where(values.notna(), None), type=pa.string())
    sign = "(?P<sign>-?)" if signed else "(?P<sign>)"
    parts = pc.extract_regex(text, rf"^{sign}(?P<whole>[0-9]{{1,13}})(?:\.(?P<frac>[0-9]{{1,2}}))?$")
    ok = pc.fill_null(pc.is_valid(parts), False)
    whole = pc.fill_null(pc.cast(pc.struct_field(parts, "whole"), pa.int64()), 0)
    frac = pc.fill_null(pc.cast(pc.utf8_rpad(pc.struct_field(parts, "frac"), 2, "0"), pa.int64()), 0)
    fen = pc.add(pc.multiply(whole, 100), frac)
    fen = pc.if_else(pc.fill_null(pc.equal(pc.struct_field(parts, "sign"), "-"), False), pc.negate(fen), fen)
    return fen.to_numpy(zero_copy_only=False).astype("int64"), ok.to_numpy(zero_copy_only=False).astype(bool)
