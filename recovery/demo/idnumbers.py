"""Vectorised generation of valid PRC identity numbers: resident IDs and unified social credit codes."""

from __future__ import annotations

import datetime

import numpy as np
from numpy.dtypes import StringDType

# Real county-level area codes (GB/T 2260) with the first year each was in use. A resident ID's
# area code must have existed in the holder's birth year (python-stdnum checks exactly that), so a
# person born in 1960 gets one of the codes that already existed then.
AREA_CODES = np.array([
    110101, 110105, 110108, 310104, 310107, 310110, 330122, 330127, 350121, 430121, 510121,
    330324, 330102, 330105, 330106, 330203, 330421, 330602, 320102, 440106, 330381, 330282,
    330782, 320583, 330182, 440306, 330108, 330109, 330110,
], dtype=np.int64)
AREA_FROM_YEAR = np.array([
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1981, 1983, 1983, 1983, 1983, 1983, 1983, 1983, 1985, 1989, 1989,
    1989, 1989, 1992, 1992, 1996, 2001, 2001,
], dtype=np.int64)

_RIC_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_RIC_CHECK = np.frombuffer(b"0123456789X", dtype=np.uint8)

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_CHARS = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)
_USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28], dtype=np.int64)
_ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)

_STR = StringDType()


def digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers as an (n, width) matrix of ASCII codes."""
    rest = np.asarray(values, dtype=np.int64).ravel()
    out = np.empty((rest.size, width), dtype=np.uint8)
    for position in range(width - 1, -1, -1):  # one pass per digit position, vectorised over rows
        rest, digit = np.divmod(rest, 10)
        out[:, position] = digit + 48
    return out


def ascii_text(matrix: np.ndarray) -> np.ndarray:
    """Rows of an (n, width) ASCII matrix as an object array of str (one C-level pass, no Python loop)."""
    matrix = np.ascontiguousarray(matrix, dtype=np.uint8)
    n, width = matrix.shape
    if n == 0:
        return np.empty(0, dtype=object)
    return matrix.view(f"S{width}").ravel().astype(_STR).astype(object)


def ric_check_characters(first17: np.ndarray) -> np.ndarray:
    """ISO 7064 MOD 11-2 check characters (ASCII codes) for an (n, 17) matrix of digit values."""
    total = first17.astype(np.int64) @ _RIC_WEIGHTS
    return _RIC_CHECK[(12 - total % 11) % 11]


def org_code_check_characters(body8: np.ndarray) -> np.ndarray:
    """GB 11714 check characters (ASCII codes) for an (n, 8) matrix of character values (0-35)."""
    c = 11 - (body8.astype(np.int64) @ _ORG_WEIGHTS) % 11
    return np.where(c == 10, ord("X"), np.where(c == 11, ord("0"), c + 48)).astype(np.uint8)


def uscc_check_characters(first17: np.ndarray) -> np.ndarray:
    """GB 32100 check characters (ASCII codes) for an (n, 17) matrix of alphabet indices (0-30)."""
    total = first17.astype(np.int64) @ _USCC_WEIGHTS
    return _USCC_CHARS[(31 - total % 31) % 31]


def random_birth_dates(rng: np.random.Generator, n: int, *, as_of: datetime.date,
                       min_age: int = 18, max_age: int = 85) -> np.ndarray:
    """Birth dates (datetime64[D]) of adults aged min_age to max_age on as_of."""
    end = np.datetime64(as_of, "D") - int(365.25 * min_age)
    start = end - round(365.25 * (max_age - min_age))
    return start + rng.integers(0, (end - start).astype(np.int64), size=n)


def resident_ids(rng: np.random.Generator, birth_dates: np.ndarray) -> np.ndarray:
    """18-character resident IDs (GB 11643) for the given birth dates, as an object array of str."""
    birth = np.asarray(birth_dates, dtype="datetime64[D]")
    n = birth.size
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    month_start = birth.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12 + 1
    day = (birth - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    # pick uniformly among the area codes that already existed in the birth year
    usable = np.searchsorted(AREA_FROM_YEAR, year, side="right")
    area = AREA_CODES[(rng.random(n) * usable).astype(np.int64)]
    sequence = rng.integers(1, 1000, size=n)
    body = np.concatenate([digits(area, 6), digits(year * 10000 + month * 100 + day, 8),
                           digits(sequence, 3)], axis=1)
    check = ric_check_characters(body - 48)
    return ascii_text(np.concatenate([body, check[:, None]], axis=1))


def credit_codes(rng: np.random.Generator, authority: np.ndarray, entity_type: np.ndarray) -> np.ndarray:
    """18-character unified social credit codes (GB 32100-2015) as an object array of str.

    authority and entity_type are per-row digits (e.g. 9/1 for a company registered with market
    regulation, 9/3 for a farmers' cooperative, 1/1 for a government organ). The embedded 9-character
    organisation code carries its own GB 11714 check character.
    """
    authority = np.asarray(authority, dtype=np.int64)
    entity_type = np.asarray(entity_type, dtype=np.int64)
    n = authority.size
    region = AREA_CODES[rng.integers(0, AREA_CODES.size, size=n)]
    org_body = rng.integers(0, 10, size=(n, 8))
    org_check = org_code_check_characters(org_body)
    head = np.concatenate([(authority + 48)[:, None].astype(np.uint8),
                           (entity_type + 48)[:, None].astype(np.uint8),
                           digits(region, 6), (org_body + 48).astype(np.uint8), org_check[:, None]], axis=1)
    # map the ASCII characters to alphabet indices: digits are themselves, 'X' (org check) is 29
    values = np.where(head == ord("X"), USCC_ALPHABET.index("X"), head.astype(np.int64) - 48)
    check = uscc_check_characters(values)
    return ascii_text(np.concatenate([head, check[:, None]], axis=1))
