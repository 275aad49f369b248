"""The frames the engine reads, and how an as-of date cuts them.

An as-of date D is a business date: the engine sees what was known at the close of D in the business
time zone. Bills issued on or before D, events that occurred on or before D, and payments and
allocations at an instant before the next local midnight. Dates are handled as integer day numbers
(days since 1970-01-01) so that every comparison is a vectorised integer comparison.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping

import numpy as np
import pandas as pd

DEFAULT_TZ = "Asia/Shanghai"

CUSTOMER_COLUMNS = ("customer_id", "customer_class", "grid", "opened_on")
BILL_COLUMNS = ("bill_id", "customer_id", "period", "kwh", "amount_fen", "issued_on", "due_on")
PAYMENT_COLUMNS = ("payment_id", "customer_id", "amount_fen", "paid_at")
ALLOCATION_COLUMNS = ("payment_id", "bill_id", "customer_id", "amount_fen", "allocated_at")
EVENT_COLUMNS = ("customer_id", "kind", "occurred_on")


@dataclasses.dataclass(frozen=True)
class Frames:
    """Everything the engine reads, one frame per table, each loadable by one set-based query.

    customers: customer_id, customer_class, grid, opened_on
    bills: bill_id, customer_id, period ('YYYY-MM'), kwh, amount_fen (int64), issued_on, due_on
    payments: payment_id, customer_id, amount_fen, paid_at (UTC), channel (optional)
    allocations: payment_id, bill_id, customer_id, amount_fen, allocated_at (UTC), oldest bill first
    events: customer_id, kind, occurred_on, amount_fen (nullable)
    security (optional): customer_id, deposit_fen, guarantee_fen (held and callable), optional held_on and
        released_on (without them the rows are taken as held at every as-of); absent means none
    rating (optional): customer_id, grade, points, rated_on (optional) from the rule-based credit rating
    ledger (optional): customer_id, kind, amount_fen, effective_on: the account's movements other than bills and
        payments (late-payment penalties, write-offs, adjustments), signed as the ledger signs them (positive
        owes more). With them a customer's balance is the ledger's own (含违约金); without them it is billed
        minus paid.
    """

    customers: pd.DataFrame
    bills: pd.DataFrame
    payments: pd.DataFrame
    allocations: pd.DataFrame
    events: pd.DataFrame | None = None
    security: pd.DataFrame | None = None
    rating: pd.DataFrame | None = None
    ledger: pd.DataFrame | None = None

    @classmethod
    def of(cls, frames: Frames | Mapping[str, pd.DataFrame | None]) -> Frames:
        """Accept a Frames or a mapping of table name to frame; check the required columns once."""
        if not isinstance(frames, Frames):
            frames = cls(**{f.name: frames.get(f.name) for f in dataclasses.fields(cls)})
        for name, columns in (("customers", CUSTOMER_COLUMNS), ("bills", BILL_COLUMNS),
                              ("payments", PAYMENT_COLUMNS), ("allocations", ALLOCATION_COLUMNS),
                              ("events", EVENT_COLUMNS)):
            frame = getattr(frames, name)
            if frame is None and name == "events":
                continue
            if frame is None:
                raise ValueError(f"frames.{name} is required")
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise ValueError(f"frames.{name} lacks column(s) {', '.join(missing)}")
        return frames


def as_of_day(as_of: datetime.date | str | pd.Timestamp) -> int:
    """The as-of business date as a day number."""
    return int(np.datetime64(pd.Timestamp(as_of).date(), "D").astype(np.int64))


def day_to_date(day: int) -> datetime.date:
    """A day number back to a date."""
    return datetime.date(1970, 1, 1) + datetime.timedelta(days=int(day))


def day_end_utc(day: int | np.ndarray, tz: str) -> np.ndarray:
    """The UTC instants (datetime64[ns]) of the local midnights that end the given days (exclusive bounds)."""
    days = np.atleast_1d(np.asarray(day, dtype=np.int64))
    distinct, inverse = np.unique(days, return_inverse=True)
    local = pd.DatetimeIndex((distinct + 1).astype("datetime64[D]").astype("datetime64[ns]"))
    utc = local.tz_localize(tz, ambiguous=False, nonexistent="shift_forward").tz_convert("UTC").tz_localize(None)
    return utc.to_numpy()[inverse]


def dates_to_days(values: pd.Series | np.ndarray) -> np.ndarray:
    """Naive dates or datetimes (business dates) as day numbers."""
    return np.asarray(values, dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)


def instants_to_utc(values: pd.Series) -> np.ndarray:
    """Time-zone-aware instants as naive UTC datetime64[ns] (a naive column is taken to be UTC already)."""
    series = pd.Series(values)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series.to_numpy(dtype="datetime64[ns]")


def instants_to_local_days(values: pd.Series, tz: str) -> np.ndarray:
    """Instants as day numbers of the business dates they fall on in tz."""
    series = pd.Series(values)
    if not isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_localize("UTC")
    return dates_to_days(series.dt.tz_convert(tz).dt.tz_localize(None))


def period_months(period: pd.Series) -> np.ndarray:
    """'YYYY-MM' billing periods as month numbers (months since 1970-01); parsed once per distinct period."""
    codes, uniques = pd.factorize(pd.Series(period), sort=False)
    months = pd.to_datetime(pd.Index(uniques), format="%Y-%m").to_numpy().astype("datetime64[M]").astype(np.int64)
    return months[codes]
